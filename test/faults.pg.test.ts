/**
 * Faults (DESIGN.md §3.12, docs/faults.md) through the real `cdc` binary: a target restart, the
 * walsender terminated on the source, and the sink's target backend terminated, each under a
 * steady source workload. The run survives (still running, a logged retryable failure, streaming
 * again) and, once the workload stops and it has caught up, the target equals the source.
 * Also: `cdc merge-worker` keeps merging after its connections are terminated and after a target
 * restart; SIGTERM and SIGINT during a retry backoff end the run at once; an error at start-up is
 * written to cdc_management.error_log.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../src/schema/table.js';
import { infrastructureSql } from '../src/sinks/postgres/infrastructure.js';
import { tableMigrations } from '../src/sinks/postgres/sink.js';
import { freePort, startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { compareDatabases } from '../src/verify/compare-databases.js';
import { runCli, startCli, type CliRun } from './support/cli.js';

let sourceCluster: ThrowawayCluster;
let targetCluster: ThrowawayCluster;
const runs: CliRun[] = [];
let databases = 0;

beforeAll(async () => {
  [sourceCluster, targetCluster] = await Promise.all([startThrowawayCluster({ label: 'faults-source' }), startThrowawayCluster({ label: 'faults-target' })]);
});
afterAll(async () => {
  // A failed test leaves its workload running: stop it before the servers go.
  await Promise.all(workloads.map((w) => w.stop().catch(() => undefined)));
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await sourceCluster?.stop();
  await targetCluster?.stop();
});

function start(args: readonly string[]): CliRun {
  const run = startCli(args);
  runs.push(run);
  return run;
}

/** Runs one statement on a short-lived connection (the test's own connections survive the faults it causes). */
async function query<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'faults test' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Waits until `condition` holds, checking every 200 ms; errors count as "not yet" (a server may be restarting). */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 90_000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n${describe()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** How often `text` occurs in `haystack`. */
function occurrences(haystack: string, text: string): number {
  return haystack.split(text).length - 1;
}

/** Alive: neither exited nor killed. */
function alive(run: CliRun): boolean {
  return run.child.exitCode === null && run.child.signalCode === null;
}

interface Workload {
  stop(): Promise<number>;
}
const workloads: Workload[] = [];

/** Transfers between accounts plus two history rows per transaction, on one source connection, until stopped. */
async function startWorkload(url: string): Promise<Workload> {
  const client = new pg.Client({ connectionString: url, application_name: 'faults workload' });
  client.on('error', () => undefined);
  await client.connect();
  let done = false;
  let n = 0;
  const loop = (async () => {
    while (!done) {
      const a = 1 + (n % 100);
      const b = 1 + ((n * 37) % 100);
      await client.query(`BEGIN;
        UPDATE account SET balance = balance - 1, note = 'tx ${n}' WHERE id = ${a};
        UPDATE account SET balance = balance + 1 WHERE id = ${b};
        INSERT INTO history (account, delta, at) VALUES (${a}, -1, now()), (${b}, 1, now());
        COMMIT;`);
      n++;
      // A steady stream, not a flood: the 2-core test machine also runs both servers and the CLI.
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const workload = {
    async stop() {
      done = true;
      await loop;
      await client.end();
      return n;
    },
  };
  workloads.push(workload);
  return workload;
}

/** A fresh source and target database pair with the workload's tables. */
async function createDatabases(): Promise<{ name: string; sourceUrl: string; targetUrl: string }> {
  const name = `faults_${++databases}`;
  const sourceUrl = await sourceCluster.createDatabase(name);
  const targetUrl = await targetCluster.createDatabase(name);
  await query(
    sourceUrl,
    `CREATE TABLE account (id int PRIMARY KEY, balance bigint NOT NULL, note text);
     CREATE TABLE history (account int, delta int, at timestamptz);
     INSERT INTO account SELECT g, 1000, 'start' FROM generate_series(1, 100) g;`,
  );
  return { name, sourceUrl, targetUrl };
}

/**
 * Starts `cdc run` under a workload, applies `fault` once batches are merging, and checks that
 * the run survives it, resumes, and ends with a target equal to the source.
 */
async function survives(fault: (p: { name: string; sourceUrl: string; targetUrl: string }) => Promise<void>): Promise<CliRun> {
  const p = await createDatabases();
  const run = start(['run', '--source', p.sourceUrl, '--target', p.targetUrl, '--name', p.name]);
  await run.waitFor('"msg":"streaming"', 90_000);
  const workload = await startWorkload(p.sourceUrl);
  const merged = async () => Number((await query<{ n: number }>(p.targetUrl, 'SELECT count(*)::int AS n FROM history'))[0]!.n);
  await until('batches are merging', async () => (await merged()) > 0, 60_000, () => run.stderr());

  await fault(p);
  await run.waitFor('"msg":"retryable failure"', 60_000);
  await until('the run streams again', () => Promise.resolve(occurrences(run.stderr(), '"msg":"streaming"') >= 2), 90_000, () => run.stderr());
  // Changes made after the fault are merged too.
  const after = await merged();
  await until('batches merge again', async () => (await merged()) > after, 60_000, () => run.stderr());
  const transactions = await workload.stop();

  await until(
    'the target equals the source',
    async () => (await compareDatabases(p.sourceUrl, p.targetUrl)).every((c) => c.equal),
    90_000,
    () => run.stderr(),
  );
  expect(alive(run), run.stderr()).toBe(true);
  // Nothing duplicated: the keyless history table holds each change once.
  expect(await query(p.targetUrl, 'SELECT count(*)::int AS n FROM history')).toEqual([{ n: transactions * 2 }]);
  // No connection is left over from the failed attempt: one catalog connection and one walsender
  // on the source, one sink connection on the target.
  const connections = async (url: string) =>
    JSON.stringify(
      await query(url, "SELECT application_name, count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'cdc-merge%' GROUP BY 1 ORDER BY 1", [p.name]),
    );
  const want = {
    source: JSON.stringify([
      { application_name: 'cdc-merge source', n: 1 },
      { application_name: 'cdc-merge stream', n: 1 },
    ]),
    target: JSON.stringify([{ application_name: 'cdc-merge target', n: 1 }]),
  };
  // (Closed connections leave pg_stat_activity a moment later.)
  await until('no connection is left over', async () => (await connections(p.sourceUrl)) === want.source && (await connections(p.targetUrl)) === want.target, 30_000).catch(() => undefined);
  expect(await connections(p.sourceUrl)).toBe(want.source);
  expect(await connections(p.targetUrl)).toBe(want.target);
  run.child.kill('SIGTERM');
  expect(await run.exited, run.stderr()).toBe(0);
  if (process.env.FAULTS_DEBUG) (await import('node:fs')).writeFileSync(process.env.FAULTS_DEBUG, run.stderr());
  return run;
}

describe('cdc run survives lost connections', () => {
  it('a target restart mid-stream (pg_ctl restart)', async () => {
    const run = await survives(() => targetCluster.restart());
    expect(run.stderr()).toMatch(/"code":"CONNECTION_LOST"[^\n]*"msg":"retryable failure"/);
  });

  it('the walsender of its slot terminated on the source (pg_terminate_backend)', async () => {
    const run = await survives(async ({ name, sourceUrl }) => {
      const rows = await query(sourceUrl, 'SELECT pg_terminate_backend(active_pid) AS ok FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL', [name]);
      expect(rows).toEqual([{ ok: true }]);
    });
    expect(run.stderr()).toMatch(/"code":"REPLICATION_FAILED"[^\n]*"msg":"retryable failure"/);
  });

  it('every connection it has to the source terminated: walsender and catalog connection', async () => {
    const run = await survives(async ({ name, sourceUrl }) => {
      const rows = await query<{ n: number }>(
        sourceUrl,
        "SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name IN ('cdc-merge source', 'cdc-merge stream')) t",
        [name],
      );
      expect(rows).toEqual([{ n: 2 }]);
    });
    expect(run.stderr()).toMatch(/"code":"(REPLICATION_FAILED|CONNECTION_LOST)"[^\n]*"msg":"retryable failure"/);
  });

  it("the sink's target backend terminated (pg_terminate_backend)", async () => {
    const run = await survives(async ({ name, targetUrl }) => {
      const rows = await query(targetUrl, "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = 'cdc-merge target'", [name]);
      expect(rows).toEqual([{ ok: true }]);
    });
    expect(run.stderr()).toMatch(/"code":"CONNECTION_LOST"[^\n]*"msg":"retryable failure"/);
  });
});

describe('cdc merge-worker survives lost connections', () => {
  const table: TableSchema = {
    id: { schema: 'public', name: 'm' },
    columns: [
      { name: 'id', type: 'integer', nullable: false, toastable: false },
      { name: 'v', type: 'integer', nullable: false, toastable: false },
    ],
    primaryKey: ['id'],
  };
  let position = 0;
  /** Stages `count` upserts of new keys; resolves to the highest key. */
  async function stage(url: string, from: number, count: number): Promise<number> {
    const base = ++position * 1000;
    await query(
      url,
      `INSERT INTO cdc_staging."public.m" (id, v, _cdc_op, _cdc_position)
       SELECT g, g, 'I', cdc_management.row_position($3::bigint, g) FROM generate_series($1::int, $2::int) g`,
      [from, from + count - 1, base],
    );
    return from + count - 1;
  }
  const mergedUpTo = async (url: string, id: number) => (await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM public.m WHERE id = $1', [id]))[0]!.n === 1;

  it('keeps merging after its connections are terminated and after a target restart', async () => {
    const url = await targetCluster.createDatabase('merge_faults');
    await query(url, infrastructureSql());
    for (const m of tableMigrations(table, {})) await query(url, m.sql);
    const worker = start(['merge-worker', '--target', url, '--window', '200ms', '--poll', '500ms', '--concurrency', '2']);
    await worker.waitFor('merge worker listening');
    let last = await stage(url, 1, 100);
    await until('the first rows are merged', () => mergedUpTo(url, last), 60_000, () => worker.stderr());

    // 1. Every connection of the worker terminated (listener and merge connections).
    const terminated = await query<{ n: number }>(
      url,
      "SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'cdc-merge merge-worker%') t",
    );
    expect(terminated[0]!.n).toBeGreaterThanOrEqual(3);
    await worker.waitFor(/connection lost/, 30_000);
    last = await stage(url, last + 1, 100);
    await until('rows staged after the terminations are merged', () => mergedUpTo(url, last), 60_000, () => worker.stderr());
    expect(alive(worker), worker.stderr()).toBe(true);

    // 2. The target restarted.
    await targetCluster.restart();
    last = await stage(url, last + 1, 100);
    await until('rows staged after the restart are merged', () => mergedUpTo(url, last), 90_000, () => worker.stderr());
    expect(alive(worker), worker.stderr()).toBe(true);
    expect(await query(url, 'SELECT count(*)::int AS n FROM public.m')).toEqual([{ n: last }]);

    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.stderr()).toBe(0);
  });
});

describe('stopping while waiting to retry', () => {
  for (const [signal, code] of [
    ['SIGTERM', 0],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} during a backoff ends the run within 2 s (exit ${code})`, async () => {
      const p = await createDatabases();
      // Nothing listens on the target port: every attempt fails to connect and waits longer.
      const unreachable = `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`;
      const run = start(['run', '--source', p.sourceUrl, '--target', unreachable, '--name', p.name]);
      // The third failure waits 4 s, twice the bound below.
      await run.waitFor(/"retryInMs":4000[^\n]*"msg":"retryable failure"/, 60_000);
      const sent = performance.now();
      run.child.kill(signal);
      const exitCode = await run.exited;
      const ms = performance.now() - sent;
      expect(exitCode, run.stderr()).toBe(code);
      expect(ms).toBeLessThan(2_000);
      expect(run.stderr()).toMatch(/stopped while waiting to retry/);
    });
  }

  it('cdc merge-worker retries an unreachable target with backoff, and SIGTERM during the wait ends it at once (exit 0)', async () => {
    const unreachable = `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`;
    const worker = start(['merge-worker', '--target', unreachable, '--window', '200ms']);
    await worker.waitFor(/"code":"CONNECTION_FAILED"[^\n]*"retryInMs":4000[^\n]*"msg":"retryable failure"/, 60_000);
    const sent = performance.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.stderr()).toBe(0);
    expect(performance.now() - sent).toBeLessThan(2_000);
    expect(worker.stderr()).toMatch(/stopped while waiting to retry/);
  });
});

describe('start-up errors are recorded', () => {
  it('an error of the source at start-up (a missing table) is written to cdc_management.error_log', async () => {
    const p = await createDatabases();
    const first = await runCli(['run', '--source', p.sourceUrl, '--target', p.targetUrl, '--name', p.name, '--until-caught-up']);
    expect(first.code, first.stderr).toBe(0);
    const missing = await runCli(['run', '--source', p.sourceUrl, '--target', p.targetUrl, '--name', p.name, '--tables', 'public.account,public.gone', '--until-caught-up']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/TABLE_NOT_FOUND/);
    expect(await query(p.targetUrl, 'SELECT pipeline, error_code, message, detail->>\'hint\' AS hint FROM cdc_management.error_log')).toEqual([
      { pipeline: p.name, error_code: 'TABLE_NOT_FOUND', message: 'no table public.gone on the source', hint: expect.stringMatching(/check the name/) },
    ]);
  });

  it('a start-up error on a target without cdc_management still exits with its own error', async () => {
    const p = await createDatabases();
    const missing = await runCli(['run', '--source', p.sourceUrl, '--target', p.targetUrl, '--name', p.name, '--tables', 'public.gone', '--until-caught-up']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/error \[TABLE_NOT_FOUND\]: no table public\.gone/);
    expect(await query(p.targetUrl, "SELECT to_regclass('cdc_management.error_log') IS NULL AS absent")).toEqual([{ absent: true }]);
  });
});
