/**
 * `cdc status`: slot lag (bytes and seconds), snapshot progress, per-table rows and last merge;
 * with `--target` alone, the target's merge status views. `--config cdc.yaml` gives the source,
 * the target (a lake target with its `storage:` block, as `cdc run` reaches it) and the name;
 * flags override it. The report is built in `src/run/status.ts`.
 */
import { CdcError } from '../errors.js';
import { collectMergeStatus, collectStatus, formatMergeStatus, formatStatus, requireStatusUrls } from '../run/status.js';
import { resolveTargetSettings } from '../run/target-settings.js';
import { redactValue } from '../redact.js';
import { EXIT } from './errors.js';

/** Flags of `cdc status`. */
export interface StatusFlags {
  config?: string;
  source?: string;
  target?: string;
  name?: string;
  json?: boolean;
}

/**
 * Runs `cdc status`; resolves to the exit code.
 * @throws {CdcError} CONFIG_INVALID for missing URLs or a config file that does not validate;
 *   NOT_INITIALIZED when the target holds nothing of the pipeline; connection errors.
 */
export async function statusCommand(flags: StatusFlags): Promise<number> {
  if (flags.config) {
    const settings = resolveTargetSettings(flags);
    if (!settings.sourceUrl) {
      throw new CdcError('CONFIG_INVALID', `${flags.config} has no PostgreSQL source (source: { url }), and no --source was given: cdc status reads the pipeline's replication slot`, {
        remedy: 'pass --source postgres://… with --config',
      });
    }
    const report = redactValue(await collectStatus({ sourceUrl: settings.sourceUrl, targetUrl: settings.url, ...(settings.lake ? { target: settings.lake } : {}), name: settings.name ?? 'cdc' })) as Awaited<ReturnType<typeof collectStatus>>;
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatStatus(report)}\n`);
    return EXIT.ok;
  }
  if (flags.target && !flags.source) {
    // What the target's tables hold is shown without secrets or row values, whoever wrote it.
    const merge = redactValue(await collectMergeStatus(flags.target)) as Awaited<ReturnType<typeof collectMergeStatus>>;
    process.stdout.write(flags.json ? `${JSON.stringify(merge, null, 2)}\n` : `${formatMergeStatus(merge)}\n`);
    return EXIT.ok;
  }
  requireStatusUrls(flags);
  const report = redactValue(await collectStatus({ sourceUrl: flags.source, targetUrl: flags.target, name: flags.name ?? 'cdc' })) as Awaited<ReturnType<typeof collectStatus>>;
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatStatus(report)}\n`);
  return EXIT.ok;
}
