/**
 * SQL Server change data capture administration, planned as T-SQL without a database:
 * turning CDC on for a database and its tables, and trimming old rows from change tables.
 *
 * Every function here is pure: it takes what the server reported ({@link CdcState}) and returns
 * the exact batches to run ({@link TsqlStep}), which `--dry-run` prints and `client.ts` executes.
 * This module is also the only place that quotes T-SQL names and string literals.
 *
 * @see https://learn.microsoft.com/sql/relational-databases/track-changes/about-change-data-capture-sql-server
 * @see https://learn.microsoft.com/sql/relational-databases/track-changes/enable-and-disable-change-data-capture-sql-server
 */
import { CdcError } from '../../errors.js';
import type { TableId } from '../../schema/table.js';

/** Longest identifier SQL Server accepts: `sysname` is `nvarchar(128)`, in UTF-16 code units. */
const MAX_IDENTIFIER_LENGTH = 128;

/**
 * Quotes a name as a T-SQL delimited identifier: `Odd]Name` → `[Odd]]Name]` (a `]` inside is
 * doubled, as `QUOTENAME` does).
 * @throws {CdcError} CONFIG_INVALID for an empty name, a NUL character, or more than 128
 *   UTF-16 code units (the `sysname` limit).
 * @see https://learn.microsoft.com/sql/relational-databases/databases/database-identifiers
 */
export function quoteTsqlIdentifier(name: string): string {
  if (name.length === 0) throw new CdcError('CONFIG_INVALID', 'a SQL Server name is empty', { remedy: 'give the schema and table name' });
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw new CdcError('CONFIG_INVALID', `SQL Server name is longer than ${MAX_IDENTIFIER_LENGTH} characters: ${JSON.stringify(name)}`, {
      remedy: 'check the name; SQL Server identifiers are at most 128 characters',
    });
  }
  if (name.includes('\u0000')) throw new CdcError('CONFIG_INVALID', `SQL Server name contains a NUL character: ${JSON.stringify(name)}`);
  return `[${name.replaceAll(']', ']]')}]`;
}

/**
 * Quotes a value as a Unicode T-SQL string literal: `it's` → `N'it''s'`. The `N` prefix keeps the
 * value `nvarchar`, so no code-page conversion can turn a look-alike character into a quote.
 * @throws {CdcError} CONFIG_INVALID when the value contains a NUL character.
 * @see https://learn.microsoft.com/sql/t-sql/data-types/constants-transact-sql
 */
export function quoteTsqlString(value: string): string {
  if (value.includes('\u0000')) throw new CdcError('CONFIG_INVALID', `T-SQL string contains a NUL character: ${JSON.stringify(value)}`);
  return `N'${value.replaceAll("'", "''")}'`;
}

/**
 * Text for a person (descriptions, notes, `--` comments): control characters and Unicode line
 * separators are shown as `\uXXXX`, so an odd name can never start a new line of a script.
 */
function printable(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `[schema].[name]`, for descriptions and notes. */
function displayName(table: TableId): string {
  return printable(`${quoteTsqlIdentifier(table.schema)}.${quoteTsqlIdentifier(table.name)}`);
}

/**
 * Parses a table name as a user writes it on the command line: `Invoice` (schema `dbo`, or
 * `defaultSchema`), `sales.Invoice`, or bracketed parts for names with dots or brackets:
 * `[my.schema].[Odd]]Name]`. Unbracketed parts are taken as written (SQL Server compares them
 * with the database collation later, when the catalog is read).
 * @throws {CdcError} TABLE_PATTERN_INVALID for an empty part, an unclosed bracket, a stray
 *   bracket, or more than two parts.
 */
export function parseTsqlTableName(text: string, defaultSchema = 'dbo'): TableId {
  function fail(problem: string): never {
    throw new CdcError('TABLE_PATTERN_INVALID', `table name ${JSON.stringify(text)}: ${problem}`, {
      remedy: 'write schema.table, with [brackets] around a part that contains dots or brackets (a ] inside is written ]])',
    });
  }
  const source = text.trim();
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let part = '';
    if (source[i] === '[') {
      for (i++; source[i] !== ']' || source[i + 1] === ']'; i++) {
        if (i >= source.length) fail('unclosed [');
        if (source[i] === ']') i++; // ]] stands for one ]
        part += source[i];
      }
      i++; // past the closing ]
      if (part === '') fail('empty []');
    } else {
      for (; i < source.length && source[i] !== '.'; i++) {
        if (source[i] === '[' || source[i] === ']') fail(`stray ${source[i]} (bracket the whole part)`);
        part += source[i];
      }
      part = part.trim();
      if (part === '') fail('empty part');
    }
    parts.push(part);
    if (i >= source.length) break;
    if (source[i] !== '.') fail(`expected . after ${JSON.stringify(part)}`);
    i++;
  }
  const [first, second, third] = parts;
  if (third !== undefined) fail('expected table or schema.table, not a three-part name');
  return second === undefined ? { schema: defaultSchema, name: first! } : { schema: first!, name: second };
}

