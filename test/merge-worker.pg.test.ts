/**
 * Deferred merge mode end to end (issue #4), with the real `cdc merge-worker` binary: 4
 * concurrent writers fill the staging tables of 20 tables while 2 workers merge them; a row that
 * cannot be merged is logged and merged once fixed; a worker killed mid-merge loses nothing and
 * its claim is taken over; SIGTERM stops a worker cleanly; `cdc status --target` shows the views.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../src/schema/table.js';
import { infrastructureSql } from '../src/sinks/postgres/infrastructure.js';
import { tableMigrations } from '../src/sinks/postgres/sink.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli, startCli, type CliRun } from './support/cli.js';

const TABLES = 20;
const WINDOW_S = 1;
const name = (i: number) => `t${String(i).padStart(2, '0')}`;
const table = (i: number): TableSchema => ({
  id: { schema: 'public', name: name(i) },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'v', type: 'integer', nullable: false, toastable: false },
    { name: 'note', type: 'text', nullable: false, toastable: true },
  ],
  primaryKey: ['id'],
});

let cluster: ThrowawayCluster;
let url: string;
let db: pg.Client;
const workers: CliRun[] = [];

async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query<T>(text, params)).rows;
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startWorker(extra: string[] = []): CliRun {
  const run = startCli(['merge-worker', '--target', url, '--window', `${WINDOW_S}s`, '--concurrency', '2', ...extra]);
  workers.push(run);
  return run;
}

async function stopWorker(run: CliRun): Promise<number | null> {
  run.child.kill('SIGTERM');
  return run.exited;
}

const allIdle = async () => {
  const [r] = await sql<{ busy: number }>("SELECT count(*)::int AS busy FROM cdc_management.v_merge_status WHERE status <> 'IDLE'");
  return r!.busy === 0;
};

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'merge-worker' });
  url = await cluster.createDatabase('target');
  db = new pg.Client(url);
  await db.connect();
  await db.query(infrastructureSql());
  for (let i = 1; i <= TABLES; i++) for (const m of tableMigrations(table(i), {})) await db.query(m.sql);
});
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await db?.end();
  await cluster?.stop();
});

describe('cdc merge-worker', () => {
  it('4 writers × 20 tables × 2 workers: every table ends as expected, one merger per table at a time, merges start within window + 1 s', async () => {
    // --max-wait: tables written without pause still merge while the writers run.
    const a = startWorker(['--max-wait', '2s']);
    const b = startWorker(['--max-wait', '2s']);
    await Promise.all([a.waitFor('merge worker listening'), b.waitFor('merge worker listening')]);

    // Each key belongs to one writer (as a Kafka partition owns a key), so per-key order holds.
    const expected = new Map<string, { v: number; note: string } | null>();
    let position = 0;
    const stopAt = Date.now() + 6000;
    const writer = async (w: number) => {
      const client = new pg.Client(url);
      await client.connect();
      try {
        while (Date.now() < stopAt) {
          const t = 1 + Math.floor(Math.random() * TABLES);
          const rows: [number, number, string | null, string, number][] = [];
          for (let n = 1 + Math.floor(Math.random() * 20); n > 0; n--) {
            const id = w + 4 * Math.floor(Math.random() * 50);
            const op = Math.random() < 0.2 ? 'D' : Math.random() < 0.5 ? 'I' : 'U';
            const lsn = ++position;
            const v = lsn;
            rows.push([id, v, op === 'D' ? null : `w${w} ${lsn}`, op, lsn]);
            expected.set(`${name(t)}/${id}`, op === 'D' ? null : { v, note: `w${w} ${lsn}` });
          }
          await client.query(
            `INSERT INTO cdc_staging."public.${name(t)}" (id, v, note, _cdc_op, _cdc_position)
             SELECT id, CASE WHEN op = 'D' THEN NULL ELSE v END, note, op, cdc_management.row_position(lsn) FROM unnest($1::int[], $2::int[], $3::text[], $4::"char"[], $5::bigint[]) AS u(id, v, note, op, lsn)`,
            [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), rows.map((r) => r[4])],
          );
          await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
        }
      } finally {
        await client.end();
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    await until('every table is merged', allIdle, 30_000);

    for (let i = 1; i <= TABLES; i++) {
      const got = await sql<{ id: number; v: number; note: string }>(`SELECT id, v, note FROM public.${name(i)} ORDER BY id`);
      const want = [...expected]
        .filter(([k, v]) => k.startsWith(`${name(i)}/`) && v !== null)
        .map(([k, v]) => ({ id: Number(k.split('/')[1]), ...v! }))
        .sort((x, y) => x.id - y.id);
      expect(got, name(i)).toEqual(want);
      expect(await sql(`SELECT count(*)::int AS n FROM cdc_staging."public.${name(i)}"`)).toEqual([{ n: 0 }]);
    }

    const log = await sql<{ table_name: string; started: number; finished: number; delay: number; merged_by: string; success: boolean }>(
      `SELECT table_name, extract(epoch FROM claimed_at)::float8 AS started, extract(epoch FROM finished_at)::float8 AS finished,
              extract(epoch FROM claimed_at - last_change_time)::float8 AS delay, merged_by, success
         FROM cdc_management.merge_log ORDER BY table_name, claimed_at`,
    );
    expect(log.length).toBeGreaterThan(2 * TABLES);
    expect(log.every((l) => l.success)).toBe(true);
    for (let i = 1; i < log.length; i++) {
      if (log[i]!.table_name === log[i - 1]!.table_name) expect(log[i]!.started, `${log[i]!.table_name} merged twice at once`).toBeGreaterThanOrEqual(log[i - 1]!.finished);
    }
    expect(Math.max(...log.map((l) => l.delay))).toBeLessThanOrEqual(WINDOW_S + 1);
    expect(new Set(log.map((l) => l.merged_by.replace(/.* pid /, ''))).size).toBeGreaterThanOrEqual(2);

    expect(await stopWorker(a)).toBe(0);
    expect(await stopWorker(b)).toBe(0);
    expect(a.stderr()).toMatch(/merge worker stopped/);
  });

  it('a row that cannot be merged is logged in error_log, kept, and merged once fixed', async () => {
    const w = startWorker(['--poll', '500ms']);
    await w.waitFor('merge worker listening');
    await sql(`INSERT INTO cdc_staging."public.t01" (id, v, note, _cdc_op, _cdc_position) VALUES (1001, 1, 'fine', 'I', cdc_management.row_position(1000000, 0)), (1002, 2, NULL, 'I', cdc_management.row_position(1000000, 1))`);
    await until('the failure is logged', async () => (await sql("SELECT 1 FROM cdc_management.error_log WHERE table_name = 't01'")).length > 0);
    const [error] = await sql<{ error_code: string; message: string; statement: string }>("SELECT error_code, message, statement FROM cdc_management.error_log WHERE table_name = 't01' LIMIT 1");
    expect(error).toMatchObject({ error_code: '23502', message: expect.stringMatching(/null value in column "note"/), statement: expect.stringMatching(/sp_merge_public\.t01/) });
    expect(await sql('SELECT count(*)::int AS n FROM cdc_staging."public.t01"')).toEqual([{ n: 2 }]);
    expect(await sql('SELECT id FROM public.t01 WHERE id > 1000')).toEqual([]);

    await sql(`UPDATE cdc_staging."public.t01" SET note = 'fixed' WHERE id = 1002`);
    await until('the fixed rows are merged', async () => (await sql('SELECT 1 FROM public.t01 WHERE id > 1000')).length === 2);
    expect(await sql('SELECT id, note FROM public.t01 WHERE id > 1000 ORDER BY id')).toEqual([
      { id: 1001, note: 'fine' },
      { id: 1002, note: 'fixed' },
    ]);
    expect(await stopWorker(w)).toBe(0);
  });

  it('a worker killed mid-merge loses nothing; its stuck claim is released and another worker finishes the merge', async () => {
    const victim = startWorker();
    await victim.waitFor('merge worker listening');
    // Hold the final table so the victim's merge blocks inside its merge transaction.
    const holder = new pg.Client(url);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE public.t02 IN ACCESS EXCLUSIVE MODE');
    await sql(`INSERT INTO cdc_staging."public.t02" (id, v, note, _cdc_op, _cdc_position) SELECT g, g, 'kept', 'I', cdc_management.row_position(2000000, g) FROM generate_series(5001, 5100) g`);
    await until('the victim has claimed t02', async () => (await sql("SELECT 1 FROM cdc_management.merge_control WHERE table_name = 't02' AND is_merging")).length > 0);
    victim.child.kill('SIGKILL');
    await victim.exited;
    // The server side of the dead worker's connection is ended too (as a restart would).
    await sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'cdc-merge merge-worker%' AND pid <> pg_backend_pid()");
    await holder.query('ROLLBACK');
    await holder.end();
    expect(await sql("SELECT is_merging, has_changes FROM cdc_management.merge_control WHERE table_name = 't02'")).toEqual([{ is_merging: true, has_changes: true }]);
    expect(await sql('SELECT count(*)::int AS n FROM cdc_staging."public.t02"')).toEqual([{ n: 100 }]);

    const rescuer = startWorker(['--stuck-after', '3s', '--poll', '500ms']);
    await rescuer.waitFor('merge worker listening');
    await until('the rescuer merged t02', async () => (await sql('SELECT 1 FROM public.t02 WHERE id > 5000')).length === 100, 30_000);
    expect(await sql("SELECT is_merging, has_changes FROM cdc_management.merge_control WHERE table_name = 't02'")).toEqual([{ is_merging: false, has_changes: false }]);
    expect(await stopWorker(rescuer)).toBe(0);
  });

  it('cdc status --target shows the merge status views', async () => {
    const r = await runCli(['status', '--target', url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/merge status \(cdc_management\.v_merge_status\)/);
    expect(r.stdout).toMatch(/public\.t01\s+IDLE/);
    expect(r.stdout).toMatch(/recent errors \(v_recent_errors\)[\s\S]*23502/);
    const json = JSON.parse((await runCli(['status', '--target', url, '--json'])).stdout);
    expect(json.tables).toHaveLength(TABLES);
  });

  it('bad flags exit 2 with a message', async () => {
    const r = await runCli(['merge-worker', '--target', url, '--window', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--window "soon" is not a duration/);
  });
});
