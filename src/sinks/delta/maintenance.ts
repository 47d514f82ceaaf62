/**
 * `cdc compact` and `cdc vacuum` on a Delta location (a local directory, or `s3://` reached with
 * the target's `storage:` block): every table under it (or those named), the sink's own `_cdc/`
 * tables included. Vacuum also removes the log entries each table's log retention has expired
 * (`log-cleanup.ts`), unless told to keep the log.
 */
import type { Logger } from 'pino';
import { CdcError } from '../../errors.js';
import { openLakeStorage } from '../lake/open-lake-storage.js';
import type { LakeStorage } from '../lake/storage.js';
import type { LakeMaintenanceDialect, MaintenanceReport } from '../sink-dialect.js';
import { DeltaTable } from './delta-table.js';
import { cleanUpLog } from './log-cleanup.js';

/** Rows per file compaction aims at (the sink's default file size). */
const TARGET_FILE_ROWS = 100_000;

/** Table paths (`schema/table`, as stored) of the Delta tables under the location. */
async function tablePaths(storage: LakeStorage): Promise<string[]> {
  const paths = new Set<string>();
  for (const object of await storage.list('')) {
    const m = /^([^/]+\/[^/]+)\/_delta_log\/\d{20}\.(json|checkpoint\.parquet)$/.exec(object.path);
    if (m) paths.add(m[1]!);
  }
  return [...paths].sort();
}

/** The tables to maintain: all, or those named `schema.table`. */
async function selected(storage: LakeStorage, names: readonly string[]): Promise<string[]> {
  const all = await tablePaths(storage);
  if (names.length === 0) return all;
  return names.map((name) => {
    const dot = name.indexOf('.');
    const path = dot > 0 ? `${encodeURIComponent(name.slice(0, dot))}/${encodeURIComponent(name.slice(dot + 1))}` : '';
    if (!all.includes(path)) {
      throw new CdcError('TABLE_NOT_FOUND', `no Delta table ${name} under ${storage.description}`, { remedy: `name one of: ${all.map((p) => p.split('/').map(decodeURIComponent).join('.')).join(', ') || '(none)'}` });
    }
    return path;
  });
}

const display = (path: string) => path.split('/').map(decodeURIComponent).join('.');

async function open(storage: LakeStorage, path: string, log: Logger): Promise<DeltaTable> {
  return DeltaTable.openExisting(storage, path, { changeDataFeed: true, maxRowsPerFile: TARGET_FILE_ROWS }, log);
}

/** Compaction and vacuum of Delta tables (the dialect's `maintenance`). */
export const deltaMaintenance: LakeMaintenanceDialect = {
  async compact(target, options) {
    const storage = openLakeStorage(target.location, target.storage);
    const reports: MaintenanceReport[] = [];
    for (const path of await selected(storage, options.tables)) {
      const table = await open(storage, path, options.log);
      const filesBefore = table.snapshot.files.size;
      const version = await table.compact();
      reports.push({ table: display(path), filesBefore, filesAfter: table.snapshot.files.size, ...(version === undefined ? {} : { version }) });
    }
    return reports;
  },
  async vacuum(target, options) {
    const storage = openLakeStorage(target.location, target.storage);
    const reports: MaintenanceReport[] = [];
    for (const path of await selected(storage, options.tables)) {
      const table = await open(storage, path, options.log);
      const { files, bytes } = await table.vacuum(options.retentionHours * 3_600_000, options.dryRun);
      const logFiles = options.keepLog ? [] : (await cleanUpLog(storage, path, table.snapshot, { dryRun: options.dryRun })).removed;
      reports.push({ table: display(path), filesDeleted: files, bytesDeleted: bytes, ...(options.keepLog ? {} : { logFilesDeleted: logFiles.length }) });
    }
    return reports;
  },
};