/** A table to enable CDC on, as the catalog spells it. */
export interface MssqlTableRef extends TableId {
  /**
   * True when the table has a primary key. Only then is `@supports_net_changes = 1` passed:
   * net-change queries need a unique key, and SQL Server rejects the flag without one.
   */
  readonly hasPrimaryKey: boolean;
}

/** One capture instance: a source table and the name of its change table's capture instance. */
export interface TrackedTable extends TableId {
  /** Capture instance name, `schema_table` unless chosen otherwise; a table may have two. */
  readonly captureInstance: string;
}

/** What the database reports about CDC, read with {@link READ_CDC_STATE_SQL}. */
export interface CdcState {
  /** `sys.databases.is_cdc_enabled` for the current database. */
  readonly databaseEnabled: boolean;
  /** Every capture instance in `cdc.change_tables`; empty when CDC is off. */
  readonly tracked: ReadonlyArray<TrackedTable>;
}

/** Planned statements, each with a one-line human description; `sql` is exact T-SQL (what --dry-run prints). */
export interface TsqlStep {
  /** One line for a person, e.g. `enable CDC on [dbo].[Invoice]`. */
  readonly description: string;
  /** One T-SQL batch, run as is (no `GO` inside). */
  readonly sql: string;
}

/** A plan: the batches to run in order, and one note per requested table left alone. */
export interface TsqlPlan {
  readonly steps: TsqlStep[];
  /** Why each skipped table or capture instance needs nothing, e.g. `[dbo].[Invoice]: already tracked …`. */
  readonly skipped: string[];
}

/**
 * The state an offline dry-run assumes: CDC off, nothing tracked. {@link planEnableCdc} then
 * plans every step (each batch re-checks on the server, so the script is safe to run anyway);
 * {@link planCleanCdc} plans nothing.
 */
export const OFFLINE_STATE: CdcState = { databaseEnabled: false, tracked: [] };

/** Default age in days for clean-cdc: the retention the CDC cleanup job uses by default (4320 minutes). */
export const DEFAULT_CLEAN_DAYS = 3;

/**
 * Rows deleted per statement by `sys.sp_cdc_cleanup_change_table` (its own default): small
 * transactions keep the log and lock footprint bounded while the capture job keeps writing.
 */
export const CLEANUP_DELETE_THRESHOLD = 5000;

/** Largest `days` accepted: a century, far inside `datetime`'s range (1753 onwards) for DATEADD. */
const MAX_CLEAN_DAYS = 36_500;

/**
 * Reads {@link CdcState}, one batch with two result sets:
 * 1. `database_enabled` (bit): `sys.databases.is_cdc_enabled` for `DB_NAME()`;
 * 2. `source_schema`, `source_name`, `capture_instance` (sysname) per row of `cdc.change_tables`,
 *    sorted; empty when the database has no `cdc` schema (CDC never enabled or disabled again).
 * The second query runs through `sp_executesql` only when `cdc.change_tables` exists, so the
 * batch compiles on databases without CDC. Reading `cdc.change_tables` needs `db_owner`.
 * @see https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-databases-transact-sql
 * @see https://learn.microsoft.com/sql/relational-databases/system-tables/cdc-change-tables-transact-sql
 * @see https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sp-executesql-transact-sql
 */
export const READ_CDC_STATE_SQL = [
  'SELECT CAST(d.is_cdc_enabled AS bit) AS database_enabled FROM sys.databases AS d WHERE d.name = DB_NAME();',
  "IF OBJECT_ID(N'cdc.change_tables') IS NULL",
  '    SELECT CAST(NULL AS sysname) AS source_schema, CAST(NULL AS sysname) AS source_name, CAST(NULL AS sysname) AS capture_instance WHERE 1 = 0;',
  'ELSE',
  `    EXEC sys.sp_executesql ${quoteTsqlString(
    'SELECT s.name AS source_schema, t.name AS source_name, ct.capture_instance FROM cdc.change_tables AS ct ' +
      'JOIN sys.tables AS t ON t.object_id = ct.source_object_id JOIN sys.schemas AS s ON s.schema_id = t.schema_id ' +
      'ORDER BY s.name, t.name, ct.capture_instance;',
  )};`,
].join('\n');

/**
 * A query that resolves requested tables against the catalog, one row per request in order:
 * `ordinal` (int, index into `tables`), `table_schema` and `table_name` (sysname as the catalog
 * spells them, NULL when no such table), `has_primary_key` (bit). Names compare with the
 * database's collation, so `dbo.invoice` finds `dbo.Invoice` on a case-insensitive database.
 * @throws {CdcError} CONFIG_INVALID for an empty list or a name with a NUL character.
 * @see https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-tables-transact-sql
 */
