/**
 * Opening PostgreSQL connections with errors a user can act on: a bad URL, an unreachable
 * server, a failed login or a missing database each get their own code and remedy.
 */
import pg from 'pg';
import { CdcError, redactUrl, sqlState } from '../errors.js';

/**
 * Session settings every cdc-merge connection pins, so that values never depend on either
 * server's configuration (issue 11 item 10): PostgreSQL's own walreceiver pins the first three
 * for logical replication (`datestyle=ISO`, `intervalstyle=postgres`, `extra_float_digits=3`, in
 * libpqwalreceiver.c), because pgoutput and COPY render values in the session's styles and a
 * database default such as `DateStyle = 'SQL, DMY'` or `extra_float_digits = 0` would change
 * dates and lose float digits. `bytea_output=hex` is what the typed decoder reads, and
 * `standard_conforming_strings=on` is what the generated SQL's literals (`'\x'::bytea`) assume.
 * node-postgres already sets `client_encoding=UTF8`. Passed as the `options` startup parameter.
 * @see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-OPTIONS
 */
export const SESSION_OPTIONS = '-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c bytea_output=hex -c standard_conforming_strings=on';

/** Options for {@link connectPostgres}. */
export interface ConnectOptions {
  /** What this connection is for, used in messages: `source` or `target`. */
  readonly role: string;
  /** `database` opens a logical replication connection (walsender). */
  readonly replication?: 'database';
  /** Shown in pg_stat_activity. */
  readonly applicationName?: string;
  /** Connection timeout in ms (default 10 000). */
  readonly connectTimeoutMs?: number;
}

/**
 * Checks that `url` is a PostgreSQL connection URL.
 * @throws {CdcError} CONFIG_INVALID naming the role and what is wrong.
 */
export function validatePostgresUrl(url: string, role: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new CdcError('CONFIG_INVALID', `--${role} is not a URL: ${JSON.stringify(redactUrl(url))}`, {
      cause,
      remedy: `write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
    });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new CdcError('CONFIG_INVALID', `--${role} must be a postgres:// URL, not ${parsed.protocol}//`, {
      remedy: `write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
    });
  }
}

/**
 * Connects, translating failures.
 * @throws {CdcError} CONFIG_INVALID, CONNECTION_FAILED (retryable), AUTHENTICATION_FAILED,
 *   DATABASE_NOT_FOUND, PERMISSION_DENIED.
 */
export async function connectPostgres(url: string, options: ConnectOptions): Promise<pg.Client> {
  validatePostgresUrl(url, options.role);
  const client = new pg.Client({
    connectionString: url,
    application_name: options.applicationName ?? `cdc-merge ${options.role}`,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    options: SESSION_OPTIONS,
    ...(options.replication ? { replication: options.replication } : {}),
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw explainConnectError(error, url, options.role);
  }
  return client;
}

function explainConnectError(error: unknown, url: string, role: string): CdcError {
  const where = redactUrl(url);
  const state = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  if (state === '28P01' || state === '28000') {
    return new CdcError('AUTHENTICATION_FAILED', `${role} ${where}: login failed (${message})`, {
      cause: error,
      remedy: 'check the user and password in the URL and the server\'s pg_hba.conf',
    });
  }
  if (state === '3D000') {
    return new CdcError('DATABASE_NOT_FOUND', `${role} ${where}: ${message}`, {
      cause: error,
      remedy: 'create the database first (createdb NAME) or fix the database name in the URL',
    });
  }
  if (state === '42501') {
    return new CdcError('PERMISSION_DENIED', `${role} ${where}: ${message}`, {
      cause: error,
      remedy: role === 'source' ? 'the source role needs LOGIN and REPLICATION: ALTER ROLE <user> REPLICATION' : 'grant the role LOGIN and CONNECT on the database',
    });
  }
  return new CdcError('CONNECTION_FAILED', `cannot connect to the ${role} at ${where}: ${message}`, {
    cause: error,
    retryable: true,
    remedy: 'check that the server is running and that host and port in the URL are right',
  });
}
