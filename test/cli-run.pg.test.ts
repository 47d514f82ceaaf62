/**
 * `cdc run` and `cdc status` as a user runs them: the real binary, metrics and health
 * endpoints, a clean stop on SIGTERM, exit 130 on SIGINT, and the status report.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli, startCli } from './support/cli.js';
import { createPair, type Pair } from './support/pipeline.js';

let cluster: ThrowawayCluster;
let pair: Pair;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'cli-run' });
  pair = await createPair(cluster);
  await pair.source.query(`CREATE TABLE public."Mixed Case" (id int PRIMARY KEY, v text);
    INSERT INTO public."Mixed Case" SELECT g, 'v' || g FROM generate_series(1, 50) g;
    CREATE TABLE public.skipped (id int PRIMARY KEY);`);
});
afterAll(async () => {
  await pair?.close();
  await cluster?.stop();
});

it('serves /metrics and /health while running, stops cleanly on SIGTERM, reports status', async () => {
  const port = await freePort();
  const args = ['run', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name, '--tables', 'public."Mixed Case"'];
  const run = startCli([...args, '--metrics-port', String(port)]);
  await run.waitFor('"msg":"streaming"');
  // WAL position before the update: its commit lies past it, so a pipeline that merged and
  // acknowledged the update has confirmed more than this.
  const beforeUpdate = (await pair.source.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
  await pair.source.query(`UPDATE public."Mixed Case" SET v = 'changed' WHERE id <= 10`);
  // Wait until the change is merged, then read the endpoints.
  for (let i = 0; i < 100; i++) {
    const { rows } = await pair.target.query(`SELECT count(*)::int AS n FROM public."Mixed Case" WHERE v = 'changed'`);
    if (rows[0].n === 10) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
  expect(ready.status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toMatch(/cdc_changes_captured_total\{table="public\.\\"Mixed Case\\"",op="update"\} 10/);
  expect(metrics).toMatch(/cdc_changes_merged_total \d+/);

  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  expect(run.stderr()).toMatch(/"msg":"stopped"/);

  const status = await runCli(['status', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name, '--json']);
  expect(status.code, status.stderr).toBe(0);
  const report = JSON.parse(status.stdout);
  expect(report.slot.active).toBe(false);
  // The report's positions are the slot's, and its lag is exactly current minus confirmed (the
  // slot is inactive, so its confirmed position no longer moves; PostgreSQL does the arithmetic).
  const slot = await pair.source.query<{ confirmed_vs_report: string; lag: string; past_update: boolean }>(
    `SELECT (confirmed_flush_lsn - $1::pg_lsn)::text AS confirmed_vs_report, ($2::pg_lsn - confirmed_flush_lsn)::text AS lag,
            confirmed_flush_lsn > $3::pg_lsn AS past_update
       FROM pg_replication_slots WHERE slot_name = $4`,
    [report.slot.confirmedFlushLsn, report.slot.currentLsn, beforeUpdate, pair.name],
  );
  expect(slot.rows).toEqual([{ confirmed_vs_report: '0', lag: String(report.slot.lagBytes), past_update: true }]);
  expect(report.tables).toEqual([
    expect.objectContaining({ table: 'public.Mixed Case', snapshot: 'done', rows: 50, mergeCount: expect.any(Number) }),
  ]);
  const text = await runCli(['status', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name]);
  expect(text.stdout).toMatch(/public\.Mixed Case\s+done\s+50/);
});

it('exits 130 on Ctrl-C (SIGINT) after merging its open batch', async () => {
  const run = startCli(['run', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name, '--tables', 'public."Mixed Case"']);
  await run.waitFor('"msg":"streaming"');
  run.child.kill('SIGINT');
  expect(await run.exited).toBe(130);
});

it('exits 130 on Ctrl-C during the initial snapshot, and the next run copies what was not finished', async () => {
  const big = await createPair(cluster);
  try {
    // About 150 MB: several chunks, a few seconds to copy.
    await big.source.query(`CREATE TABLE public.big (id int PRIMARY KEY, pad text);
      INSERT INTO public.big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 1000000) g;`);
    const run = startCli(['run', '--source', big.sourceUrl, '--target', big.targetUrl, '--name', big.name]);
    await run.waitFor('"msg":"snapshot: copying table"');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toMatch(/INTERRUPTED|interrupted during the initial snapshot/);
    expect(run.stderr()).not.toMatch(/"msg":"snapshot: table done"/);
    const { rows } = await big.target.query("SELECT state FROM cdc_management.snapshot_progress WHERE table_name = 'big'");
    expect(rows).toEqual([{ state: 'copying' }]);

    const again = await runCli(['run', '--source', big.sourceUrl, '--target', big.targetUrl, '--name', big.name, '--until-caught-up']);
    expect(again.code, again.stderr).toBe(0);
    const { rows: counts } = await big.target.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM public.big');
    expect(counts).toEqual([{ n: 1_000_000, d: 1_000_000 }]);
  } finally {
    await big.close();
  }
});
