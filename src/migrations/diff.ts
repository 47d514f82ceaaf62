/**
 * `cdc migrations diff` (DESIGN.md §5): compares the table definitions with the migrations
 * (the manifest's table states) and, with an environment, with the live target catalog; with
 * `--write`, emits the next numbered ALTER migrations and regenerates the rest.
 */
import { unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CdcError } from '../errors.js';
import { formatTableId, tableKey, type TableSchema } from '../schema/table.js';
import { matchesPattern, parseTablePatterns } from '../config/table-pattern.js';
import { connectPostgres } from '../sql/connect.js';
import { projectSink, sinkDefinitions, type Project } from '../project/project.js';
import { targetTables, type TargetTable } from '../schema/target-table.js';
import { decideChange, migrationPolicy } from '../schema/schema-change-policy.js';
import { diffTable, diffTables, type SchemaChange } from '../schema/schema-diff.js';
import { sql } from './sql-dialect.js';
import { changeMigration, dropTableMigration } from './change-migration.js';
import { environmentUrl } from './environment.js';
import { CHANGES_DIR, migrationsDir, planMigrations, readManifestIfAny, writeMigrationPlan, type PlannedFile } from './generate.js';
import { stateToSchema, type TableState } from './manifest.js';
import { renderMigrationFile } from './migration-file.js';

/** Options for {@link diffMigrations}. */
export interface DiffOptions {
  readonly project: Project;
  readonly sink?: string;
  /** Only tables matching this pattern (source or target `schema.table`). */
  readonly table?: string;
  /** Also compare with this environment's database. */
  readonly env?: string;
  readonly environ?: NodeJS.ProcessEnv;
  /** Write ALTER migrations for the changes (and base files for added tables). */
  readonly write?: boolean;
  /** Let `--write` drop columns and tables. */
  readonly allowDestructive?: boolean;
}

/** Result of {@link diffMigrations}. */
export interface DiffResult {
  /** Definitions vs migrations. */
  readonly changes: readonly SchemaChange[];
  /** Definitions vs the live catalog (with `env`). */
  readonly live?: readonly SchemaChange[];
  /** Files written by `--write` (relative to the sink folder). */
  readonly written: readonly string[];
  /** Destructive changes `--write` left out. */
  readonly skipped: readonly SchemaChange[];
  readonly warnings: readonly string[];
}

/**
 * Computes (and with `write`, writes) the differences.
 * @throws {CdcError} project and manifest errors, TABLE_NOT_FOUND for a `table` matching
 *   nothing, connection errors with `env`.
 */
