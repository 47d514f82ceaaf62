/**
 * `cdc migrations generate` for a lake sink (DESIGN.md §5: "for lake sinks, generate writes the
 * table's schema instead of DDL, through the same manifest"). Under `migrations/<sink>/`:
 * - `01-tables/<table>.<ext>`: the statement that creates the table (its schema, key, partition
 *   columns, change data feed), written once, when the table first appears (kind `table`);
 * - `02-changes/NNNN-<table>.<ext>`: the statements that bring a table from its migrated state to
 *   its definition, written by `generate` itself (and `diff --write`) when a definition changed
 *   (kind `table`, kept as is);
 * - `manifest.yaml`: the same manifest as SQL sinks (chained checksums, table states), with no
 *   databases and no infrastructure or staging files.
 * Both file kinds come from the one diff (`diffTables`/`diffTable`) through the kind's converter
 * (`LakeMigrationDialect.migrationBody`), which refuses changes it cannot make (a dropped column)
 * with an error naming the file, the table and the column: nothing is written then.
 * Regenerating from unchanged input writes the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CdcError } from '../errors.js';
import type { SinkConfig } from '../config/project-config.js';
import { matchesPattern, parseTablePatterns } from '../config/table-pattern.js';
import { byCodePoint, sinkDefinitions, type Project } from '../project/project.js';
import { diffTable, diffTables } from '../schema/schema-diff.js';
import { formatTableId, tableKey } from '../schema/table.js';
import { targetTables, type TargetTable } from '../schema/target-table.js';
import { applyOrder, baseName, CHANGES_DIR, migrationsDir, readManifestIfAny, stateOf, TABLES_DIR, type MigrationPlan, type PlannedFile } from './generate.js';
import { buildManifest, MANIFEST_FILE, renderManifest, stateToSchema, type TableState } from './manifest.js';
import { parseMigrationFile, renderMigrationFile } from './migration-file.js';
import type { LakeSinkMigrations } from './sink-migrations.js';

/** The state a table has after its change file: its columns updated and the added ones appended. */
function changedState(state: TableState, target: TargetTable): TableState {
  const now = new Map(target.table.columns.map((c) => [c.name, c]));
  const kept = state.columns.map((c) => {
    const t = now.get(c.name);
    return t ? { name: c.name, type: t.type, nullable: t.nullable } : c;
  });
  const known = new Set(state.columns.map((c) => c.name));
  const added = target.table.columns.filter((c) => !known.has(c.name)).map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
  return { ...state, columns: [...kept, ...added] };
}

/**
 * Renders a lake sink's migrations without writing anything (write them with
 * `writeMigrationPlan`).
 * @param options.table only this table pattern (source or target `schema.table`)
 * @throws {CdcError} TABLE_NOT_FOUND for a `table` matching nothing; MIGRATIONS_INVALID when the
 *   manifest lists a file that is missing; MIGRATION_UNSUPPORTED (from the kind's converter) for a
 *   change it cannot make, naming the definition file, table and column; DEFINITION_INVALID and
 *   CONFIG_INVALID from the project.
 */
export function planLakeMigrations(project: Project, sinkName: string, sink: SinkConfig, lake: LakeSinkMigrations, options: { readonly table?: string } = {}): MigrationPlan {
  const dir = migrationsDir(project, sinkName);
  const previous = readManifestIfAny(dir);
  const ext = lake.dialect.fileExtension;
  const targets = targetTables(sinkDefinitions(project, sink), sink);
  const warnings = targets.flatMap((t) => t.warnings);
  const filter = options.table ? parseTablePatterns(options.table) : [];
  const selected = (t: TargetTable) =>
    filter.length === 0 || filter.some((p) => matchesPattern(p, t.table.id) || matchesPattern(p, { schema: t.definition.schema, name: t.definition.table }));
  if (filter.length > 0 && !targets.some(selected)) {
    throw new CdcError('TABLE_NOT_FOUND', `no table definition matches --table ${options.table}`, {
      remedy: 'give a source or target schema.table (see schemas/<service>/<schema>/<table>.yaml)',
    });
  }
  const files = new Map<string, { path: string; kind: 'table'; text: string }>();
  for (const f of previous?.files ?? []) {
    const full = join(dir, f.path);
    if (!existsSync(full)) {
      throw new CdcError('MIGRATIONS_INVALID', `${join(dir, MANIFEST_FILE)} lists ${f.path}, which is missing`, {
        remedy: 'restore it from version control (applied migrations must not be deleted)',
        context: { file: full },
      });
    }
    files.set(f.path, { path: f.path, kind: 'table', text: readFileSync(full, 'utf8') });
  }
  const numbers = [...files.keys()].map((p) => new RegExp(`^${CHANGES_DIR}/(\\d+)-`).exec(p)?.[1]).filter((n): n is string => n !== undefined).map(Number);
  let next = Math.max(0, ...numbers) + 1;
  const states = new Map((previous?.tables ?? []).map((s) => [tableKey(s), s]));
  const put = (path: string, body: string, note: string) => files.set(path, { path, kind: 'table', text: renderMigrationFile(path, 'table', body, note) });
  for (const target of targets) {
    if (!selected(target)) continue;
    const key = tableKey(target.table.id);
    const state = states.get(key);
    const definitionFile = relative(project.dir, target.definition.file).split(sep).join('/');
    const context = { target: lake.target, definitionFile };
    if (!state) {
      const path = `${TABLES_DIR}/${baseName(target.table, targets, [...states.values()])}.${ext}`;
      put(path, lake.dialect.migrationBody(diffTables([], [target.table]), context), `Source: ${definitionFile}`);
      states.set(key, stateOf(target, { table: path }));
      continue;
    }
    const changes = diffTable(stateToSchema(state), target.table);
    if (changes.length === 0) continue;
    const body = lake.dialect.migrationBody(changes, context);
    if (body !== '') {
      const path = `${CHANGES_DIR}/${String(next++).padStart(4, '0')}-${target.table.id.name}.${ext}`;
      put(path, body, `Changes ${formatTableId(target.table.id)}: ${changes.map((c) => `${c.kind}${c.column ? ` ${c.column}` : ''}`).join(', ')} (from ${definitionFile})`);
    }
    states.set(key, changedState(state, target));
  }
  const defined = new Set(targets.map((t) => tableKey(t.table.id)));
  for (const state of states.values()) {
    if (!defined.has(tableKey(state))) {
      warnings.push(`${formatTableId(stateToSchema(state).id)} is in the migrations but has no definition any more; its ${sink.type} table stays (cdc-merge never deletes one)`);
    }
  }
  const ordered = applyOrder([...files.values()]);
  const manifest = buildManifest({
    sink: sinkName,
    databases: {},
    files: ordered.map((f) => ({ path: f.path, kind: f.kind, checksum: parseMigrationFile(f.path, f.text, f.kind).checksum })),
    tables: [...states.values()],
  });
  const status = (path: string, text: string): PlannedFile['status'] => {
    const full = join(dir, path);
    if (!existsSync(full)) return 'new';
    return readFileSync(full, 'utf8') === text ? 'unchanged' : 'changed';
  };
  return {
    sink: sinkName,
    dir,
    files: ordered.map((f) => ({ ...f, status: status(f.path, f.text) })),
    manifest,
    manifestStatus: status(MANIFEST_FILE, renderManifest(manifest)),
    warnings: [...new Set(warnings)].sort(byCodePoint),
    targets,
  };
}
