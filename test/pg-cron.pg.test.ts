/**
 * pg_cron schedules the deferred merge (issue #4): `cdc migrations generate` emits the
 * `cron.schedule` call for `trigger_pending_merges` from `sinks.<sink>.merge.schedule`, `apply`
 * installs it on a cluster with pg_cron preloaded, and pg_cron's own run merges staged rows.
 * pg_cron 1.4 (Debian bookworm) has minute resolution, so this test waits up to about a minute.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli } from './support/cli.js';

let cluster: ThrowawayCluster;
let root: string;
let db: pg.Client;

beforeAll(async () => {
  cluster = await startThrowawayCluster({
    label: 'pg-cron',
    settings: { shared_preload_libraries: 'pg_cron', 'cron.database_name': 'warehouse', 'cron.host': '127.0.0.1' },
  });
  const url = await cluster.createDatabase('warehouse');
  db = new pg.Client(url);
  await db.connect();
  root = mkdtempSync(join(tmpdir(), 'cdc-cron-'));
  writeFileSync(
    join(root, 'cdc.yaml'),
    [
      'services:',
      '  shop: { dialect: postgresql }',
      'sinks:',
      '  postgres:',
      '    merge:',
      '      schedule: "* * * * *"',
      '      window_seconds: 0',
      'environments:',
      '  dev: { database: warehouse }',
      '',
    ].join('\n'),
  );
  mkdirSync(join(root, 'schemas', 'shop', 'public'), { recursive: true });
  writeFileSync(
    join(root, 'schemas', 'shop', 'public', 'orders.yaml'),
    'schema: public\ntable: orders\ncolumns:\n  - { name: id, type: integer, nullable: false, primary_key: true }\n  - { name: total, type: "numeric(10,2)" }\n',
  );
}, 120_000);
afterAll(async () => {
  await db?.end();
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('pg_cron', () => {
  it('generate emits the schedule; apply installs it; pg_cron merges the staged rows', async () => {
    const config = join(root, 'cdc.yaml');
    expect((await runCli(['migrations', 'generate', '--config', config])).code).toBe(0);
    const schedule = readFileSync(join(root, 'migrations', 'postgres', '03-schedule', '001-pg-cron.sql'), 'utf8');
    expect(schedule).toContain(`SELECT cron.schedule('cdc-merge postgres', '* * * * *', 'CALL "cdc_management"."trigger_pending_merges"(0, 300)');`);
    const env = { PG_DEV_HOST: '127.0.0.1', PG_DEV_PORT: String(cluster.port), PG_DEV_USER: 'postgres' };
    const apply = await runCli(['migrations', 'apply', '--env', 'dev', '--config', config], env);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/applied 03-schedule\/001-pg-cron\.sql/);
    expect((await db.query("SELECT schedule, command FROM cron.job WHERE jobname = 'cdc-merge postgres'")).rows).toEqual([
      { schedule: '* * * * *', command: 'CALL "cdc_management"."trigger_pending_merges"(0, 300)' },
    ]);

    await db.query(`INSERT INTO cdc_staging."public.orders" (id, total, _cdc_op, _cdc_position) SELECT g, g * 1.5, 'I', cdc_management.row_position(1, g) FROM generate_series(1, 10) g`);
    const deadline = Date.now() + 90_000;
    while ((await db.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n < 10) {
      if (Date.now() > deadline) {
        const runs = await db.query('SELECT status, return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 3');
        throw new Error(`pg_cron did not merge within 90 s; last runs: ${JSON.stringify(runs.rows)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const runs = await db.query("SELECT status FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'cdc-merge postgres' AND status = 'succeeded'");
    expect(runs.rows.length).toBeGreaterThan(0);
    expect((await db.query("SELECT merged_by FROM cdc_management.merge_log WHERE table_name = 'orders'")).rows).toEqual([{ merged_by: expect.stringMatching(/pid \d+$/) }]);
  });
});