export async function diffMigrations(options: DiffOptions): Promise<DiffResult> {
  const { name: sinkName, sink } = projectSink(options.project, options.sink);
  const dir = migrationsDir(options.project, sinkName);
  const manifest = readManifestIfAny(dir);
  const all = targetTables(sinkDefinitions(options.project, sink), sink);
  const states = manifest?.tables ?? [];
  const filter = options.table ? parseTablePatterns(options.table) : [];
  const wanted = (id: { schema: string; name: string }, source?: { schema: string; name: string }) =>
    filter.length === 0 || filter.some((p) => matchesPattern(p, id) || (source !== undefined && matchesPattern(p, source)));
  const targets = all.filter((t) => wanted(t.table.id, { schema: t.definition.schema, name: t.definition.table }));
  const stateList = states.filter((s) => wanted({ schema: s.schema, name: s.name }) || targets.some((t) => tableKey(t.table.id) === tableKey(s)));
  if (filter.length > 0 && targets.length === 0 && stateList.length === 0) {
    throw new CdcError('TABLE_NOT_FOUND', `no table matches --table ${options.table}`, { remedy: 'give a source or target schema.table' });
  }
  const changes = diffTables(stateList.map((s) => stateToSchema(s)), targets.map((t) => t.table));
  let live: SchemaChange[] | undefined;
  if (options.env !== undefined) {
    if (!manifest) throw new CdcError('MIGRATIONS_INVALID', `no migrations in ${dir}`, { remedy: 'run cdc migrations generate first' });
    const client = await connectPostgres(environmentUrl(options.env, manifest, options.environ), { role: `${options.env} database`, applicationName: 'cdc-merge migrations diff' });
    try {
      const ids = [...targets.map((t) => t.table.id), ...stateList.map((s) => ({ schema: s.schema, name: s.name }))];
      const existing = await sql.readTargetTables(client, ids);
      const relevant = existing.filter((t) => stateList.some((s) => tableKey(s) === tableKey(t.id)) || targets.some((x) => tableKey(x.table.id) === tableKey(t.id)));
      live = diffTables(relevant, targets.map((t) => t.table));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (!options.write) return { changes, live, written: [], skipped: [], warnings: all.flatMap((t) => t.warnings) };
  return { ...writeChanges(options, sinkName, dir, all, targets, states), changes, live };
}

function writeChanges(
  options: DiffOptions,
  sinkName: string,
  dir: string,
  all: readonly TargetTable[],
  targets: readonly TargetTable[],
  states: readonly TableState[],
): { written: string[]; skipped: SchemaChange[]; warnings: string[] } {
  const manifest = readManifestIfAny(dir);
  const numbers = (manifest?.files ?? []).map((f) => /^02-changes\/(\d+)-/.exec(f.path)?.[1]).filter((n): n is string => n !== undefined).map(Number);
  let next = Math.max(0, ...numbers) + 1;
  const newStates = new Map(states.map((s) => [tableKey(s), s]));
  const extraFiles: { path: string; kind: 'table'; text: string }[] = [];
  const skipped: SchemaChange[] = [];
  const allowDestructive = options.allowDestructive ?? false;
  const defined = new Map(all.map((t) => [tableKey(t.table.id), t]));
  const add = (name: string, body: string, note: string) => {
    const path = `${CHANGES_DIR}/${String(next++).padStart(4, '0')}-${name}.sql`;
    extraFiles.push({ path, kind: 'table', text: renderMigrationFile(path, 'table', body, note) });
  };
  for (const state of states) {
    const key = tableKey(state);
    const target = defined.get(key);
    const before = stateToSchema(state, projectSink(options.project, sinkName).sink);
    if (!targets.some((t) => tableKey(t.table.id) === key) && target) continue;
    if (!target) {
      if (options.table && !parseTablePatterns(options.table).some((p) => matchesPattern(p, before.id))) continue;
      const change = diffTables([before], [])[0]!;
      if (change.kind !== 'TABLE_REMOVED') continue;
      if (decideChange(change, migrationPolicy(allowDestructive)) !== 'apply') {
        skipped.push(change);
        continue;
      }
      add(before.id.name, dropTableMigration(change), `Drops ${formatTableId(before.id)} (TABLE_REMOVED)`);
      newStates.delete(key);
      continue;
    }
    if (diffTable(before, target.table).length === 0) continue;
    const migration = changeMigration(before, target.table, { allowDestructive });
    skipped.push(...migration.skipped);
    if (migration.body === '') continue;
    add(before.id.name, migration.body, `Changes ${formatTableId(before.id)}: ${migration.applied.map((c) => c.kind).join(', ')}`);
    newStates.set(key, resultState(state, migration.result));
  }
  const plan = planMigrations(options.project, { sink: sinkName, ...(options.table ? { table: options.table } : {}), states: [...newStates.values()], extraFiles });
  const orphans = (manifest?.files ?? []).filter((f) => f.kind === 'repeatable' && !plan.files.some((p) => p.path === f.path)).map((f) => f.path);
  // Keep the dropped tables' base files in the manifest order; remove their staging files.
  writeMigrationPlan(plan);
  for (const path of orphans) if (existsSync(join(dir, path))) unlinkSync(join(dir, path));
  const written = plan.files.filter((f: PlannedFile) => f.status !== 'unchanged').map((f) => f.path);
  return { written, skipped, warnings: [...plan.warnings] };
}

function resultState(state: TableState, table: TableSchema): TableState {
  return {
    ...state,
    primary_key: [...table.primaryKey],
    columns: table.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })),
  };
}

