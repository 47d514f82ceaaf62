/**
 * `cdc migrations apply` and `status` for a lake sink: the files of `migrations/<sink>/` run, in
 * manifest order, on the sink's location (its `target:` block, or the location `cdc run` writes
 * to), each recorded in the location's migration history under its path (the kind says where it
 * keeps it: the Delta sink in `<location>/_cdc/migration_history`). The decisions are those of
 * SQL sinks (`decide`): never applied → run; same checksum → skip; failed before → run again; an
 * applied file with another checksum → refused (MIGRATION_TABLE_CHANGED). There is no lock:
 * every statement of a lake kind is idempotent, so two applies at once do the same work twice
 * at worst and leave the same tables.
 */
import type { Logger } from 'pino';
import { CdcError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { redactedMessage } from '../redact.js';
import type { Project } from '../project/project.js';
import type { LakeTargetSection } from '../sinks/lake-migrations.js';
import { decide, type ApplyResult } from './apply.js';
import { checkMigrations, type MigrationProblem } from './check.js';
import { migrationsDir, readManifestIfAny } from './generate.js';
import type { Manifest } from './manifest.js';
import { lakeTargetWithEnvironment, type LakeSinkMigrations } from './sink-migrations.js';
import type { FileStatus, MigrationStatus } from './status.js';

/** Options for {@link applyLakeMigrations}. */
export interface LakeApplyOptions {
  readonly project: Project;
  readonly sinkName: string;
  readonly lake: LakeSinkMigrations;
  /** The location to apply to (`cdc run` passes its target's); default the sink's `target:` block. */
  readonly where?: LakeTargetSection;
  /** Print the plan, run nothing. */
  readonly dryRun?: boolean;
  /** Stop after this file (path relative to the sink folder). */
  readonly to?: string;
  /** One line per event. */
  readonly log: (line: string) => void;
  /** Warnings of the kind's table code (default: a logger on standard error at level warn). */
  readonly logger?: Logger;
}

function manifestOf(project: Project, sinkName: string): { dir: string; manifest: Manifest } {
  const dir = migrationsDir(project, sinkName);
  const manifest = readManifestIfAny(dir);
  if (!manifest) throw new CdcError('MIGRATIONS_INVALID', `no migrations in ${dir}`, { remedy: 'run cdc migrations generate first' });
  return { dir, manifest };
}

/** Every file recorded under its own path. */
const byPath = (manifest: Manifest) => new Map(manifest.files.map((f) => [f.path, f.path]));

/**
 * Applies a lake sink's migrations to its location.
 * @returns `database`: the location (no secrets), and every file's decision.
 * @throws {CdcError} MIGRATIONS_INVALID (no manifest, a hand-edited or missing file, a broken
 *   chain), MIGRATION_TABLE_CHANGED, MIGRATION_FAILED (naming the file and the cause; recorded in
 *   the history), CONFIG_INVALID (unknown --to file, an unset `${VAR}`, a bad location).
 */
export async function applyLakeMigrations(options: LakeApplyOptions): Promise<ApplyResult> {
  const { dir, manifest } = manifestOf(options.project, options.sinkName);
  const { problems, files } = checkMigrations(dir, manifest);
  for (const p of problems.filter((p) => p.code === 'FILE_EXTRA')) options.log(`warning: ${p.message}`);
  const blocking = problems.filter((p) => p.code !== 'FILE_EXTRA');
  if (blocking.length > 0) {
    throw new CdcError('MIGRATIONS_INVALID', `refusing to apply: ${blocking.map((p) => p.message).join('; ')}`, {
      remedy: 'restore generated files from version control or regenerate them (cdc migrations generate); change tables through schemas/',
      context: { file: blocking[0]!.path },
    });
  }
  if (options.to !== undefined && !manifest.files.some((f) => f.path === options.to)) {
    throw new CdcError('CONFIG_INVALID', `--to ${options.to} is not a file of ${dir}`, { remedy: `give a path as listed in ${dir}/manifest.yaml, e.g. ${manifest.files[0]?.path ?? '01-tables/…'}` });
  }
  const where = options.where ?? lakeTargetWithEnvironment(options.project, options.sinkName, options.lake);
  const target = await options.lake.dialect.open(where, options.logger ?? createLogger({ level: 'warn' }));
  const decisions = decide(manifest, await target.readHistory(), options.to, byPath(manifest));
  for (const d of decisions) {
    if (d.action === 'skip') continue;
    if (options.dryRun) {
      options.log(`would ${d.action} ${d.path}`);
      continue;
    }
    const entry = manifest.files.find((f) => f.path === d.path)!;
    const started = performance.now();
    try {
      await target.run(files.get(d.path)!.body, d.path);
    } catch (error) {
      const message = redactedMessage(error);
      await target.record({ name: d.path, kind: entry.kind, checksum: entry.checksum, success: false, error: message, statement: null }).catch(() => undefined);
      throw new CdcError('MIGRATION_FAILED', `${d.path} failed on ${target.description}: ${message}`, {
        cause: error,
        remedy: error instanceof CdcError && error.remedy ? error.remedy : `fix the cause (the error is recorded in ${target.historyPath}), then run apply again: applied files are skipped`,
        context: { file: d.path },
      });
    }
    await target.record({ name: d.path, kind: entry.kind, checksum: entry.checksum, success: true, error: null, statement: null });
    options.log(`${d.action === 'retry' ? 'applied (retry)' : 'applied'} ${d.path} (${Math.round(performance.now() - started)} ms)`);
  }
  if (decisions.every((d) => d.action === 'skip')) options.log(`${target.description}: every migration is applied`);
  return { database: target.description, decisions };
}

/**
 * Status of a lake sink's files: offline from the files alone, else against the location's
 * history.
 * @throws {CdcError} MIGRATIONS_INVALID without a manifest; CONFIG_INVALID for an unset `${VAR}`
 *   or a bad location; the storage's errors.
 */
export async function lakeMigrationStatus(options: { project: Project; sinkName: string; lake: LakeSinkMigrations; offline: boolean; logger?: Logger }): Promise<MigrationStatus> {
  const { dir, manifest } = manifestOf(options.project, options.sinkName);
  const { problems } = checkMigrations(dir, manifest);
  const problemOf = new Map<string, MigrationProblem>(problems.map((p) => [p.path, p]));
  const local = (path: string): FileStatus['state'] | undefined => {
    const code = problemOf.get(path)?.code;
    if (code === 'FILE_MISSING') return 'missing';
    return code === 'FILE_MODIFIED' || code === 'CHECKSUM_MISMATCH' ? 'edited' : undefined;
  };
  if (options.offline) return { sink: options.sinkName, files: manifest.files.map((f) => ({ path: f.path, kind: f.kind, state: local(f.path) ?? 'unknown' })), problems };
  const target = await options.lake.dialect.open(lakeTargetWithEnvironment(options.project, options.sinkName, options.lake), options.logger ?? createLogger({ level: 'warn' }));
  const history = await target.readHistory();
  const files = manifest.files.map((f): FileStatus => {
    const h = history.get(f.path);
    const edited = local(f.path);
    if (!h) return { path: f.path, kind: f.kind, state: edited ?? 'pending' };
    const appliedAt = h.appliedAt.toISOString();
    if (!h.success) return { path: f.path, kind: f.kind, state: 'failed', appliedAt, ...(h.error ? { detail: h.error } : {}) };
    if (h.checksum !== f.checksum) return { path: f.path, kind: f.kind, state: 'modified', appliedAt, detail: 'changed since applied: apply refuses it' };
    return { path: f.path, kind: f.kind, state: edited ?? 'applied', appliedAt };
  });
  return { sink: options.sinkName, database: target.description, files, problems };
}
