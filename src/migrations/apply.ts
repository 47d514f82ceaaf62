/**
 * `cdc migrations apply` (DESIGN.md §5): runs a sink's migration files on an environment's
 * database, in manifest order, each in its own transaction together with its
 * `cdc_management.migration_history` row, under an advisory lock so that concurrent runs never
 * both run a file. A table's base files are recorded under the table's unit names, as `cdc run`
 * records the same DDL (src/sinks/postgres/migration-history.ts); rows an earlier version
 * recorded under the files' paths are renamed first.
 *
 * Per file: never applied → run; applied with the same checksum → skip; applied with another
 * checksum → re-run when it is infrastructure or repeatable (staging table IF NOT EXISTS, merge
 * procedure), refuse when it is table DDL (ALTERs come from `diff --write`); failed before → run
 * again. A failure rolls the file back, records the error and the failing statement, and stops.
 */
import type pg from 'pg';
import { CdcError } from '../errors.js';
import { redactedMessage } from '../redact.js';
import { connectPostgres } from '../sql/connect.js';
import { splitStatements } from '../sql/split-statements.js';
import { sql } from './sql-dialect.js';
import type { Project } from '../project/project.js';
import { projectSink } from '../project/project.js';
import { checkMigrations } from './check.js';
import { environmentUrl } from './environment.js';
import { migrationsDir, readManifestIfAny } from './generate.js';
import { historyNames, historyRenames } from './history-names.js';
import { assertSqlSink } from './sink-migrations.js';
import type { Manifest, ManifestFile } from './manifest.js';
import type { MigrationFile } from './migration-file.js';

/** Advisory lock key for `apply` (a constant: one apply at a time per database). */
export const APPLY_LOCK_KEY = 727_274_010;

/** A `migration_history` row. */
export interface AppliedMigration {
  readonly name: string;
  readonly checksum: string;
  readonly success: boolean;
  readonly appliedAt: Date;
  readonly error: string | null;
}

/** What apply does (or did) with one file. */
export type FileAction = 'apply' | 'reapply' | 'retry' | 'skip';

/** One file's decision. */
export interface FileDecision {
  readonly path: string;
  readonly kind: ManifestFile['kind'];
  readonly action: FileAction;
}

/** Reads migration_history (empty when the table does not exist yet). */
export async function readHistory(client: pg.ClientBase): Promise<Map<string, AppliedMigration>> {
  const { rows: exists } = await client.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [`${sql.managementSchema}.migration_history`]);
  if (!exists[0]?.t) return new Map();
  const { rows } = await client.query<{ name: string; checksum: string; success: boolean; applied_at: Date; error: string | null }>(
    `SELECT name, checksum, success, applied_at, error FROM ${sql.historyTable}`,
  );
  return new Map(rows.map((r) => [r.name, { name: r.name, checksum: r.checksum, success: r.success, appliedAt: r.applied_at, error: r.error }]));
}

/**
 * Decides every file's action from the history, looking each file up under its history name
 * (`names`; default `historyNames`: a table's base files under the table's unit names, others
 * under their path; lake sinks record every file under its path).
 * @throws {CdcError} MIGRATION_TABLE_CHANGED when an applied table file has another checksum.
 */
export function decide(manifest: Manifest, history: ReadonlyMap<string, AppliedMigration>, to?: string, names: ReadonlyMap<string, string> = historyNames(manifest)): FileDecision[] {
  const decisions: FileDecision[] = [];
  for (const f of manifest.files) {
    const applied = history.get(names.get(f.path)!);
    let action: FileAction;
    if (!applied) action = 'apply';
    else if (!applied.success) action = 'retry';
    else if (applied.checksum === f.checksum) action = 'skip';
    else if (f.kind === 'table') {
      throw new CdcError('MIGRATION_TABLE_CHANGED', `${f.path} (${applied.name}) was applied with checksum ${applied.checksum} and now has ${f.checksum}: table DDL is never re-applied`, {
        remedy:
          'restore the file from version control; to change the table, edit its YAML definition and run cdc migrations diff --write ' +
          '(if cdc run created the table first, with another definition, make the definition match the table)',
        context: { file: f.path },
      });
    } else action = 'reapply';
    decisions.push({ path: f.path, kind: f.kind, action });
    if (to !== undefined && f.path === to) break;
  }
  return decisions;
}

/** Options for {@link applyMigrations}. */
export interface ApplyOptions {
  readonly project: Project;
  /** Environment whose database to use (`PG_<ENV>_*` + the manifest's database)… */
  readonly env?: string;
  /** …or this database URL (`cdc run --config` passes its target). */
  readonly url?: string;
  readonly sink?: string;
  /** Print the plan, run nothing. */
  readonly dryRun?: boolean;
  /** Stop after this file (path relative to the sink folder). */
  readonly to?: string;
  /** One line per event. */
  readonly log: (line: string) => void;
  /** Environment variables (default process.env). */
  readonly environ?: NodeJS.ProcessEnv;
}

/** Result of {@link applyMigrations}. */
export interface ApplyResult {
  readonly database: string;
  readonly decisions: readonly FileDecision[];
}

/**
 * Applies the sink's migrations to `env`'s database.
 * @throws {CdcError} MIGRATIONS_INVALID (no manifest, a hand-edited/missing file, broken chain),
 *   MIGRATION_TABLE_CHANGED, MIGRATION_FAILED (with file and statement; recorded in
 *   migration_history), CONFIG_INVALID (unknown environment, unset variables, unknown --to file),
 *   and the connection errors of `connectPostgres`.
 */