export function readTablesSql(tables: readonly TableId[]): string {
  if (tables.length === 0) throw new CdcError('CONFIG_INVALID', 'no table given', { remedy: 'name at least one table' });
  const rows = tables.map((t, i) => `(${i}, ${quoteTsqlString(t.schema)}, ${quoteTsqlString(t.name)})`).join(', ');
  return [
    'SELECT v.ordinal, s.name AS table_schema, t.name AS table_name,',
    '    CAST(CASE WHEN EXISTS (SELECT 1 FROM sys.indexes AS i WHERE i.object_id = t.object_id AND i.is_primary_key = 1) THEN 1 ELSE 0 END AS bit) AS has_primary_key',
    `FROM (VALUES ${rows}) AS v (ordinal, requested_schema, requested_name)`,
    'LEFT JOIN sys.schemas AS s ON s.name = v.requested_schema',
    'LEFT JOIN sys.tables AS t ON t.schema_id = s.schema_id AND t.name = v.requested_name',
    'ORDER BY v.ordinal;',
  ].join('\n');
}

const sameTable = (a: TableId, b: TableId): boolean => a.schema === b.schema && a.name === b.name;

/**
 * Plans enable-cdc: `sys.sp_cdc_enable_db` when the database is not enabled yet, then
 * `sys.sp_cdc_enable_table` for each table without a capture instance, with `@role_name = NULL`
 * (no gating role), `@supports_net_changes` 1 for tables with a primary key and 0 otherwise, and
 * the default capture instance name (`schema_table`). Tables already tracked are skipped with a
 * note; a table listed twice is planned once. Each batch re-checks the catalog before acting, so
 * running a plan twice, or one made from {@link OFFLINE_STATE}, changes nothing the second time.
 *
 * Names compare exactly with `state.tracked`: pass names as the catalog spells them (see
 * {@link readTablesSql}). Running the steps needs `sysadmin` for the database step and
 * `db_owner` for the table steps; the SQL Server Agent runs the capture job these create.
 * @throws {CdcError} CONFIG_INVALID for a name SQL Server cannot have (see {@link quoteTsqlIdentifier}).
 * @see https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sys-sp-cdc-enable-db-transact-sql
 * @see https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sys-sp-cdc-enable-table-transact-sql
 */
export function planEnableCdc(tables: readonly MssqlTableRef[], state: CdcState): TsqlPlan {
  const steps: TsqlStep[] = [];
  const skipped: string[] = [];
  if (!state.databaseEnabled) {
    steps.push({
      description: 'enable CDC on the database',
      sql: ['IF EXISTS (SELECT 1 FROM sys.databases WHERE name = DB_NAME() AND is_cdc_enabled = 0)', '    EXEC sys.sp_cdc_enable_db;'].join('\n'),
    });
  }
  const seen: TableId[] = [];
  for (const table of tables) {
    const shown = displayName(table);
    if (seen.some((t) => sameTable(t, table))) continue;
    seen.push(table);
    const instances = state.tracked.filter((t) => sameTable(t, table)).map((t) => t.captureInstance);
    if (instances.length > 0) {
      skipped.push(`${shown}: already tracked by CDC (capture instance ${printable(instances.join(', '))})`);
      continue;
    }
    const schema = quoteTsqlString(table.schema);
    const name = quoteTsqlString(table.name);
    steps.push({
      description: `enable CDC on ${shown} (${table.hasPrimaryKey ? 'net changes' : 'no primary key: all changes only, no net changes'})`,
      sql: [
        `IF NOT EXISTS (SELECT 1 FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE s.name = ${schema} AND t.name = ${name} AND t.is_tracked_by_cdc = 1)`,
        `    EXEC sys.sp_cdc_enable_table @source_schema = ${schema}, @source_name = ${name}, @role_name = NULL, @supports_net_changes = ${table.hasPrimaryKey ? 1 : 0};`,
      ].join('\n'),
    });
  }
  return { steps, skipped };
}

/**
 * Checks clean-cdc's `--days`: a whole number from 0 to 36 500 (a century, far inside the
 * `datetime` range that `DATEADD` must stay in).
 * @throws {CdcError} CONFIG_INVALID otherwise, naming the value.
 */
export function checkCleanDays(days: number): void {
  if (!Number.isInteger(days) || days < 0 || days > MAX_CLEAN_DAYS) {
    throw new CdcError('CONFIG_INVALID', `--days must be a whole number of days from 0 to ${MAX_CLEAN_DAYS}, not ${days}`, {
      remedy: `omit --days for the default of ${DEFAULT_CLEAN_DAYS}, or give e.g. --days 7`,
    });
  }
}

