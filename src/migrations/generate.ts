/**
 * `cdc migrations generate` (DESIGN.md §5): renders a sink's migrations from the table
 * definitions, deterministically, under `migrations/<sink>/`:
 * - `00-infrastructure/001-management.sql`: schemas and bookkeeping tables (infrastructure);
 * - `01-tables/<table>.sql`: the final table, written once, when the table first appears (table);
 * - `01-tables/<table>-staging.sql`: the staging table and merge procedure for the table as the
 *   migrations leave it (repeatable: re-rendered, re-applied when it changes);
 *   these two are the table's units of the sink's DDL assembler (`tableUnits`), the same SQL
 *   `cdc run` applies, recorded under the same `migration_history` names;
 * - `02-changes/NNNN-<table>.sql`: ALTER migrations written by `diff --write` (table), kept as is;
 * - `manifest.yaml`: databases, file index with chained hashes, table states.
 * Regenerating from unchanged input writes the same bytes. A table whose definition differs from
 * its migrated state is left alone with a warning pointing to `diff --write`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { CdcError } from '../errors.js';
import { definitionKey } from '../schema/definition.js';
import { formatTableId, tableKey, type TableSchema } from '../schema/table.js';
import { targetTables, type TargetTable } from '../schema/target-table.js';
import { parseTablePatterns, matchesPattern } from '../config/table-pattern.js';
import { diffTable } from '../schema/schema-diff.js';
import { sql } from './sql-dialect.js';
import { byCodePoint, MIGRATIONS_DIR, projectSink, sinkDefinitions, type Project } from '../project/project.js';
import { historyNames } from './history-names.js';
import { assertSqlSink } from './sink-migrations.js';
import { MANIFEST_FILE, buildManifest, readManifest, renderManifest, stateToSchema, type Manifest, type TableState } from './manifest.js';
import { parseMigrationFile, renderMigrationFile, type MigrationKind } from './migration-file.js';

/** Path of the infrastructure file. */
export const INFRASTRUCTURE_FILE = '00-infrastructure/001-management.sql';
/** Folder of the final-table and staging files. */
export const TABLES_DIR = '01-tables';
/** Folder of ALTER migrations. */
export const CHANGES_DIR = '02-changes';
/** The pg_cron schedule file (when the sink sets `merge.schedule`). */
export const SCHEDULE_FILE = '03-schedule/001-pg-cron.sql';

/** A rendered file and whether it differs from what is on disk. */
export interface PlannedFile {
  readonly path: string;
  readonly kind: MigrationKind;
  readonly text: string;
  readonly status: 'new' | 'changed' | 'unchanged';
}

/** What {@link planMigrations} produced. */
export interface MigrationPlan {
  readonly sink: string;
  /** `migrations/<sink>` under the project directory. */
  readonly dir: string;
  readonly files: readonly PlannedFile[];
  readonly manifest: Manifest;
  readonly manifestStatus: PlannedFile['status'];
  readonly warnings: readonly string[];
  /** Target tables of the definitions (all of the sink's, not only `--table`'s). */
  readonly targets: readonly TargetTable[];
}

/** The folder of a sink's migrations. */
export function migrationsDir(project: Project, sink: string): string {
  return join(project.dir, MIGRATIONS_DIR, sink);
}

/** Apply order: infrastructure, final tables, staging, changes; by path within each. */
function applyRank(f: { path: string; kind: MigrationKind }): number {
  if (f.kind === 'infrastructure') return 0;
  if (f.path.startsWith(`${CHANGES_DIR}/`)) return 3;
  if (f.path === SCHEDULE_FILE) return 4;
  return f.kind === 'table' ? 1 : 2;
}

/** Sorts files into apply order. */
export function applyOrder<T extends { path: string; kind: MigrationKind }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => applyRank(a) - applyRank(b) || byCodePoint(a.path, b.path));
}

/** Reads the sink's manifest, or undefined when there is none yet. */
export function readManifestIfAny(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  return existsSync(path) ? readManifest(path) : undefined;
}

