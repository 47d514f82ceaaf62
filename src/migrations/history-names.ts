/**
 * Which `migration_history` row stands for which migration file (the naming scheme is in
 * src/sinks/postgres/migration-history.ts): a table's base files are recorded under the table's
 * unit names, shared with `cdc run`; every other file under its path.
 */
import type { HistoryRename } from '../sinks/sql-migrations.js';
import { sql } from './sql-dialect.js';
import type { Manifest } from './manifest.js';
import type { MigrationFile } from './migration-file.js';

/** Base files of the manifest's table states: path → unit and table. */
function baseFiles(manifest: Manifest): Map<string, Pick<HistoryRename, 'unit' | 'name' | 'table'>> {
  const out = new Map<string, Pick<HistoryRename, 'unit' | 'name' | 'table'>>();
  for (const s of manifest.tables) {
    const table = { schema: s.schema, name: s.name };
    out.set(s.files.table, { unit: 'table', name: sql.historyName('table', table), table });
    if (s.files.staging !== undefined) out.set(s.files.staging, { unit: 'staging', name: sql.historyName('staging', table), table });
  }
  return out;
}

/**
 * The history name of every file of `manifest`, by path: its `history_name`, else (a manifest
 * written before the field) the unit name when it is a base file of a table state, else its path.
 */
export function historyNames(manifest: Manifest): Map<string, string> {
  const base = baseFiles(manifest);
  return new Map(manifest.files.map((f) => [f.path, f.history_name ?? base.get(f.path)?.name ?? f.path]));
}

/**
 * The renames (`upgradeHistoryNames`) that move rows `apply` recorded under a base file's path
 * to its unit name: one per file of `manifest` whose history name is not its path and that
 * exists in `files` (the parsed files, for checksum and body).
 */
export function historyRenames(manifest: Manifest, files: ReadonlyMap<string, MigrationFile>): HistoryRename[] {
  const base = baseFiles(manifest);
  const names = historyNames(manifest);
  const renames: HistoryRename[] = [];
  for (const f of manifest.files) {
    const name = names.get(f.path)!;
    const file = files.get(f.path);
    if (name === f.path || !file) continue;
    const known = base.get(f.path);
    const unit = known?.unit ?? (name.startsWith('staging ') ? 'staging' : 'table');
    renames.push({ path: f.path, unit, name, ...(known?.table ? { table: known.table } : {}), checksum: file.checksum, body: file.body });
  }
  return renames;
}
