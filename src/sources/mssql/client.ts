/**
 * The I/O shell around {@link planEnableCdc} and {@link planCleanCdc}: connection settings from
 * the environment, a SQL Server session over the `mssql` package (tedious driver, pure
 * JavaScript TDS), and the enable-cdc / clean-cdc operations that read state, plan, then print
 * or execute. Connection and statement failures become {@link CdcError}s with a remedy.
 * @see https://tediousjs.github.io/node-mssql/
 */
import mssql from 'mssql';
import { CdcError, redactUrl } from '../../errors.js';
import type { TableId } from '../../schema/table.js';
import {
  checkCleanDays,
  DEFAULT_CLEAN_DAYS,
  planCleanCdc,
  planEnableCdc,
  READ_CDC_STATE_SQL,
  readTablesSql,
  renderTsqlScript,
  type CdcState,
  type MssqlTableRef,
  type TrackedTable,
  type TsqlPlan,
  type TsqlStep,
} from './cdc-admin.js';

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

const DEFAULT_PORT = 1433;
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;
const URL_FORM = 'mssql://USER:PASSWORD@HOST:1433/DATABASE?encrypt=true&trustServerCertificate=false';

/** `MSSQL_<ENV>_` for an environment name: upper-cased, anything but A–Z and 0–9 becomes `_`. */
function envPrefix(env: string): string {
  return `MSSQL_${env.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

function parsePort(text: string, source: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65_535)) {
    throw new CdcError('CONFIG_INVALID', `${source}: port must be a number from 1 to 65535, not ${JSON.stringify(text)}`, {
      remedy: `fix the port; SQL Server listens on ${DEFAULT_PORT} unless configured otherwise`,
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
    port: parsed.port ? parsePort(parsed.port, 'MSSQL_URL') : DEFAULT_PORT,
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
      remedy: `export ${missing.map((name) => `${name}=…`).join(' ')} (and ${prefix}PORT if not ${DEFAULT_PORT}), or MSSQL_URL=${URL_FORM}`,
      context: { missing },
    });
  }
  const port = read('PORT');
  const encrypt = read('ENCRYPT');
  const trust = read('TRUST_SERVER_CERTIFICATE');
  return {
    host: read('HOST')!,
    port: port === undefined ? DEFAULT_PORT : parsePort(port, `${prefix}PORT`),
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
  return `${host}:${options.port ?? DEFAULT_PORT}/${options.database}`;
}

/** An open connection to one database, for CDC administration. Close it when done. */
export interface MssqlSession {
  /** `host:port/database`, for messages. */
  readonly target: string;
  /** Reads whether CDC is on and which capture instances exist ({@link READ_CDC_STATE_SQL}). */
  readCdcState(): Promise<CdcState>;
  /**
   * Resolves table names against the catalog (database collation), returning them as the
   * catalog spells them, in the order given, with whether each has a primary key.
   * @throws {CdcError} TABLE_NOT_FOUND naming every table that does not exist.
   */
  readTables(tables: readonly TableId[]): Promise<MssqlTableRef[]>;
  /**
   * Runs one step as a single batch (no implicit transaction).
   * @returns The server's informational messages in order (PRINT output and notices such as
   *   "SQLServerAgent is not currently running"), without a trailing newline.
   * @throws {CdcError} PERMISSION_DENIED, CONNECTION_FAILED (retryable) when the connection
   *   is lost, or MSSQL_STATEMENT_FAILED with the server's error number and message.
   */
  execute(step: TsqlStep): Promise<string[]>;
  /** Closes the connection; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Server error numbers that mean a missing privilege: permission denied on an object or column
 * (229, 230), in a database (262), for an action (297, 300, 15247). The CDC procedures word theirs
 * as "not authorized … privileges are required", matched by message.
 * @see https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors
 */
const PERMISSION_ERRORS = new Set([229, 230, 262, 297, 300, 15247]);
/** Login-time error numbers: the database cannot be opened (4060); it does not exist (911). */
const DATABASE_ERRORS = new Set([4060, 911]);

function errorCode(error: unknown): string | undefined {
  return error && typeof error === 'object' && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Explains a failed `connect`: login errors by the server's error numbers (collected from the
 * login's error tokens; the driver keeps only the last message), everything else as unreachable.
 * Exported for tests.
 * @param loginErrorNumbers SQL Server error numbers seen during login, e.g. `[4060, 18456]`.
 * @returns CdcError DATABASE_NOT_FOUND (4060/911), AUTHENTICATION_FAILED (any other login
 *   error, e.g. 18456), or CONNECTION_FAILED (retryable, unless the server's TLS certificate
 *   was refused).
 */
export function explainMssqlConnectError(error: unknown, options: MssqlConnectionOptions, loginErrorNumbers: readonly number[]): CdcError {
  const target = describeMssqlTarget(options);
  const context = { host: options.host, port: options.port ?? DEFAULT_PORT, database: options.database, user: options.user, numbers: [...loginErrorNumbers] };
  const message = messageOf(error);
  if (loginErrorNumbers.some((n) => DATABASE_ERRORS.has(n)) || /Cannot open database/i.test(message)) {
    return new CdcError('DATABASE_NOT_FOUND', `SQL Server ${target}: cannot open database ${JSON.stringify(options.database)} as ${options.user} (${message})`, {
      cause: error,
      context,
      remedy: `create the database, fix its name, or give the login access to it (CREATE USER … FOR LOGIN …)`,
    });
  }
  if (errorCode(error) === 'ELOGIN' || loginErrorNumbers.length > 0) {
    return new CdcError('AUTHENTICATION_FAILED', `SQL Server ${target}: login failed for ${options.user} (${message})`, {
      cause: error,
      context,
      remedy: 'check the user and password, and that the server allows SQL Server authentication (mixed mode)',
    });
  }
  if (/certificate/i.test(message)) {
    return new CdcError('CONNECTION_FAILED', `cannot connect to SQL Server at ${target}: TLS certificate refused (${message})`, {
      cause: error,
      context,
      remedy: 'install a trusted certificate on the server, or for a development server set trustServerCertificate=true in MSSQL_URL (MSSQL_<ENV>_TRUST_SERVER_CERTIFICATE=true)',
    });
  }
  return new CdcError('CONNECTION_FAILED', `cannot connect to SQL Server at ${target}: ${message}`, {
    cause: error,
    context,
    retryable: true,
    remedy: 'check that SQL Server is running and accepts TCP connections on that host and port, and that no firewall is in the way',
  });
}

function explainStatementError(error: unknown, step: TsqlStep, target: string): CdcError {
  const code = errorCode(error);
  const number = error && typeof error === 'object' && 'number' in error && typeof error.number === 'number' ? error.number : undefined;
  const message = messageOf(error);
  const context = { target, step: step.description, sql: step.sql, number };
  if (code !== undefined && ['ESOCKET', 'ECONNCLOSED', 'ECONNRESET', 'ENOCONN'].includes(code)) {
    return new CdcError('CONNECTION_FAILED', `SQL Server ${target}: connection lost during "${step.description}": ${message}`, {
      cause: error,
      context,
      retryable: true,
      remedy: 'run the command again; every step checks what is already done',
    });
  }
  if ((number !== undefined && PERMISSION_ERRORS.has(number)) || /permission|not authorized|privileges are required/i.test(message)) {
    return new CdcError('PERMISSION_DENIED', `SQL Server ${target}: "${step.description}" was refused: ${message}`, {
      cause: error,
      context,
      remedy: 'enabling CDC on the database needs a sysadmin login; enabling and cleaning tables needs db_owner in the database',
    });
  }
  const timedOut = code === 'ETIMEOUT';
  return new CdcError('MSSQL_STATEMENT_FAILED', `SQL Server ${target}: "${step.description}" failed${number === undefined ? '' : ` (error ${number})`}: ${message}`, {
    cause: error,
    context,
    retryable: timedOut,
    remedy: timedOut
      ? 'the batch ran longer than requestTimeoutMs; run it again (steps resume where they stopped) or raise the timeout'
      : 'see the SQL Server message; CDC needs an edition that supports it (Enterprise, Standard, Developer) and no existing schema or user named cdc',
  });
}

type Row = Record<string, unknown>;

function sessionFor(pool: mssql.ConnectionPool, target: string): MssqlSession {
  let closed = false;
  const run = async (step: TsqlStep): Promise<{ recordsets: Row[][]; messages: string[] }> => {
    const request = pool.request();
    const messages: string[] = [];
    request.on('info', (info: { message: string }) => messages.push(info.message));
    try {
      const result = await request.batch<Row>(step.sql);
      const recordsets: Row[][] = result.recordsets ?? [];
      return { recordsets, messages };
    } catch (error) {
      throw explainStatementError(error, step, target);
    }
  };
  return {
    target,
    async readCdcState() {
      const { recordsets } = await run({ description: 'read the CDC state', sql: READ_CDC_STATE_SQL });
      const [databaseRows = [], trackedRows = []] = recordsets;
      const tracked = trackedRows.map(
        (row): TrackedTable => ({ schema: String(row.source_schema), name: String(row.source_name), captureInstance: String(row.capture_instance) }),
      );
      return { databaseEnabled: databaseRows[0]?.database_enabled === true, tracked };
    },
    async readTables(tables) {
      if (tables.length === 0) return [];
      const { recordsets } = await run({ description: 'look up the tables', sql: readTablesSql(tables) });
      const rows = recordsets[0] ?? [];
      const found: MssqlTableRef[] = [];
      const missing: string[] = [];
      tables.forEach((table, i) => {
        const row = rows.find((r) => r.ordinal === i);
        if (row && typeof row.table_name === 'string' && typeof row.table_schema === 'string') {
          found.push({ schema: row.table_schema, name: row.table_name, hasPrimaryKey: row.has_primary_key === true });
        } else missing.push(`${table.schema}.${table.name}`);
      });
      if (missing.length > 0) {
        throw new CdcError('TABLE_NOT_FOUND', `SQL Server ${target}: no table ${missing.join(', ')}`, {
          context: { target, missing },
          remedy: 'check the schema and table names (a name without a schema means dbo); views cannot be tracked',
        });
      }
      return found;
    },
    async execute(step) {
      return (await run(step)).messages;
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.close();
    },
  };
}

/**
 * Opens a session: one pooled connection (at most one at a time) to `options.database`.
 * The application name is `cdc-merge`, as `sys.dm_exec_sessions.program_name` shows it.
 * @throws {CdcError} CONNECTION_FAILED (retryable) when the server cannot be reached or the
 *   connect timeout passes, AUTHENTICATION_FAILED when the login is refused, DATABASE_NOT_FOUND
 *   when the database does not exist or the login may not open it. Messages name
 *   `host:port/database`, never the password.
 */
export async function connectMssql(options: MssqlConnectionOptions): Promise<MssqlSession> {
  const loginErrorNumbers: number[] = [];
  let connecting = true;
  const pool = new mssql.ConnectionPool({
    server: options.host,
    port: options.port ?? DEFAULT_PORT,
    user: options.user,
    password: options.password,
    database: options.database,
    connectionTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    pool: { min: 0, max: 1 },
    options: {
      encrypt: options.encrypt ?? true,
      trustServerCertificate: options.trustServerCertificate ?? false,
      appName: 'cdc-merge',
    },
    beforeConnect: (connection) => {
      connection.on('errorMessage', (token) => {
        if (connecting) loginErrorNumbers.push(token.number);
      });
    },
  });
  // The pool re-emits driver errors; without a listener an EventEmitter 'error' would crash the process.
  pool.on('error', () => undefined);
  try {
    await pool.connect();
  } catch (error) {
    await pool.close().catch(() => undefined);
    throw explainMssqlConnectError(error, options, loginErrorNumbers);
  } finally {
    connecting = false;
  }
  return sessionFor(pool, describeMssqlTarget(options));
}

/** Options for {@link enableCdc} and {@link cleanCdc}. */
export interface CdcAdminOptions {
  /** Read the state and print the script instead of executing it. */
  readonly dryRun: boolean;
  /** Receives one line at a time (no trailing newline): the script in a dry run, progress otherwise. */
  readonly log: (line: string) => void;
}

async function carryOut(session: MssqlSession, plan: TsqlPlan, options: CdcAdminOptions): Promise<TsqlPlan> {
  if (options.dryRun) {
    for (const line of renderTsqlScript(plan).replace(/\n$/, '').split('\n')) options.log(line);
    return plan;
  }
  for (const note of plan.skipped) options.log(`skip: ${note}`);
  if (plan.steps.length === 0) options.log('nothing to do');
  for (const step of plan.steps) {
    options.log(step.description);
    for (const message of await session.execute(step)) options.log(`  ${message}`);
  }
  return plan;
}

/**
 * enable-cdc: resolves `tables` in the catalog (so `hasPrimaryKey` is read from the server
 * whatever the caller passed), reads the CDC state, plans with {@link planEnableCdc}, then prints
 * the script (`dryRun`) or runs each step in order, logging its description and server messages.
 * Stops at the first failing step; steps already run stay done, and a rerun skips them.
 * @returns The plan: steps run (or printed) and notes for tables already tracked.
 * @throws {CdcError} TABLE_NOT_FOUND, PERMISSION_DENIED, CONNECTION_FAILED, MSSQL_STATEMENT_FAILED.
 */
export async function enableCdc(session: MssqlSession, tables: readonly TableId[], options: CdcAdminOptions): Promise<TsqlPlan> {
  const refs = await session.readTables(tables);
  const state = await session.readCdcState();
  return carryOut(session, planEnableCdc(refs, state), options);
}

/** Options for {@link cleanCdc}. */
export interface CleanCdcOptions extends CdcAdminOptions {
  /** Delete change rows committed more than this many days ago (default {@link DEFAULT_CLEAN_DAYS}). */
  readonly days?: number;
}

/**
 * clean-cdc: for the capture instances of `tables` (resolved in the catalog first), or of every
 * tracked table for `'all'`, plans with {@link planCleanCdc} and prints or runs the steps like
 * {@link enableCdc}. A capture instance with nothing old enough logs the server's note.
 * @returns The plan: steps run (or printed) and notes for tables that are not tracked.
 * @throws {CdcError} CONFIG_INVALID for bad `days`, TABLE_NOT_FOUND, PERMISSION_DENIED,
 *   CONNECTION_FAILED, MSSQL_STATEMENT_FAILED.
 */
export async function cleanCdc(session: MssqlSession, tables: readonly TableId[] | 'all', options: CleanCdcOptions): Promise<TsqlPlan> {
  const days = options.days ?? DEFAULT_CLEAN_DAYS;
  checkCleanDays(days); // before any I/O
  const resolved = tables === 'all' ? 'all' : await session.readTables(tables);
  const state = await session.readCdcState();
  return carryOut(session, planCleanCdc(resolved, state, days), options);
}
