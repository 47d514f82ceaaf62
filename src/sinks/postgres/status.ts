/**
 * `cdc status` on a PostgreSQL target: the stored checkpoint and per-table state of a pipeline
 * (`offsets`, `snapshot_progress`, `table_definitions`, `merge_control`, row counts), and the
 * monitoring views (DESIGN.md §4): `v_merge_status`, `v_recent_errors`, `v_replication_lag`,
 * `v_processing_gaps`.
 */
import type pg from 'pg';
import { CdcError } from '../../errors.js';
import { connectPostgres } from '../../sql/connect.js';
import { quoteTable } from '../../sql/quote.js';
import type { SinkStatusReader } from '../sink-dialect.js';
import type { MergeStatusReport, TableStatus, TargetStatus } from '../sink-status.js';

/**
 * Connects a status reader to the target at `url`.
 * @throws {CdcError} the connection errors of `connectPostgres`.
 */
export async function openPostgresStatusReader(url: string): Promise<SinkStatusReader> {
  const client = await connectPostgres(url, { role: 'target', applicationName: 'cdc-merge status' });
  return {
    pipeline: (name) => pipelineStatus(client, name),
    merges: () => mergeStatus(client),
    close: () => client.end().catch(() => undefined),
  };
}

async function requireObject(client: pg.Client, name: string, remedy: string): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [name]);
  if (!rows[0]!.ok) throw new CdcError('NOT_INITIALIZED', `the target has no ${name} yet`, { remedy });
}

async function pipelineStatus(client: pg.Client, pipeline: string): Promise<TargetStatus> {
  await requireObject(client, 'cdc_management.offsets', 'start the pipeline with cdc run first');
  const offsets = await client.query<{ source_partition: string; position: string; position_text: string | null; age: number }>(
    `SELECT source_partition, position::text, position_text, extract(epoch FROM now() - updated_at)::float8 AS age
       FROM cdc_management.offsets WHERE pipeline = $1 ORDER BY source_partition`,
    [pipeline],
  );
  const tables = await client.query<{
    schema_name: string;
    table_name: string;
    state: string | null;
    merge_count: string | null;
    last_merge_time: Date | null;
    last_merge_rows: string | null;
  }>(
    `SELECT d.schema_name, d.table_name, s.state, m.merge_count::text, m.last_merge_time, m.last_merge_rows::text
       FROM cdc_management.table_definitions d
       LEFT JOIN cdc_management.snapshot_progress s USING (pipeline, schema_name, table_name)
       LEFT JOIN cdc_management.merge_control m ON m.schema_name = d.schema_name AND m.table_name = d.table_name
      WHERE d.pipeline = $1 ORDER BY 1, 2`,
    [pipeline],
  );
  const rows: TableStatus[] = [];
  for (const t of tables.rows) {
    const count = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteTable({ schema: t.schema_name, name: t.table_name })}`);
    rows.push({
      table: `${t.schema_name}.${t.table_name}`,
      schema: t.schema_name,
      name: t.table_name,
      snapshot: t.state ?? 'pending',
      rows: Number(count.rows[0]!.n),
      mergeCount: Number(t.merge_count ?? 0),
      lastMerge: t.last_merge_time ? t.last_merge_time.toISOString() : null,
      lastMergeRows: t.last_merge_rows === null ? null : Number(t.last_merge_rows),
    });
  }
  return {
    positions: offsets.rows.map((r) => ({ partition: r.source_partition, position: BigInt(r.position), text: r.position_text ?? r.position, ageSeconds: r.age })),
    tables: rows,
  };
}

async function mergeStatus(client: pg.Client): Promise<MergeStatusReport> {
  await requireObject(client, 'cdc_management.v_merge_status', 'apply the migrations (cdc migrations apply) or run cdc run first');
  const tables = await client.query<MergeStatusReport['tables'][number]>(
    `SELECT schema_name, table_name, status, has_changes, is_merging, seconds_since_change::text, merge_count::text, last_merge_time,
            last_merge_duration_ms, last_merge_rows::text, last_error
       FROM cdc_management.v_merge_status ORDER BY schema_name, table_name`,
  );
  const errors = await client.query<MergeStatusReport['recentErrors'][number]>(
    'SELECT occurred_at, schema_name, table_name, error_code, message FROM cdc_management.v_recent_errors LIMIT 10',
  );
  const lag = await client.query<MergeStatusReport['lag'][number]>(
    'SELECT pipeline, merged_position, seconds_since_update::text, last_batch_at, changes_last_hour::text FROM cdc_management.v_replication_lag ORDER BY pipeline',
  );
  const gaps = await client.query<MergeStatusReport['gaps'][number]>(
    'SELECT pipeline, gap_start, gap_end, gap_seconds::text FROM cdc_management.v_processing_gaps ORDER BY gap_end DESC LIMIT 10',
  );
  return { tables: tables.rows, recentErrors: errors.rows, lag: lag.rows, gaps: gaps.rows };
}
