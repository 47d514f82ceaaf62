/**
 * Issue 11 item 7 (DESIGN.md §3.6, §3.9): the key a target table is merged by is the one the
 * source's change stream identifies rows by. A new primary key on the source, or REPLICA
 * IDENTITY USING INDEX on other columns (set mid-stream or before the first copy), re-keys the
 * target: deletes still find their rows (old tuples carry only the identity's columns) and
 * updates of the former key columns do not leave the old row behind. The real `cdc` binary.
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
  cluster = await startThrowawayCluster({ label: 'key-changes' });
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
  const name = `key${process.pid}_${++counter}`;
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

const runArgs = (d: Dbs, ...extra: string[]) => ['run', '--source', d.sourceUrl, '--target', d.targetUrl, '--name', d.name, ...extra];

async function catchUp(d: Dbs): Promise<void> {
  const r = await runCli(runArgs(d, '--until-caught-up'));
  expect(r.code, r.stderr).toBe(0);
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

/** The target table's primary-key columns, in key order. */
async function targetKey(d: Dbs, table: string): Promise<string[]> {
  const rows = await sql<{ attname: string }>(
    d.targetUrl,
    `SELECT a.attname FROM pg_constraint k CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, i)
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
      WHERE k.conrelid = $1::regclass AND k.contype = 'p' ORDER BY u.i`,
    [table],
  );
  return rows.map((r) => r.attname);
}

const TABLES = `
  CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL UNIQUE, v text);
  CREATE TABLE u (id int PRIMARY KEY, k int NOT NULL, v text);
  CREATE UNIQUE INDEX u_k ON u (k);
  INSERT INTO t SELECT g, 'c' || g, 'v' || g FROM generate_series(1, 100) g;
  INSERT INTO u SELECT g, g * 10, 'v' || g FROM generate_series(1, 100) g;`;

it('a new primary key and REPLICA IDENTITY USING INDEX mid-stream re-key the target: deletes find their rows, key updates leave no duplicate', async () => {
  const d = await databases();
  await sql(d.sourceUrl, TABLES);
  const run = startCli(runArgs(d));
  runs.push(run);
  await run.waitFor('streaming');
  await sql(
    d.sourceUrl,
    `ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (code);
     UPDATE t SET id = id + 1000 WHERE id <= 10;
     DELETE FROM t WHERE code IN ('c20', 'c21', 'c1');
     INSERT INTO t VALUES (5000, 'c5000', 'new');
     ALTER TABLE u REPLICA IDENTITY USING INDEX u_k;
     UPDATE u SET id = id + 1000 WHERE k <= 100;
     DELETE FROM u WHERE k IN (200, 300, 10);
     UPDATE u SET v = 'later' WHERE k = 500;`,
  );
  await until('the target is re-keyed and merged', async () => (await sql<{ n: number }>(d.targetUrl, "SELECT count(*)::int AS n FROM t WHERE code = 'c5000'"))[0]!.n === 1);
  await until('u merged', async () => (await sql<{ v: string }>(d.targetUrl, 'SELECT v FROM u WHERE k = 500'))[0]?.v === 'later');
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  expect(await targetKey(d, 't')).toEqual(['code']);
  expect(await targetKey(d, 'u')).toEqual(['k']);
  await expectSameData(d);
  // And after a restart (the key is read from the catalog then).
  await sql(d.sourceUrl, "DELETE FROM t WHERE code = 'c50'; UPDATE t SET id = 1 WHERE code = 'c51'; DELETE FROM u WHERE k = 600; UPDATE u SET id = 7 WHERE k = 700");
  await catchUp(d);
  await expectSameData(d);
});

it('a table with REPLICA IDENTITY USING INDEX and no primary key is keyed by the index, and keeps its identity', async () => {
  const d = await databases();
  await sql(
    d.sourceUrl,
    `CREATE TABLE w (id int NOT NULL, k int NOT NULL, v text);
     CREATE UNIQUE INDEX w_k ON w (k);
     ALTER TABLE w REPLICA IDENTITY USING INDEX w_k;
     INSERT INTO w SELECT g, g, 'v' || g FROM generate_series(1, 50) g;`,
  );
  await catchUp(d);
  expect(await targetKey(d, 'w')).toEqual(['k']);
  expect((await sql<{ ri: string }>(d.sourceUrl, "SELECT relreplident::text AS ri FROM pg_class WHERE oid = 'w'::regclass"))[0]!.ri).toBe('i');
  await sql(d.sourceUrl, "UPDATE w SET id = id + 100 WHERE k <= 5; DELETE FROM w WHERE k BETWEEN 10 AND 12; UPDATE w SET v = 'x' WHERE k = 20");
  await catchUp(d);
  await expectSameData(d);
});
