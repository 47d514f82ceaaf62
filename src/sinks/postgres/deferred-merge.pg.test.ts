/**
 * Deferred merge mode in SQL, on a real PostgreSQL (issue #4): the staging trigger marks
 * merge_control and notifies; trigger_pending_merges honours the window, merges, isolates a
 * failing table (error_log, staged rows kept) and retries it once fixed; manual_merge; a stuck
 * claim is taken over; the views report each state.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../../testing/throwaway-cluster.js';
import { MERGE_CHANNEL } from './deferred-merge.js';
import { infrastructureSql } from './infrastructure.js';
import { tableMigrations } from './sink.js';

const table = (name: string): TableSchema => ({
  id: { schema: 'public', name },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'label', type: 'text', nullable: false, toastable: true },
  ],
  primaryKey: ['id'],
});

let cluster: ThrowawayCluster;
let url: string;
let client: pg.Client;

async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await client.query<T>(text, params)).rows;
}

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'deferred' });
  url = await cluster.createDatabase('target');
  client = new pg.Client(url);
  await client.connect();
  await client.query(infrastructureSql());
  for (const t of [table('a'), table('b')]) for (const m of tableMigrations(t, {})) await client.query(m.sql);
});
afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

describe('deferred merge in SQL', () => {
  it('one INSERT statement marks merge_control once and notifies; the window holds the merge back', async () => {
    const listener = new pg.Client(url);
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.query(`LISTEN ${MERGE_CHANNEL}`);
    await sql(`INSERT INTO cdc_staging."public.a" (id, label, _cdc_op, _cdc_position) SELECT g, 'v' || g, 'I', cdc_management.row_position(10, g) FROM generate_series(1, 100) g`);
    await new Promise((r) => setTimeout(r, 200));
    await listener.end();
    expect(heard).toEqual(['public.a']);
    const [mc] = await sql<{ has_changes: boolean; merge_procedure: string }>("SELECT has_changes, merge_procedure FROM cdc_management.merge_control WHERE table_name = 'a'");
    expect(mc).toEqual({ has_changes: true, merge_procedure: '"cdc_staging"."sp_merge_public.a"' });
    expect(await sql("SELECT status FROM cdc_management.v_merge_status WHERE table_name = 'a'")).toEqual([{ status: 'BATCHING' }]);

    await sql('CALL cdc_management.trigger_pending_merges(60)');
    expect(await sql('SELECT count(*)::int AS n FROM public.a')).toEqual([{ n: 0 }]);
    await sql('CALL cdc_management.trigger_pending_merges(0)');
    expect(await sql('SELECT count(*)::int AS n FROM public.a')).toEqual([{ n: 100 }]);
    expect(await sql("SELECT status, merge_count::int, last_merge_rows::int FROM cdc_management.v_merge_status WHERE table_name = 'a'")).toEqual([
      { status: 'IDLE', merge_count: 1, last_merge_rows: 100 },
    ]);
    expect(await sql("SELECT success, rows::int FROM cdc_management.merge_log WHERE table_name = 'a'")).toEqual([{ success: true, rows: 100 }]);
  });

  it('a failing table rolls back alone, is logged with its statement, keeps its rows, and merges once fixed', async () => {
    await sql(`INSERT INTO cdc_staging."public.a" (id, label, _cdc_op, _cdc_position) VALUES (1, 'changed', 'U', cdc_management.row_position(20, 0)), (2, NULL, 'U', cdc_management.row_position(20, 1))`);
    await sql(`INSERT INTO cdc_staging."public.b" (id, label, _cdc_op, _cdc_position) VALUES (1, 'b1', 'I', cdc_management.row_position(20, 2))`);
    await sql('CALL cdc_management.trigger_pending_merges(0)');
    expect(await sql('SELECT id, label FROM public.b')).toEqual([{ id: 1, label: 'b1' }]);
    expect(await sql("SELECT label FROM public.a WHERE id IN (1, 2) ORDER BY id")).toEqual([{ label: 'v1' }, { label: 'v2' }]);
    expect(await sql('SELECT count(*)::int AS n FROM cdc_staging."public.a"')).toEqual([{ n: 2 }]);
    const [error] = await sql<{ table_name: string; error_code: string; message: string; statement: string }>(
      'SELECT table_name, error_code, message, statement FROM cdc_management.v_recent_errors LIMIT 1',
    );
    expect(error).toMatchObject({ table_name: 'a', error_code: '23502', message: expect.stringMatching(/null value in column "label"/) });
    expect(error!.statement).toMatch(/sp_merge_public\.a/);
    expect(await sql("SELECT has_changes, is_merging, last_error IS NOT NULL AS failed FROM cdc_management.merge_control WHERE table_name = 'a'")).toEqual([
      { has_changes: true, is_merging: false, failed: true },
    ]);

    await sql(`UPDATE cdc_staging."public.a" SET label = 'fixed' WHERE id = 2`);
    await sql('CALL cdc_management.trigger_pending_merges(0)');
    expect(await sql('SELECT id, label FROM public.a WHERE id IN (1, 2) ORDER BY id')).toEqual([
      { id: 1, label: 'changed' },
      { id: 2, label: 'fixed' },
    ]);
    expect(await sql("SELECT last_error FROM cdc_management.merge_control WHERE table_name = 'a'")).toEqual([{ last_error: null }]);
  });

  it('manual_merge merges one table now, whatever the window', async () => {
    await sql(`INSERT INTO cdc_staging."public.b" (id, label, _cdc_op, _cdc_position) VALUES (1, NULL, 'D', cdc_management.row_position(30, 0))`);
    await sql("CALL cdc_management.manual_merge('public', 'b')");
    expect(await sql('SELECT count(*)::int AS n FROM public.b')).toEqual([{ n: 0 }]);
  });

  it('a claim whose merger died is taken over after stuck_after_seconds', async () => {
    await sql(`INSERT INTO cdc_staging."public.b" (id, label, _cdc_op, _cdc_position) VALUES (7, 'seven', 'I', cdc_management.row_position(40, 0))`);
    await sql("UPDATE cdc_management.merge_control SET is_merging = true, merge_started_at = clock_timestamp() - interval '10 seconds', merged_by = 'dead' WHERE table_name = 'b'");
    expect(await sql("SELECT status FROM cdc_management.v_merge_status WHERE table_name = 'b'")).toEqual([{ status: 'MERGING' }]);
    await sql('CALL cdc_management.trigger_pending_merges(0, 60)');
    expect(await sql('SELECT count(*)::int AS n FROM public.b')).toEqual([{ n: 0 }]);
    await sql('CALL cdc_management.trigger_pending_merges(0, 5)');
    expect(await sql('SELECT id, label FROM public.b')).toEqual([{ id: 7, label: 'seven' }]);
  });

  it("accepts Debezium's op codes (c, r, u, d) and a missing ordinal, as external writers copy them", async () => {
    await sql(`INSERT INTO cdc_staging."public.b" (id, label, _cdc_op, _cdc_position) VALUES (20, 'r', 'r', cdc_management.row_position(50)), (21, 'c', 'c', cdc_management.row_position(51)), (20, 'u', 'u', cdc_management.row_position(52)), (7, NULL, 'd', cdc_management.row_position(53))`);
    await sql("CALL cdc_management.manual_merge('public', 'b')");
    expect(await sql('SELECT id, label FROM public.b ORDER BY id')).toEqual([
      { id: 20, label: 'u' },
      { id: 21, label: 'c' },
    ]);
  });

  it('the lag and gap views read the pipeline logs', async () => {
    await sql("INSERT INTO cdc_management.offsets (pipeline, position, position_text) VALUES ('p', 100, '0/64')");
    await sql("INSERT INTO cdc_management.processing_log (pipeline, at, changes) VALUES ('p', now() - interval '5 minutes', 10), ('p', now(), 5)");
    expect(await sql('SELECT pipeline, merged_position, batches_last_hour::int, changes_last_hour::int FROM cdc_management.v_replication_lag')).toEqual([
      { pipeline: 'p', merged_position: '0/64', batches_last_hour: 2, changes_last_hour: 15 },
    ]);
    expect(await sql('SELECT pipeline, round(gap_seconds)::int AS s FROM cdc_management.v_processing_gaps')).toEqual([{ pipeline: 'p', s: 300 }]);
  });
});
