/**
 * `cdc status`: where a pipeline stands on its source (replication slot: lag in bytes and
 * seconds, WAL retained) and on its target (merged position, per-table snapshot state, rows and
 * last merge), and the target's merge status views. Collected through the registry, rendered for
 * a terminal or as JSON.
 */
import { CdcError } from '../errors.js';
import { formatLsn } from '../events/lsn.js';
import { renderTable } from '../observability/text-table.js';
import type { MergeStatusReport, TableStatus } from '../sinks/sink-status.js';
import { dialectForUrl, SOURCE_KINDS, type TargetConfig } from './registry.js';

/** The report `cdc status --json` prints. */
export interface StatusReport {
  readonly pipeline: string;
  readonly slot: null | {
    readonly active: boolean;
    readonly walStatus: string | null;
    readonly confirmedFlushLsn: string | null;
    readonly currentLsn: string;
    /** WAL not yet confirmed by the pipeline, in bytes. */
    readonly lagBytes: number | null;
    /** Seconds since the last merge while WAL is waiting (0 when caught up). */
    readonly lagSeconds: number | null;
    /** WAL the slot keeps on the source, in bytes. */
    readonly retainedBytes: number | null;
  };
  /** The slot pipeline's merged position (partition `''`), or null. */
  readonly mergedLsn: string | null;
  /** Every stored partition position, for people. */
  readonly positions: readonly { readonly partition: string; readonly text: string }[];
  readonly tables: readonly TableStatus[];
}

/**
 * Builds the report of pipeline `name` from a PostgreSQL source and a target. `target` is the
 * target's resolved settings when cdc.yaml gave them (a lake target's `storage:` block reaches an
 * `s3://` location as `cdc run` does); without it `targetUrl` alone is used.
 * @throws {CdcError} NOT_INITIALIZED when the target holds nothing yet; connection errors.
 */
export async function collectStatus(options: { sourceUrl: string; targetUrl: string; target?: TargetConfig; name: string }): Promise<StatusReport> {
  const dialect = dialectForUrl(options.targetUrl);
  const slot = await SOURCE_KINDS.postgres.readSlot(options.sourceUrl, options.name);
  const reader = await dialect.createStatusReader(options.targetUrl, options.target);
  try {
    const target = await reader.pipeline(options.name);
    const merged = target.positions.find((p) => p.partition === '');
    const lagBytes = slot?.confirmedFlushLsn != null ? Number(slot.currentLsn - slot.confirmedFlushLsn) : null;
    return {
      pipeline: options.name,
      slot: slot && {
        active: slot.active,
        walStatus: slot.walStatus,
        confirmedFlushLsn: slot.confirmedFlushLsn === null ? null : formatLsn(slot.confirmedFlushLsn),
        currentLsn: formatLsn(slot.currentLsn),
        lagBytes,
        lagSeconds: lagBytes === null ? null : lagBytes === 0 || !merged ? 0 : Math.round(merged.ageSeconds * 10) / 10,
        retainedBytes: slot.retainedBytes === null ? null : Number(slot.retainedBytes),
      },
      mergedLsn: merged ? formatLsn(merged.position) : null,
      positions: target.positions.map((p) => ({ partition: p.partition, text: p.text })),
      tables: target.tables,
    };
  } finally {
    await reader.close();
  }
}

/**
 * The target's merge status views (`cdc status --target URL`); `target` as for {@link collectStatus}.
 * @throws {CdcError} NOT_INITIALIZED; CONFIG_INVALID for a URL no dialect takes.
 */
export async function collectMergeStatus(targetUrl: string, target?: TargetConfig): Promise<MergeStatusReport> {
  const reader = await dialectForUrl(targetUrl).createStatusReader(targetUrl, target);
  try {
    return await reader.merges();
  } finally {
    await reader.close();
  }
}

/** Renders {@link StatusReport} as text for a terminal. */
export function formatStatus(r: StatusReport): string {
  const lines = [`pipeline ${r.pipeline}`];
  if (!r.slot) lines.push('  slot: none (run cdc run to create it)');
  else {
    lines.push(
      `  slot: ${r.slot.active ? 'active' : 'inactive'}, wal_status ${r.slot.walStatus ?? '-'}, confirmed ${r.slot.confirmedFlushLsn ?? '-'}, current ${r.slot.currentLsn}`,
      `  lag: ${r.slot.lagBytes ?? '-'} bytes, ${r.slot.lagSeconds ?? '-'} s; WAL retained ${r.slot.retainedBytes ?? '-'} bytes`,
    );
  }
  lines.push(`  merged up to: ${r.mergedLsn ?? (r.positions.map((p) => p.text).join(', ') || '-')}`, '');
  const header = ['table', 'snapshot', 'rows', 'merges', 'last merge', 'last rows'];
  const body = r.tables.map((t) => [t.table, t.snapshot, String(t.rows), String(t.mergeCount), t.lastMerge ?? '-', t.lastMergeRows === null ? '-' : String(t.lastMergeRows)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  for (const row of [header, ...body]) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  return lines.join('\n');
}

/** Renders {@link MergeStatusReport} for a terminal. */
export function formatMergeStatus(r: MergeStatusReport): string {
  const out = [
    'merge status (cdc_management.v_merge_status)',
    renderTable(
      ['table', 'status', 's since change', 'merges', 'last merge', 'last ms', 'last rows', 'last error'],
      r.tables.map((t) => [
        `${t.schema_name}.${t.table_name}`,
        t.status,
        t.seconds_since_change ?? '-',
        t.merge_count,
        t.last_merge_time ? t.last_merge_time.toISOString() : '-',
        t.last_merge_duration_ms === null ? '-' : String(Math.round(t.last_merge_duration_ms)),
        t.last_merge_rows ?? '-',
        (t.last_error ?? '').slice(0, 60),
      ]),
    ),
  ];
  if (r.lag.length > 0) {
    out.push('', 'pipelines (v_replication_lag)', renderTable(['pipeline', 'merged', 's since update', 'last batch', 'changes/h'], r.lag.map((l) => [l.pipeline, l.merged_position ?? '-', l.seconds_since_update, l.last_batch_at ? l.last_batch_at.toISOString() : '-', l.changes_last_hour])));
  }
  if (r.recentErrors.length > 0) {
    out.push('', 'recent errors (v_recent_errors)', renderTable(['at', 'table', 'code', 'message'], r.recentErrors.map((e) => [e.occurred_at.toISOString(), e.table_name ? `${e.schema_name}.${e.table_name}` : '-', e.error_code ?? '-', e.message.slice(0, 80)])));
  }
  if (r.gaps.length > 0) {
    out.push('', 'pauses over 60 s (v_processing_gaps)', renderTable(['pipeline', 'from', 'to', 'seconds'], r.gaps.map((g) => [g.pipeline, g.gap_start.toISOString(), g.gap_end.toISOString(), g.gap_seconds])));
  }
  return out.join('\n');
}

/**
 * Checks that `cdc status` got what it needs.
 * @throws {CdcError} CONFIG_INVALID naming the missing URL.
 */
export function requireStatusUrls<F extends { source?: string; target?: string }>(flags: F): asserts flags is F & { source: string; target: string } {
  if (!flags.source || !flags.target) {
    throw new CdcError('CONFIG_INVALID', 'cdc status needs --source and --target (or --target alone for the merge status views, or --config cdc.yaml)', {
      remedy: 'pass both URLs, as for cdc run, or only --target, or --config with a PostgreSQL source: { url } and a target: section',
    });
  }
}
