/**
 * DESIGN.md §3.11: a slot invalidated because the source removed WAL it still needed stops the
 * pipeline with an explicit error that names the resync command; `--resync` then rebuilds the
 * copy from a new slot.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli } from './support/cli.js';
import { compare, createPair, differing, type Pair } from './support/pipeline.js';

let cluster: ThrowawayCluster;
let pair: Pair;
beforeAll(async () => {
  // Slots may hold back at most 1 MB of WAL beyond max_wal_size: easy to exceed in a test.
  cluster = await startThrowawayCluster({ label: 'slot-lost', settings: { max_slot_wal_keep_size: '1MB', max_wal_size: '32MB', min_wal_size: '32MB' } });
});
afterAll(async () => {
  await pair?.close();
  await cluster?.stop();
});

it('stops with SLOT_INVALIDATED and recovers with --resync', async () => {
  pair = await createPair(cluster);
  await pair.source.query('CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, g::text FROM generate_series(1, 100) g');
  await pair.source.query('CREATE SCHEMA churn; CREATE TABLE churn.filler (id int, pad text)');
  const args = ['run', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name, '--tables', 'public.t', '--until-caught-up'];
  expect((await runCli(args)).code).toBe(0);

  // While the pipeline is stopped, changes to t and far more WAL than the slot may keep.
  await pair.source.query("UPDATE t SET v = 'lost in the gap' WHERE id <= 10");
  for (let i = 0; i < 4 && (await slotStatus()) !== 'lost'; i++) {
    await pair.source.query("INSERT INTO churn.filler SELECT g, repeat('x', 1000) FROM generate_series(1, 40000) g");
    await pair.source.query('SELECT pg_switch_wal()');
    await pair.source.query('CHECKPOINT');
  }
  expect(await slotStatus()).toBe('lost');

  const failed = await runCli(args);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/error \[SLOT_INVALIDATED\]: replication slot "\w+" was invalidated/);
  expect(failed.stderr).toMatch(/what to do: .*cdc run --resync/);

  const resynced = await runCli([...args, '--resync']);
  expect(resynced.code, resynced.stderr).toBe(0);
  expect(await slotStatus()).not.toBe('lost');
  expect(differing(await compare(pair, { tables: 'public.t' }))).toEqual([]);
});

async function slotStatus(): Promise<string | undefined> {
  const { rows } = await pair.source.query('SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1', [pair.name]);
  return rows[0]?.wal_status;
}
