/**
 * `cdc status`: slot lag (bytes and seconds), snapshot progress, per-table rows and last merge;
 * with `--target` alone, the target's merge status views. The report is built in `src/run/status.ts`.
 */
import { collectMergeStatus, collectStatus, formatMergeStatus, formatStatus, requireStatusUrls } from '../run/status.js';
import { redactValue } from '../redact.js';
import { EXIT } from './errors.js';

/** Flags of `cdc status`. */
export interface StatusFlags {
  source?: string;
  target?: string;
  name?: string;
  json?: boolean;
}

/** Runs `cdc status`; resolves to the exit code. */
export async function statusCommand(flags: StatusFlags): Promise<number> {
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
