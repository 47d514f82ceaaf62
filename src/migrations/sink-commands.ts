/**
 * The `cdc migrations` commands for any project sink: each picks the sink's migration mode
 * (`sinkMigrations`) and runs the SQL path (generate.ts, diff.ts, apply.ts, status.ts: an
 * environment's PostgreSQL database) or the lake path (lake-generate.ts, lake-apply.ts: the
 * sink's own location). The CLI and `cdc run` call these; no kind is named here.
 */
import { CdcError } from '../errors.js';
import { projectSink, type Project } from '../project/project.js';
import type { LakeTargetSection } from '../sinks/lake-migrations.js';
import { applyMigrations, type ApplyOptions, type ApplyResult } from './apply.js';
import { diffMigrations, type DiffOptions, type DiffResult } from './diff.js';
import { planMigrations, writeMigrationPlan, type MigrationPlan } from './generate.js';
import { applyLakeMigrations, lakeMigrationStatus } from './lake-apply.js';
import { planLakeMigrations } from './lake-generate.js';
import { sinkMigrations } from './sink-migrations.js';
import { migrationStatus, type MigrationStatus } from './status.js';

/**
 * `cdc migrations generate`: the sink's migrations, rendered (write them with `writeMigrationPlan`).
 * @throws {CdcError} as `planMigrations` (SQL sinks) or `planLakeMigrations` (lake sinks), and
 *   CONFIG_INVALID for a sink whose `type` or `target:` block is wrong.
 */
export function generateSinkMigrations(project: Project, options: { readonly sink?: string; readonly table?: string } = {}): MigrationPlan {
  const { name, sink } = projectSink(project, options.sink);
  const mode = sinkMigrations(project, name, sink);
  if (mode.mode === 'lake') return planLakeMigrations(project, name, sink, mode, options.table ? { table: options.table } : {});
  return planMigrations(project, { sink: name, ...(options.table ? { table: options.table } : {}) });
}

/**
 * `cdc migrations diff`: definitions vs migrations (and, for SQL sinks with `env`, the live
 * catalog); `write` writes the migrations that close the gap (for lake sinks, what `generate`
 * writes).
 * @throws {CdcError} as `diffMigrations`; CONFIG_INVALID for `env` on a lake sink (it has one
 *   location, no environments); MIGRATION_UNSUPPORTED from a lake kind's converter with `write`.
 */
export async function diffSinkMigrations(options: DiffOptions): Promise<DiffResult> {
  const { name, sink } = projectSink(options.project, options.sink);
  const mode = sinkMigrations(options.project, name, sink);
  if (mode.mode === 'sql') return diffMigrations(options);
  if (options.env !== undefined) {
    throw new CdcError('CONFIG_INVALID', `sink ${name} (${sink.type}) has no environments: its tables live at sinks.${name}.target.location`, {
      remedy: 'leave out --env: cdc migrations diff compares schemas/ with the migrations, and cdc migrations status shows what the location has applied',
    });
  }
  const result = await diffMigrations({ ...options, sink: name, write: false });
  if (!options.write) return result;
  const plan = planLakeMigrations(options.project, name, sink, mode, options.table ? { table: options.table } : {});
  writeMigrationPlan(plan);
  return { ...result, written: plan.files.filter((f) => f.status !== 'unchanged').map((f) => f.path), warnings: plan.warnings };
}

/** Options for {@link applySinkMigrations}: those of `applyMigrations`, and for lake sinks the location to use. */
export interface SinkApplyOptions extends ApplyOptions {
  /** A lake sink's location (`cdc run` passes its target's); default the sink's `target:` block. */
  readonly where?: LakeTargetSection;
}

/**
 * `cdc migrations apply`: SQL sinks on `env`'s (or `url`'s) database; lake sinks on their
 * location (`env` is refused: a lake sink has one location).
 * @throws {CdcError} as `applyMigrations` or `applyLakeMigrations`.
 */
export async function applySinkMigrations(options: SinkApplyOptions): Promise<ApplyResult> {
  const { name, sink } = projectSink(options.project, options.sink);
  const mode = sinkMigrations(options.project, name, sink);
  if (mode.mode === 'sql') return applyMigrations(options);
  if (options.env !== undefined) {
    throw new CdcError('CONFIG_INVALID', `sink ${name} (${sink.type}) has no environments: apply writes to sinks.${name}.target.location`, {
      remedy: 'leave out --env; to migrate another location, declare it as another sink',
    });
  }
  return applyLakeMigrations({
    project: options.project,
    sinkName: name,
    lake: mode,
    log: options.log,
    ...(options.where ? { where: options.where } : {}),
    ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}),
    ...(options.to !== undefined ? { to: options.to } : {}),
  });
}

/**
 * `cdc migrations status`: SQL sinks offline (`env` undefined) or against `env`'s history; lake
 * sinks offline, or (without `offline`) against their location's history.
 * @throws {CdcError} as `migrationStatus` or `lakeMigrationStatus`; CONFIG_INVALID for `env` on
 *   a lake sink.
 */
export async function sinkMigrationStatus(options: { project: Project; sink?: string; env?: string; offline?: boolean }): Promise<MigrationStatus> {
  const { name, sink } = projectSink(options.project, options.sink);
  const mode = sinkMigrations(options.project, name, sink);
  if (mode.mode === 'sql') {
    if (options.env === undefined && !options.offline) {
      throw new CdcError('CONFIG_INVALID', 'cdc migrations status needs --env ENV or --offline', { remedy: 'pass --env with an environment of cdc.yaml, or --offline' });
    }
    return migrationStatus({ project: options.project, sink: name, ...(options.offline || options.env === undefined ? {} : { env: options.env }) });
  }
  if (options.env !== undefined) {
    throw new CdcError('CONFIG_INVALID', `sink ${name} (${sink.type}) has no environments: status reads sinks.${name}.target.location`, { remedy: 'leave out --env (or pass --offline)' });
  }
  return lakeMigrationStatus({ project: options.project, sinkName: name, lake: mode, offline: options.offline ?? false });
}