/** `01-tables/<name>`, or `<schema>.<name>` when another target table has the same name. */
export function baseName(table: TableSchema, all: readonly TargetTable[], states: readonly TableState[]): string {
  const same = all.filter((t) => t.table.id.name === table.id.name).length + states.filter((s) => s.name === table.id.name && s.schema !== table.id.schema).length;
  return same > 1 ? `${table.id.schema}.${table.id.name}` : table.id.name;
}

/** A table state's staging file (every SQL sink's state names one; derived from the table file otherwise). */
export function stagingFileOf(state: TableState): string {
  return state.files.staging ?? state.files.table.replace(/\.sql$/, '-staging.sql');
}

/** The table state recorded for a target table. */
export function stateOf(target: TargetTable, files: TableState['files']): TableState {
  return {
    schema: target.table.id.schema,
    name: target.table.id.name,
    source: definitionKey(target.definition),
    soft_delete: target.softDelete,
    primary_key: [...target.table.primaryKey],
    columns: target.table.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })),
    files,
  };
}

/**
 * Renders the sink's migrations without writing anything.
 * @param options.sink sink name (default: the only one); `table`: only this table pattern
 *   (source or target `schema.table`); `states`: table states to use instead of the manifest's
 *   (diff --write passes the states after its ALTERs); `extraFiles`: more files (ALTERs).
 * @throws {CdcError} CONFIG_INVALID / DEFINITION_INVALID from the project (and for a sink that is
 *   not migrated with SQL: see `generateSinkMigrations`); MIGRATIONS_INVALID when the manifest
 *   lists a file that is missing.
 */
