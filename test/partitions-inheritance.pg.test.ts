/**
 * Issue 11 item 13 (DESIGN.md §3.9): what a partitioned or inherited table's change stream does
 * not say. An inheritance parent is copied and streamed with its own rows only (ONLY), never its
 * children's twice; a TRUNCATE of a single partition (not published under
 * publish_via_partition_root) copies the root again, while a TRUNCATE of the root stays an
 * ordinary truncate; a partition detached, or one with rows attached, copies the root again at
 * the next start;
 * on a soft-delete target, TRUNCATE flags every row deleted. The real `cdc` binary each time.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTablePatterns } from '../src/config/table-pattern.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { compareDatabases } from '../src/verify/compare-databases.js';
import { runCli, startCli, type CliRun } from './support/cli.js';

let cluster: ThrowawayCluster;
const runs: CliRun[] = [];
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'partitions' });
});
afterAll(async () => {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await cluster?.stop();
});

interface Dbs {
  readonly name: string;
  readonly sourceUrl: string;
  readonly targetUrl: string;
}

let counter = 0;
async function databases(): Promise<Dbs> {
  const name = `part${process.pid}_${++counter}`;
  return { name, sourceUrl: await cluster.createDatabase(`src_${name}`), targetUrl: await cluster.createDatabase(`tgt_${name}`) };
}

async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

const count = async (url: string, from: string) => (await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM ${from}`))[0]!.n;

const runArgs = (d: Dbs, ...extra: string[]) => ['run', '--source', d.sourceUrl, '--target', d.targetUrl, '--name', d.name, ...extra];

async function catchUp(d: Dbs, ...extra: string[]): Promise<string> {
  const r = await runCli([...runArgs(d, '--until-caught-up'), ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return r.stderr;
}

async function expectSameData(d: Dbs): Promise<void> {
  const results = await compareDatabases(d.sourceUrl, d.targetUrl, { patterns: parseTablePatterns('') });
  expect(results.filter((r) => !r.equal)).toEqual([]);
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const PARTITIONED = `
  CREATE TABLE m (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
  CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (1000);
  CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (1000) TO (2000);
  CREATE TABLE other (id int PRIMARY KEY, v text);
  INSERT INTO m SELECT g, 'v' || g FROM generate_series(1, 1999) g;
  INSERT INTO other VALUES (1, 'x');`;

it('an inheritance parent holds its own rows only: copied and streamed without its children', async () => {
  const d = await databases();
  await sql(
    d.sourceUrl,
    `CREATE TABLE parent (id int PRIMARY KEY, v text);
     CREATE TABLE child (extra text) INHERITS (parent);
     INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 50) g;
     INSERT INTO child SELECT g, 'c' || g, 'e' FROM generate_series(100, 130) g;`,
  );
  await catchUp(d);
  expect(await count(d.targetUrl, 'parent')).toBe(50);
  expect(await count(d.targetUrl, 'child')).toBe(31);
  await sql(d.sourceUrl, "INSERT INTO child VALUES (200, 'c', 'e'); UPDATE child SET v = 'changed' WHERE id = 100; INSERT INTO parent VALUES (60, 'p60'); DELETE FROM child WHERE id = 101");
  await catchUp(d);
  expect(await count(d.targetUrl, 'parent')).toBe(51);
  await expectSameData(d);
});

it('a TRUNCATE of one partition while streaming copies the root again; a TRUNCATE of the root stays a truncate', async () => {
  const d = await databases();
  await sql(d.sourceUrl, PARTITIONED);
  const run = startCli(runArgs(d));
  runs.push(run);
  await run.waitFor('streaming');
  expect(run.stderr()).toContain('TRUNCATE trigger put on partitions');
  await sql(d.sourceUrl, "TRUNCATE m1; INSERT INTO m VALUES (5, 'after truncate'); UPDATE other SET v = 'y'");
  await run.waitFor('PARTITION_TRUNCATED');
  await until('the root is copied again', async () => (await count(d.targetUrl, 'm')) === 1001);
  await sql(d.sourceUrl, "UPDATE m SET v = 'streamed' WHERE id = 1500");
  await until('streaming again', async () => (await sql<{ v: string }>(d.targetUrl, 'SELECT v FROM m WHERE id = 1500'))[0]!.v === 'streamed');
  await expectSameData(d);

  await sql(d.sourceUrl, "TRUNCATE m; INSERT INTO m VALUES (1, 'one')");
  await until('the root truncate is merged', async () => (await count(d.targetUrl, 'm')) === 1);
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  expect(run.stderr().match(/PARTITION_TRUNCATED/g)?.length ?? 0).toBeGreaterThan(0);
  const truncatedReports = run.stderr().split('\n').filter((l) => l.includes('"code":"PARTITION_TRUNCATED"') && l.includes('retryable failure')).length;
  expect(truncatedReports).toBe(1);
  await expectSameData(d);
});

it('a TRUNCATE of one partition while no pipeline ran is found in the WAL at the next start', async () => {
  const d = await databases();
  await sql(d.sourceUrl, PARTITIONED);
  await catchUp(d);
  await sql(d.sourceUrl, "TRUNCATE m2; INSERT INTO m VALUES (1500, 'back')");
  const stderr = await catchUp(d);
  expect(stderr).toContain('PARTITION_TRUNCATED');
  await expectSameData(d);
});

it('a partition detached while no pipeline ran copies the root again at start', async () => {
  const d = await databases();
  await sql(d.sourceUrl, PARTITIONED);
  await catchUp(d);
  await sql(d.sourceUrl, 'ALTER TABLE m DETACH PARTITION m2');
  const stderr = await catchUp(d);
  expect(stderr).toContain('a partition was detached since the last start');
  expect(await count(d.targetUrl, 'm')).toBe(999);
  // m2 is an ordinary table now: selected (no --tables) and copied on its own.
  expect(await count(d.targetUrl, 'm2')).toBe(1000);
  await expectSameData(d);
});

it('a partition with rows attached while streaming copies the root again at the next start; a partition created empty does not', async () => {
  const d = await databases();
  await sql(d.sourceUrl, PARTITIONED);
  await catchUp(d);
  const run = startCli(runArgs(d));
  runs.push(run);
  await run.waitFor('streaming');
  // A table loaded first (its own transaction), then attached: the usual bulk-load pattern.
  await sql(d.sourceUrl, "CREATE TABLE m3 (id int PRIMARY KEY, v text); INSERT INTO m3 SELECT g, 'attached' FROM generate_series(2000, 2099) g");
  await sql(
    d.sourceUrl,
    `ALTER TABLE m ATTACH PARTITION m3 FOR VALUES FROM (2000) TO (3000);
     CREATE TABLE m4 PARTITION OF m FOR VALUES FROM (3000) TO (4000);
     INSERT INTO m VALUES (3001, 'through the root');
     UPDATE other SET v = 'marker'`,
  );
  await until('the marker is merged', async () => (await sql<{ v: string }>(d.targetUrl, 'SELECT v FROM other WHERE id = 1'))[0]!.v === 'marker');
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  // The attached rows never came through the stream.
  expect(await count(d.targetUrl, "m WHERE v = 'attached'")).toBe(0);
  const stderr = await catchUp(d);
  expect(stderr).toContain('a partition with rows was attached since the last start');
  expect(stderr).not.toContain('"partition":"public.m4"');
  await expectSameData(d);
  // Nothing new: the next start copies nothing again.
  expect(await catchUp(d)).not.toContain('copying the table again');
});

it('on a soft-delete target, TRUNCATE flags every row deleted instead of emptying the table', async () => {
  const d = await databases();
  await sql(d.sourceUrl, 'CREATE TABLE s (id int PRIMARY KEY, v text); INSERT INTO s SELECT g, g::text FROM generate_series(1, 20) g');
  await catchUp(d, '--soft-delete');
  await sql(d.sourceUrl, "TRUNCATE s; INSERT INTO s VALUES (3, 'again')");
  await catchUp(d, '--soft-delete');
  const rows = await sql<{ live: number; deleted: number }>(
    d.targetUrl,
    'SELECT count(*) FILTER (WHERE NOT _cdc_deleted)::int AS live, count(*) FILTER (WHERE _cdc_deleted)::int AS deleted FROM s',
  );
  expect(rows[0]).toEqual({ live: 1, deleted: 19 });
  const results = await compareDatabases(d.sourceUrl, d.targetUrl, { patterns: parseTablePatterns('public.s'), ignoreWhereTrue: '_cdc_deleted' });
  expect(results.filter((r) => !r.equal)).toEqual([]);
});
