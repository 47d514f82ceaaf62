/**
 * `cdc status --target URL` (without a source): what the target's monitoring views say
 * (DESIGN.md §4): `v_merge_status` per table, `v_recent_errors`, `v_replication_lag` and
 * `v_processing_gaps`.
 */
import { CdcError } from '../errors.js';
import { connectPostgres } from '../sql/connect.js';
import { renderTable } from './text-table.js';

/** The report `cdc status --target URL --json` prints. */
export interface MergeStatusReport {
  readonly tables: readonly {
    schema_name: string;
    table_name: string;
    status: string;
    has_changes: boolean;
    is_merging: boolean;
    seconds_since_change: string | null;
    merge_count: string;
    last_merge_time: Date | null;
    last_merge_duration_ms: number | null;
    last_merge_rows: string | null;
    last_error: string | null;
  }[];
  readonly recentErrors: readonly { occurred_at: Date; schema_name: string | null; table_name: string | null; error_code: string | null; message: string }[];
  readonly lag: readonly { pipeline: string; merged_position: string | null; seconds_since_update: string; last_batch_at: Date | null; changes_last_hour: string }[];
  readonly gaps: readonly { pipeline: string; gap_start: Date; gap_end: Date; gap_seconds: string }[];
}

/**
 * Reads the views.
 * @throws {CdcError} NOT_INITIALIZED when the target has no views yet; connection errors.
 */
export async function collectMergeStatus(targetUrl: string): Promise<MergeStatusReport> {
  const client = await connectPostgres(targetUrl, { role: 'target', applicationName: 'cdc-merge status' });
  try {
    const { rows } = await client.query<{ ok: boolean }>("SELECT to_regclass('cdc_management.v_merge_status') IS NOT NULL AS ok");
    if (!rows[0]!.ok) {
      throw new CdcError('NOT_INITIALIZED', 'the target has no cdc_management views yet', { remedy: 'apply the migrations (cdc migrations apply) or run cdc run first' });
    }
    const tables = await client.query(
      `SELECT schema_name, table_name, status, has_changes, is_merging, seconds_since_change::text, merge_count::text, last_merge_time,
              last_merge_duration_ms, last_merge_rows::text, last_error
         FROM cdc_management.v_merge_status ORDER BY schema_name, table_name`,
    );
    const errors = await client.query('SELECT occurred_at, schema_name, table_name, error_code, message FROM cdc_management.v_recent_errors LIMIT 10');
    const lag = await client.query(
      'SELECT pipeline, merged_position, seconds_since_update::text, last_batch_at, changes_last_hour::text FROM cdc_management.v_replication_lag ORDER BY pipeline',
    );
    const gaps = await client.query('SELECT pipeline, gap_start, gap_end, gap_seconds::text FROM cdc_management.v_processing_gaps ORDER BY gap_end DESC LIMIT 10');
    return {
      tables: tables.rows as MergeStatusReport['tables'],
      recentErrors: errors.rows as MergeStatusReport['recentErrors'],
      lag: lag.rows as MergeStatusReport['lag'],
      gaps: gaps.rows as MergeStatusReport['gaps'],
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Renders the report for a terminal. */
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