export function planMigrations(
  project: Project,
  options: { sink?: string; table?: string; states?: readonly TableState[]; extraFiles?: readonly { path: string; kind: MigrationKind; text: string }[] } = {},
): MigrationPlan {
  const { name: sinkName, sink } = projectSink(project, options.sink);
  assertSqlSink(project, sinkName, sink);
  const dir = migrationsDir(project, sinkName);
  const previous = readManifestIfAny(dir);
  const warnings: string[] = [];
  const targets = targetTables(sinkDefinitions(project, sink), sink);
  for (const t of targets) warnings.push(...t.warnings);
  const filter = options.table ? parseTablePatterns(options.table) : [];
  const selected = (t: TargetTable) =>
    filter.length === 0 || filter.some((p) => matchesPattern(p, t.table.id) || matchesPattern(p, { schema: t.definition.schema, name: t.definition.table }));
  if (filter.length > 0 && !targets.some(selected)) {
    throw new CdcError('TABLE_NOT_FOUND', `no table definition matches --table ${options.table}`, {
      remedy: 'give a source or target schema.table (see schemas/<service>/<schema>/<table>.yaml)',
    });
  }
  const states = new Map((options.states ?? previous?.tables ?? []).map((s) => [tableKey(s), s]));
  const read = (path: string): string => {
    const full = join(dir, path);
    if (!existsSync(full)) {
      throw new CdcError('MIGRATIONS_INVALID', `${join(dir, MANIFEST_FILE)} lists ${path}, which is missing`, {
        remedy: 'restore it from version control (applied migrations must not be deleted)',
        context: { file: full },
      });
    }
    return readFileSync(full, 'utf8');
  };
  const files = new Map<string, { path: string; kind: MigrationKind; text: string }>();
  const put = (path: string, kind: MigrationKind, text: string) => files.set(path, { path, kind, text });
  put(INFRASTRUCTURE_FILE, 'infrastructure', renderMigrationFile(INFRASTRUCTURE_FILE, 'infrastructure', sql.infrastructureSql()));
  // Files of earlier runs that are not re-rendered: final tables and ALTERs.
  for (const f of previous?.files ?? []) {
    if (f.kind === 'table') put(f.path, 'table', read(f.path));
  }
  for (const f of options.extraFiles ?? []) put(f.path, f.kind, f.text);
  for (const target of targets) {
    const key = tableKey(target.table.id);
    const state = states.get(key);
    if (state) {
      const changes = diffTable(stateToSchema(state), target.table);
      if (changes.length > 0) {
        warnings.push(
          `${formatTableId(target.table.id)}: ${target.definition.file} differs from the migrations (${changes.map((c) => c.kind).join(', ')}); run cdc migrations diff --write`,
        );
      }
      continue;
    }
    if (!selected(target)) continue;
    const base = baseName(target.table, targets, [...states.values()]);
    const tableFile = `${TABLES_DIR}/${base}.sql`;
    const stagingFile = `${TABLES_DIR}/${base}-staging.sql`;
    const source = `Source: ${relative(project.dir, target.definition.file).split(sep).join('/')}`;
    const [table] = sql.tableUnits(target.table);
    put(tableFile, 'table', renderMigrationFile(tableFile, 'table', table.sql, source));
    states.set(key, stateOf(target, { table: tableFile, staging: stagingFile }));
  }
  for (const state of states.values()) {
    const note = `Table: ${state.schema}.${state.name} (from ${state.source})`;
    const [, staging] = sql.tableUnits(stateToSchema(state, sink));
    const path = stagingFileOf(state);
    put(path, 'repeatable', renderMigrationFile(path, 'repeatable', staging.sql, note));
  }
  if (sink.merge?.schedule) {
    put(SCHEDULE_FILE, 'repeatable', renderMigrationFile(SCHEDULE_FILE, 'repeatable', sql.pgCronScheduleSql(sinkName, sink.merge.schedule, sink.merge.window_seconds, sink.merge.stuck_after_seconds)));
  }
  const defined = new Set(targets.map((t) => tableKey(t.table.id)));
  for (const state of states.values()) {
    if (!defined.has(tableKey(state))) {
      warnings.push(`${formatTableId(stateToSchema(state).id)} is in the migrations but has no definition any more; cdc migrations diff --write --allow-destructive drops it`);
    }
  }
  // History names: the table units of the base files; kept for base files of dropped tables.
  const names = previous ? historyNames(previous) : new Map<string, string>();
  for (const state of states.values()) {
    const id = { schema: state.schema, name: state.name };
    names.set(state.files.table, sql.historyName('table', id));
    names.set(stagingFileOf(state), sql.historyName('staging', id));
  }
  const ordered = applyOrder([...files.values()]);
  const manifestFiles = ordered.map((f) => ({
    path: f.path,
    kind: f.kind,
    checksum: parseMigrationFile(f.path, f.text, f.kind).checksum,
    history_name: names.get(f.path),
  }));
  const databases = Object.fromEntries(Object.entries(project.config.environments ?? {}).map(([env, e]) => [env, e.database]));
  const manifest = buildManifest({ sink: sinkName, databases, files: manifestFiles, tables: [...states.values()] });
  const status = (path: string, text: string): PlannedFile['status'] => {
    const full = join(dir, path);
    if (!existsSync(full)) return 'new';
    return readFileSync(full, 'utf8') === text ? 'unchanged' : 'changed';
  };
  const manifestText = renderManifest(manifest);
  return {
    sink: sinkName,
    dir,
    files: ordered.map((f) => ({ ...f, status: status(f.path, f.text) })),
    manifest,
    manifestStatus: status(MANIFEST_FILE, manifestText),
    warnings: [...new Set(warnings)],
    targets,
  };
}

/**
 * Writes a plan: every new or changed file and the manifest. Files are written before the
 * manifest, so an interrupted write leaves a manifest that `validate` flags.
 */
export function writeMigrationPlan(plan: MigrationPlan): void {
  for (const f of plan.files) {
    if (f.status === 'unchanged') continue;
    const full = join(plan.dir, f.path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, f.text);
  }
  mkdirSync(plan.dir, { recursive: true });
  writeFileSync(join(plan.dir, MANIFEST_FILE), renderManifest(plan.manifest));
}