/**
 * Plans clean-cdc: for each capture instance of the requested tables (or of every tracked table
 * for `'all'`), one batch that maps "now minus `days` days" (server local time, as
 * `cdc.lsn_time_mapping` records commits) to the last LSN committed by then and makes it the
 * new low-water mark, deleting older change rows {@link CLEANUP_DELETE_THRESHOLD} at a time.
 *
 * The batch PRINTs a note and does nothing when no commit is that old (the mapping is NULL) or
 * the LSN is below the instance's current low-water mark (`sys.fn_cdc_get_min_lsn`), which the
 * procedure would reject (error 22957). A non-zero return code from the procedure is raised
 * with THROW (error 50000). Requested tables without a capture instance are skipped with a note.
 * @param days Age in whole days of the newest changes to delete, 0 to 36 500.
 * @throws {CdcError} CONFIG_INVALID for `days` that is not a whole number in range.
 * @see https://learn.microsoft.com/sql/relational-databases/system-functions/sys-fn-cdc-map-time-to-lsn-transact-sql
 * @see https://learn.microsoft.com/sql/relational-databases/system-functions/sys-fn-cdc-get-min-lsn-transact-sql
 * @see https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sys-sp-cdc-cleanup-change-table-transact-sql
 * @see https://learn.microsoft.com/sql/t-sql/language-elements/throw-transact-sql
 */
export function planCleanCdc(tables: readonly TableId[] | 'all', state: CdcState, days: number): TsqlPlan {
  checkCleanDays(days);
  const skipped: string[] = [];
  let instances: TrackedTable[];
  if (tables === 'all') {
    instances = [...state.tracked];
    if (instances.length === 0) skipped.push(state.databaseEnabled ? 'no table is tracked by CDC' : 'CDC is not enabled on the database');
  } else {
    instances = [];
    const seen: TableId[] = [];
    for (const table of tables) {
      if (seen.some((t) => sameTable(t, table))) continue;
      seen.push(table);
      const found = state.tracked.filter((t) => sameTable(t, table));
      if (found.length === 0) skipped.push(`${displayName(table)}: not tracked by CDC, nothing to clean`);
      instances.push(...found);
    }
  }
  const steps = instances.map((tracked): TsqlStep => {
    const instance = quoteTsqlString(tracked.captureInstance);
    const note = quoteTsqlString(`${tracked.captureInstance}: no change older than ${days} days to clean`);
    const failed = quoteTsqlString(`sys.sp_cdc_cleanup_change_table failed for capture instance ${tracked.captureInstance}`);
    return {
      description: `clean ${displayName(tracked)} (capture instance ${printable(tracked.captureInstance)}): delete changes older than ${days} days`,
      sql: [
        `DECLARE @lsn binary(10) = sys.fn_cdc_map_time_to_lsn(N'largest less than or equal', DATEADD(day, -${days}, GETDATE()));`,
        'DECLARE @rc int;',
        `IF @lsn IS NULL OR @lsn < sys.fn_cdc_get_min_lsn(${instance})`,
        `    PRINT ${note};`,
        'ELSE',
        'BEGIN',
        `    EXEC @rc = sys.sp_cdc_cleanup_change_table @capture_instance = ${instance}, @low_water_mark = @lsn, @threshold = ${CLEANUP_DELETE_THRESHOLD};`,
        `    IF @rc <> 0 THROW 50000, ${failed}, 1;`,
        'END;',
      ].join('\n'),
    };
  });
  return { steps, skipped };
}

/** A line sqlcmd and SSMS take as a batch separator: `GO`, optionally with a count. */
const BATCH_SEPARATOR = /^[ \t]*go(?:[ \t]+\d+)?[ \t]*$/im;

/**
 * Renders a plan as a script for sqlcmd or SSMS (what `--dry-run` prints): one `-- skipped: …`
 * comment per note, then each step as `-- description`, its SQL and `GO`. Ends with a newline.
 * @throws {CdcError} TABLE_UNSUPPORTED when a name contains a line break followed by a line
 *   reading `GO`: a script tool would cut the batch there, so the script cannot show it safely
 *   (executing the steps directly is not affected).
 */
export function renderTsqlScript(plan: TsqlPlan): string {
  const lines = plan.skipped.map((note) => `-- skipped: ${printable(note)}`);
  for (const step of plan.steps) {
    if (BATCH_SEPARATOR.test(step.sql)) {
      throw new CdcError('TABLE_UNSUPPORTED', `cannot print "${printable(step.description)}" as a script: a name in it contains a line reading GO`, {
        remedy: 'run without --dry-run on a test database, or rename the table',
      });
    }
    lines.push(`-- ${printable(step.description)}`, step.sql, 'GO');
  }
  if (lines.length === 0) lines.push('-- nothing to do');
  return `${lines.join('\n')}\n`;
}