export async function applyMigrations(options: ApplyOptions): Promise<ApplyResult> {
  const { name: sinkName, sink } = projectSink(options.project, options.sink);
  assertSqlSink(options.project, sinkName, sink);
  const dir = migrationsDir(options.project, sinkName);
  const manifest = readManifestIfAny(dir);
  if (!manifest) {
    throw new CdcError('MIGRATIONS_INVALID', `no migrations in ${dir}`, { remedy: 'run cdc migrations generate first' });
  }
  const { problems, files } = checkMigrations(dir, manifest);
  const blocking = problems.filter((p) => p.code !== 'FILE_EXTRA');
  for (const p of problems.filter((p) => p.code === 'FILE_EXTRA')) options.log(`warning: ${p.message}`);
  if (blocking.length > 0) {
    throw new CdcError('MIGRATIONS_INVALID', `refusing to apply: ${blocking.map((p) => p.message).join('; ')}`, {
      remedy: 'restore generated files from version control or regenerate them (cdc migrations generate); change tables through schemas/ and cdc migrations diff --write',
      context: { file: blocking[0]!.path },
    });
  }
  if (options.to !== undefined && !manifest.files.some((f) => f.path === options.to)) {
    throw new CdcError('CONFIG_INVALID', `--to ${options.to} is not a file of ${dir}`, { remedy: `give a path as listed in ${dir}/manifest.yaml, e.g. ${manifest.files[0]?.path ?? '00-infrastructure/…'}` });
  }
  if (options.env === undefined && options.url === undefined) {
    throw new CdcError('CONFIG_INVALID', 'no database to apply migrations to', { remedy: 'pass --env ENV' });
  }
  const url = options.url ?? environmentUrl(options.env!, manifest, options.environ);
  const database = options.env !== undefined ? manifest.databases[options.env]! : (decodeURIComponent(new URL(url).pathname.slice(1)) || 'target');
  const client = await connectPostgres(url, { role: options.env !== undefined ? `${options.env} database` : 'target', applicationName: 'cdc-merge migrations' });
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [APPLY_LOCK_KEY]);
    if (!rows[0]!.locked) {
      options.log('another cdc migrations apply holds the lock on this database; waiting for it');
      await client.query('SELECT pg_advisory_lock($1)', [APPLY_LOCK_KEY]);
    }
    // One naming scheme: rows recorded under a base file's path move to the table's unit name.
    // A dry run looks at the result and rolls it back.
    let history: Map<string, AppliedMigration>;
    await client.query('BEGIN');
    try {
      await sql.upgradeHistoryNames(client, historyRenames(manifest, files));
      history = await readHistory(client);
      await client.query(options.dryRun ? 'ROLLBACK' : 'COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    const decisions = decide(manifest, history, options.to);
    for (const d of decisions) {
      if (d.action === 'skip') continue;
      if (options.dryRun) {
        options.log(`would ${d.action} ${d.path}`);
        continue;
      }
      const started = performance.now();
      await runFile(client, files.get(d.path)!, manifest.files.find((f) => f.path === d.path)!, historyNames(manifest).get(d.path)!);
      options.log(`${d.action === 'apply' ? 'applied' : d.action === 'reapply' ? 're-applied' : 'applied (retry)'} ${d.path} (${Math.round(performance.now() - started)} ms)`);
    }
    const pending = decisions.filter((d) => d.action !== 'skip').length;
    if (pending === 0) options.log(`${database}: every migration is applied`);
    return { database, decisions };
  } finally {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Runs one file's statements and its history row (under `name`) in one transaction; records a failure. */
async function runFile(client: pg.Client, file: MigrationFile, entry: ManifestFile, name: string): Promise<void> {
  const statements = splitStatements(file.body);
  let current = '';
  try {
    await client.query('BEGIN');
    for (const s of statements) {
      current = s.sql;
      await client.query(s.sql);
    }
    current = '';
    await client.query(
      `INSERT INTO ${sql.historyTable} (name, kind, checksum, applied_at, success, error, statement) VALUES ($1, $2, $3, now(), true, NULL, NULL)
       ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, checksum = EXCLUDED.checksum, applied_at = now(), success = true, error = NULL, statement = NULL`,
      [name, entry.kind, entry.checksum],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const message = redactedMessage(error);
    await client
      .query(
        `INSERT INTO ${sql.historyTable} (name, kind, checksum, applied_at, success, error, statement) VALUES ($1, $2, $3, now(), false, $4, $5)
         ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now(), success = false, error = EXCLUDED.error, statement = EXCLUDED.statement`,
        [name, entry.kind, entry.checksum, message, current || null],
      )
      .catch(() => undefined);
    const hint = error && typeof error === 'object' && 'hint' in error && typeof error.hint === 'string' ? error.hint : undefined;
    throw new CdcError('MIGRATION_FAILED', `${entry.path} failed: ${message}${current ? `\n  statement: ${current.split('\n')[0]}${current.includes('\n') ? ' …' : ''}` : ''}`, {
      cause: error,
      remedy: hint ?? 'fix the cause (see cdc_management.migration_history for the statement), then run apply again: applied files are skipped',
      context: { file: entry.path },
    });
  }
}
