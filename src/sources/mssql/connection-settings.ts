/**
 * Where and how to log in to SQL Server: {@link MssqlConnectionOptions}, read from the
 * environment by {@link mssqlConnectionFromEnv} (an `MSSQL_URL`, or one `MSSQL_<ENV>_*` variable
 * per setting), and {@link describeMssqlTarget}, how messages name a server. No I/O beyond
 * reading the variables; the password never appears in messages or errors.
 */
import { CdcError, redactUrl } from '../../errors.js';

/** Where and how to log in to SQL Server (SQL Server authentication). */
export interface MssqlConnectionOptions {
  /** Host name or IP address (no `\instance` suffix: give the instance's TCP port instead). */
  readonly host: string;
  /** TCP port, default 1433. */
  readonly port?: number;
  /** SQL Server login name. */
  readonly user: string;
  /** The login's password; never shown in messages or errors. */
  readonly password: string;
  /** Database to open; CDC is enabled and cleaned in this one. */
  readonly database: string;
  /** Encrypt the connection with TLS (default true). */
  readonly encrypt?: boolean;
  /** Accept a certificate that does not chain to a trusted root, e.g. a development server's self-signed one (default false). */
  readonly trustServerCertificate?: boolean;
  /** Time allowed for TCP, TLS and login, in ms (default 15 000). */
  readonly connectTimeoutMs?: number;
  /**
   * Time allowed per batch, in ms (default 600 000; 0 waits forever). Cleaning a large change
   * table deletes in chunks and can take minutes; enabling a table waits for schema locks.
   */
  readonly requestTimeoutMs?: number;
}

/** SQL Server's default TCP port, used when a URL or the environment gives none. */
export const DEFAULT_MSSQL_PORT = 1433;
const URL_FORM = 'mssql://USER:PASSWORD@HOST:1433/DATABASE?encrypt=true&trustServerCertificate=false';

/** `MSSQL_<ENV>_` for an environment name: upper-cased, anything but A–Z and 0–9 becomes `_`. */
function envPrefix(env: string): string {
  return `MSSQL_${env.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

function parsePort(text: string, source: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65_535)) {
    throw new CdcError('CONFIG_INVALID', `${source}: port must be a number from 1 to 65535, not ${JSON.stringify(text)}`, {
      remedy: `fix the port; SQL Server listens on ${DEFAULT_MSSQL_PORT} unless configured otherwise`,
    });
  }
  return port;
}

function parseBoolean(text: string, source: string): boolean {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new CdcError('CONFIG_INVALID', `${source} must be true or false, not ${JSON.stringify(text)}`, { remedy: 'write true or false' });
}

function fromUrl(url: string): MssqlConnectionOptions {
  const shown = redactUrl(url);
  const invalid = (problem: string, cause?: unknown): CdcError =>
    new CdcError('CONFIG_INVALID', `MSSQL_URL ${JSON.stringify(shown)}: ${problem}`, { cause, remedy: `write it as ${URL_FORM}` });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw invalid('not a URL', cause);
  }
  if (parsed.protocol !== 'mssql:') throw invalid(`must start with mssql://, not ${parsed.protocol}//`);
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch (cause) {
      throw invalid(`the ${what} has a bad %-escape`, cause);
    }
  };
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] → ::1
  const user = decode(parsed.username, 'user');
  const password = decode(parsed.password, 'password');
  const database = decode(parsed.pathname.replace(/^\//, ''), 'database');
  const missing = [!host && 'host', !user && 'user', !password && 'password', !database && 'database'].filter(Boolean);
  if (missing.length > 0) throw invalid(`no ${missing.join(', ')}`);
  if (database.includes('/')) throw invalid('the path must be just the database name');
  let encrypt: boolean | undefined;
  let trustServerCertificate: boolean | undefined;
  for (const [key, value] of parsed.searchParams) {
    if (key === 'encrypt') encrypt = parseBoolean(value, 'MSSQL_URL encrypt');
    else if (key === 'trustServerCertificate') trustServerCertificate = parseBoolean(value, 'MSSQL_URL trustServerCertificate');
    else throw invalid(`unknown parameter ${JSON.stringify(key)} (known: encrypt, trustServerCertificate)`);
  }
  return {
    host,
    port: parsed.port ? parsePort(parsed.port, 'MSSQL_URL') : DEFAULT_MSSQL_PORT,
    user,
    password,
    database,
    ...(encrypt === undefined ? {} : { encrypt }),
    ...(trustServerCertificate === undefined ? {} : { trustServerCertificate }),
  };
}

/**
 * Connection settings for environment `env` (`--env`), from environment variables:
 * - `MSSQL_URL` (`mssql://user:password@host:port/database?encrypt=false`, user and password
 *   %-encoded; parameters `encrypt` and `trustServerCertificate`), when set, wins over the rest;
 * - otherwise `MSSQL_<ENV>_HOST`, `_PORT` (default 1433), `_USER`, `_PASSWORD`, `_DATABASE`, and
 *   optionally `_ENCRYPT` and `_TRUST_SERVER_CERTIFICATE` (true/false), where `<ENV>` is `env`
 *   upper-cased with anything but letters and digits turned into `_` (`ci-east` → `CI_EAST`).
 * Empty variables count as unset.
 * @param environ The variables to read, default `process.env`.
 * @throws {CdcError} CONFIG_INVALID naming every missing variable and what to export, or a
 *   malformed URL, port or flag (messages never show the password).
 */
export function mssqlConnectionFromEnv(env: string, environ: NodeJS.ProcessEnv = process.env): MssqlConnectionOptions {
  const url = environ.MSSQL_URL;
  if (url) return fromUrl(url);
  if (!/[A-Za-z0-9]/.test(env)) {
    throw new CdcError('CONFIG_INVALID', `--env must name an environment (letters or digits), not ${JSON.stringify(env)}`, {
      remedy: 'pass e.g. --env dev, or set MSSQL_URL',
    });
  }
  const prefix = envPrefix(env);
  const read = (suffix: string): string | undefined => environ[prefix + suffix] || undefined;
  const required = ['HOST', 'USER', 'PASSWORD', 'DATABASE'] as const;
  const missing = required.filter((suffix) => read(suffix) === undefined).map((suffix) => prefix + suffix);
  if (missing.length > 0) {
    throw new CdcError('CONFIG_INVALID', `no SQL Server connection for --env ${env}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set`, {
      remedy: `export ${missing.map((name) => `${name}=…`).join(' ')} (and ${prefix}PORT if not ${DEFAULT_MSSQL_PORT}), or MSSQL_URL=${URL_FORM}`,
      context: { missing },
    });
  }
  const port = read('PORT');
  const encrypt = read('ENCRYPT');
  const trust = read('TRUST_SERVER_CERTIFICATE');
  return {
    host: read('HOST')!,
    port: port === undefined ? DEFAULT_MSSQL_PORT : parsePort(port, `${prefix}PORT`),
    user: read('USER')!,
    password: read('PASSWORD')!,
    database: read('DATABASE')!,
    ...(encrypt === undefined ? {} : { encrypt: parseBoolean(encrypt, `${prefix}ENCRYPT`) }),
    ...(trust === undefined ? {} : { trustServerCertificate: parseBoolean(trust, `${prefix}TRUST_SERVER_CERTIFICATE`) }),
  };
}

/** `host:port/database`, how messages name a server (never with user or password). */
export function describeMssqlTarget(options: MssqlConnectionOptions): string {
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return `${host}:${options.port ?? DEFAULT_MSSQL_PORT}/${options.database}`;
}
