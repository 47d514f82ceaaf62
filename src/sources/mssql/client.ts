/**
 * The I/O shell around {@link planEnableCdc} and {@link planCleanCdc}: a SQL Server session over
 * the `mssql` package (tedious driver, pure JavaScript TDS), and the enable-cdc / clean-cdc
 * operations that read state, plan, then print or execute. Connection and statement failures
 * become {@link CdcError}s with a remedy. Connection settings come from `connection-settings.ts`
 * (re-exported here).
 * @see https://tediousjs.github.io/node-mssql/
 */
import mssql from 'mssql';
import { CdcError } from '../../errors.js';
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
import { DEFAULT_MSSQL_PORT, describeMssqlTarget, type MssqlConnectionOptions } from './connection-settings.js';

export { describeMssqlTarget, mssqlConnectionFromEnv, type MssqlConnectionOptions } from './connection-settings.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;

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
  const context = { host: options.host, port: options.port ?? DEFAULT_MSSQL_PORT, database: options.database, user: options.user, numbers: [...loginErrorNumbers] };
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
    port: options.port ?? DEFAULT_MSSQL_PORT,
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
