/**
 * `cdc migrations apply` on a Delta location: runs the statements of migration files
 * (migration-statements.ts) through the sink's own table code (`DeltaTable`), and keeps the
 * history in a Delta table beside the sink's other bookkeeping: `<location>/_cdc/migration_history`,
 * one appended row per run of a file (name, kind, checksum, applied_at, success, error,
 * statement); the newest row of a name is the file's state, as `cdc_management.migration_history`
 * is on PostgreSQL. Any Delta reader can read it.
 *
 * Every statement is idempotent, so two applies racing, or a file interrupted half-way, do no
 * harm: `create_table` creates version 0 only when the table has no log (put-if-absent: of two
 * writers exactly one creates it) and otherwise checks the columns and adds the missing ones;
 * `add_columns` adds only the columns the table lacks.
 */
import type { Logger } from 'pino';
import { CdcError } from '../../errors.js';
import { formatTableId, type ColumnSchema, type TableSchema } from '../../schema/table.js';
import { logicalTypeOf } from '../../schema/type-map.js';
import type { LakeHistoryRow, LakeMigrationTarget, LakeTargetSection } from '../lake-migrations.js';
import { openLakeStorage } from '../lake/open-lake-storage.js';
import type { LakeStorage } from '../lake/storage.js';
import { readSnapshot } from './delta-log.js';
import { DeltaTable, type DeltaTableOptions } from './delta-table.js';
import { postgresTypeOfDelta } from './delta-types.js';
import { parseDeltaStatements, type DeltaStatement, type DeltaStatementColumn } from './migration-statements.js';
import { BOOKKEEPING, tablePath } from './sink.js';

/** The history table's path under the location. */
export const MIGRATION_HISTORY_PATH = `${BOOKKEEPING}/migration_history`;

/**
 * Rows per data file for what migrations write (history rows; no table data). The sink's own
 * `file_rows` governs the data `cdc run` writes.
 */
const FILE_ROWS = 100_000;

const column = (name: string, type: string): ColumnSchema => ({ name, type, logicalType: logicalTypeOf(type), nullable: true, toastable: false });

/** `_cdc/migration_history`: one row per run of a migration file. */
const HISTORY: TableSchema = {
  id: { schema: BOOKKEEPING, name: 'migration_history' },
  columns: [
    column('name', 'text'),
    column('kind', 'text'),
    column('checksum', 'text'),
    column('applied_at', 'timestamp with time zone'),
    column('success', 'boolean'),
    column('error', 'text'),
    column('statement', 'text'),
  ],
  primaryKey: [],
};

/** A source shape whose columns map to the statement's Delta types. */
function shapeOf(schema: string, name: string, columns: readonly DeltaStatementColumn[], primaryKey: readonly string[], softDelete: boolean): TableSchema {
  return { id: { schema, name }, columns: columns.map((c) => column(c.name, postgresTypeOfDelta(c.type))), primaryKey: [...primaryKey], options: { softDelete } };
}

/** Runs one statement. */
async function runStatement(storage: LakeStorage, statement: DeltaStatement, log: Logger): Promise<void> {
  if ('create_table' in statement) {
    const s = statement.create_table;
    const options: DeltaTableOptions = { changeDataFeed: s.change_data_feed, maxRowsPerFile: FILE_ROWS, softDelete: s.soft_delete, partitionBy: s.partition_by };
    const table = await DeltaTable.open(storage, tablePath(s), shapeOf(s.schema, s.name, s.columns, s.primary_key, s.soft_delete), options, log);
    if (await table.addMissingColumns()) log.info({ table: table.description }, 'delta: the existing table got the columns it lacked');
    return;
  }
  const s = statement.add_columns;
  const path = tablePath(s);
  const snapshot = await readSnapshot(storage, path);
  if (!snapshot.metaData) {
    throw new CdcError('MIGRATION_FAILED', `${storage.description}/${path}: table ${formatTableId(s)} does not exist, so its columns cannot be added`, {
      remedy: 'apply the table\'s 01-tables file first (cdc migrations apply runs the files in manifest order)',
    });
  }
  const options: DeltaTableOptions = { changeDataFeed: snapshot.metaData.configuration['delta.enableChangeDataFeed'] === 'true', maxRowsPerFile: FILE_ROWS };
  const table = await DeltaTable.openExisting(storage, path, options, log);
  const known = new Set(table.columns.map((c) => c.name));
  const missing = s.columns.filter((c) => !known.has(c.name));
  if (missing.length === 0) return;
  const current = table.source;
  table.relation({ ...current, columns: [...current.columns, ...shapeOf(s.schema, s.name, missing, [], false).columns] });
  await table.addMissingColumns();
}

/** The newest row per file name (rows in commit order; a later row of the same time wins). */
function newestRows(rows: readonly (readonly unknown[])[]): Map<string, LakeHistoryRow> {
  const out = new Map<string, LakeHistoryRow>();
  for (const r of rows) {
    const [name, kind, checksum, appliedAt, success, error, statement] = r as [string, string, string, bigint, boolean, string | null, string | null];
    const row: LakeHistoryRow = { name, kind, checksum, appliedAt: new Date(Number(appliedAt / 1000n)), success, error, statement };
    const seen = out.get(name);
    if (!seen || seen.appliedAt.getTime() <= row.appliedAt.getTime()) out.set(name, row);
  }
  return out;
}

/**
 * Opens a Delta location for migrations.
 * @throws {CdcError} CONFIG_INVALID for a location the lake storage refuses.
 */
export function openDeltaMigrationTarget(where: LakeTargetSection, log: Logger): Promise<LakeMigrationTarget> {
  const storage = openLakeStorage(where.location, where.storage);
  const historyOptions: DeltaTableOptions = { changeDataFeed: false, maxRowsPerFile: FILE_ROWS };
  return Promise.resolve({
    description: storage.description,
    historyPath: MIGRATION_HISTORY_PATH,
    async readHistory() {
      const snapshot = await readSnapshot(storage, MIGRATION_HISTORY_PATH);
      if (!snapshot.metaData) return new Map<string, LakeHistoryRow>();
      const table = await DeltaTable.open(storage, MIGRATION_HISTORY_PATH, HISTORY, historyOptions, log);
      return newestRows(await table.rows());
    },
    async run(body, file) {
      for (const statement of parseDeltaStatements(body, file)) await runStatement(storage, statement, log);
    },
    async record(row) {
      const table = await DeltaTable.open(storage, MIGRATION_HISTORY_PATH, HISTORY, historyOptions, log);
      const values = [row.name, row.kind, row.checksum, BigInt(Date.now()) * 1000n, row.success, row.error, row.statement];
      await table.append([values], [{ commitInfo: { timestamp: Date.now(), operation: 'WRITE', engineInfo: 'cdc-merge', isBlindAppend: true, operationParameters: { mode: 'Append', reason: 'cdc migrations apply' } } }]);
    },
  });
}
