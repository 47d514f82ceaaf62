/**
 * `cdc compact` and `cdc vacuum`: file maintenance of a lake target (Delta Lake): small files
 * rewritten into full ones, files no version needs any more deleted. The target is `--target
 * <location>` or the `target:` section of `--config cdc.yaml`, whose `storage:` block (endpoint,
 * region, keys from `${VAR}`) reaches an `s3://` location as `cdc run` does. Both print a line per
 * table (or JSON with `--json`) and exit 0, or 2 for bad flags or config. `cdc vacuum` also removes
 * the log entries each table's `delta.logRetentionDuration` has expired, unless `--keep-log`.
 */
import type { Command } from 'commander';
import { CdcError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { formatCount, renderTable } from '../observability/text-table.js';
import { dialectForUrl } from '../run/registry.js';
import { resolveTargetSettings } from '../run/target-settings.js';
import type { LakeTargetLocation } from '../sinks/lake/open-lake-storage.js';
import type { LakeMaintenanceDialect, MaintenanceReport } from '../sinks/sink-dialect.js';
import { EXIT } from './errors.js';

interface MaintenanceFlags {
  config?: string;
  target?: string;
  tables?: string;
  json?: boolean;
  retentionHours?: string;
  dryRun?: boolean;
  keepLog?: boolean;
  logLevel?: string;
}

/**
 * The maintenance of the target's kind and the target it maintains (location and `storage:`).
 * @throws {CdcError} CONFIG_INVALID for a target kind without file maintenance (PostgreSQL), no
 *   target, or a config file that does not validate (naming the file and the line).
 */
function maintenanceOf(flags: MaintenanceFlags): { maintenance: LakeMaintenanceDialect; target: LakeTargetLocation } {
  const settings = resolveTargetSettings(flags);
  const dialect = dialectForUrl(settings.url);
  if (!dialect.maintenance || !settings.lake) {
    throw new CdcError('CONFIG_INVALID', `a ${dialect.type} target has no files to compact or vacuum`, { remedy: 'give the location of a Delta Lake target (--target, or target: in --config cdc.yaml)' });
  }
  return { maintenance: dialect.maintenance, target: settings.lake };
}

function print(reports: readonly MaintenanceReport[], json: boolean, columns: [string, (r: MaintenanceReport) => string][]): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${renderTable(
      ['table', ...columns.map(([h]) => h)],
      reports.map((r) => [r.table, ...columns.map(([, f]) => f(r))]),
      ['left', ...columns.map((): 'right' => 'right')],
    )}\n`,
  );
}

const tablesOf = (flags: MaintenanceFlags) => (flags.tables ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');

/** Registers `cdc compact` and `cdc vacuum` on `program`. */
export function registerMaintenanceCommands(program: Command): void {
  program
    .command('compact')
    .description('rewrite the small data files of Delta tables into files of the target size (no data change: readers and the change feed see the same rows)')
    .option('--config <file>', 'cdc.yaml: its target: section (location and storage: block, ${VAR}s from the environment)')
    .option('--target <location>', 'the Delta location (an absolute directory or s3://bucket/prefix); replaces the config file\'s target')
    .option('--tables <names>', 'comma-separated schema.table names (default: every table there)')
    .option('--json', 'print the result as JSON')
    .option('--log-level <level>', 'debug, info, warn or error (default warn)')
    .action(async (flags: MaintenanceFlags) => {
      const log = createLogger({ level: flags.logLevel ?? 'warn' });
      const { maintenance, target } = maintenanceOf(flags);
      const reports = await maintenance.compact(target, { tables: tablesOf(flags), log });
      print(reports, flags.json ?? false, [
        ['files before', (r) => formatCount(r.filesBefore ?? 0)],
        ['files after', (r) => formatCount(r.filesAfter ?? 0)],
        ['version', (r) => (r.version === undefined ? '-' : String(r.version))],
      ]);
      process.exitCode = EXIT.ok;
    });
  program
    .command('vacuum')
    .description('delete files of Delta tables that no version newer than the retention needs (older versions can no longer be read), and the log entries each table\'s delta.logRetentionDuration has expired')
    .option('--config <file>', 'cdc.yaml: its target: section (location and storage: block, ${VAR}s from the environment)')
    .option('--target <location>', 'the Delta location (an absolute directory or s3://bucket/prefix); replaces the config file\'s target')
    .option('--tables <names>', 'comma-separated schema.table names (default: every table there)')
    .option('--retention-hours <hours>', 'keep files younger than this (default 168: a week, as Delta)', '168')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--keep-log', "keep the log entries (JSON commits, checkpoints) the table's delta.logRetentionDuration (default 30 days) has expired; by default they are removed")
    .option('--json', 'print the result as JSON')
    .option('--log-level <level>', 'debug, info, warn or error (default warn)')
    .action(async (flags: MaintenanceFlags) => {
      const retentionHours = Number(flags.retentionHours);
      if (!Number.isFinite(retentionHours) || retentionHours < 0) {
        throw new CdcError('CONFIG_INVALID', `--retention-hours ${flags.retentionHours} is not a number of hours`, { remedy: 'give 0 or more hours, e.g. 168' });
      }
      const log = createLogger({ level: flags.logLevel ?? 'warn' });
      const { maintenance, target } = maintenanceOf(flags);
      const reports = await maintenance.vacuum(target, { tables: tablesOf(flags), retentionHours, dryRun: flags.dryRun ?? false, keepLog: flags.keepLog ?? false, log });
      print(reports, flags.json ?? false, [
        [flags.dryRun ? 'files to delete' : 'files deleted', (r) => formatCount(r.filesDeleted ?? 0)],
        ['bytes', (r) => formatCount(r.bytesDeleted ?? 0)],
        ...(flags.keepLog ? [] : [[flags.dryRun ? 'log entries to delete' : 'log entries deleted', (r: MaintenanceReport) => formatCount(r.logFilesDeleted ?? 0)] as [string, (r: MaintenanceReport) => string]]),
      ]);
      process.exitCode = EXIT.ok;
    });
}
