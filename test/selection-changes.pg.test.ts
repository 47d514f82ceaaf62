/**
 * Issue 11 item 8 (DESIGN.md §3.2): a table's finished copy stays valid only while the pipeline
 * captures that very table. A table that leaves the selection and comes back, one dropped and
 * re-created (while stopped or while running), two tables that swap names, and a table renamed
 * while streaming are each copied again (or the run stops and says so) instead of keeping a
 * target that silently misses changes. Each case runs the real `cdc` binary.
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
  cluster = await startThrowawayCluster({ label: 'selection' });
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
  const name = `sel${process.pid}_${++counter}`;
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

async function catchUp(d: Dbs, ...extra: string[]): Promise<string> {
  const r = await runCli([...runArgs(d, '--until-caught-up'), ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return r.stderr;
}

async function expectSameData(d: Dbs, tables = ''): Promise<void> {
  const results = await compareDatabases(d.sourceUrl, d.targetUrl, { patterns: parseTablePatterns(tables) });
  expect(results.filter((r) => !r.equal)).toEqual([]);
  expect(results.length).toBeGreaterThan(0);
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const SCHEMA = `
  CREATE TABLE a (id int PRIMARY KEY, v text);
  CREATE TABLE b (id int PRIMARY KEY, v text);
  INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 200) g;
  INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 200) g;`;

it('copies a table again when it comes back into the selection, with the changes made while it was out', async () => {
  const d = await databases();
  await sql(d.sourceUrl, SCHEMA);
  await catchUp(d, '--tables', 'public.a,public.b');
  await sql(d.sourceUrl, "UPDATE b SET v = 'while selected' WHERE id <= 10; DELETE FROM b WHERE id > 190");
  // b leaves the selection: the publication stops publishing it.
  await catchUp(d, '--tables', 'public.a');
  await sql(d.sourceUrl, "UPDATE b SET v = 'while out' WHERE id BETWEEN 11 AND 20; DELETE FROM b WHERE id <= 5; INSERT INTO b VALUES (500, 'new while out'); UPDATE a SET v = 'a moved' WHERE id = 1");
  const back = await catchUp(d, '--tables', 'public.a,public.b');
  expect(back).toContain('copying the table again');
  await expectSameData(d);
  // Streaming continues for it afterwards.
  await sql(d.sourceUrl, "UPDATE b SET v = 'after' WHERE id = 50");
  await catchUp(d, '--tables', 'public.a,public.b');
  await expectSameData(d);
});

it('copies a table again that was dropped and re-created while no pipeline ran', async () => {
  const d = await databases();
  await sql(d.sourceUrl, SCHEMA);
  await catchUp(d);
  await sql(d.sourceUrl, "DROP TABLE b; CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT g, 'reborn' || g FROM generate_series(100, 150) g");
  await catchUp(d);
  await expectSameData(d);
});

it('copies a table again at the next start when it was dropped and re-created while streaming', async () => {
  const d = await databases();
  await sql(d.sourceUrl, SCHEMA);
  const run = startCli(runArgs(d));
  runs.push(run);
  await run.waitFor('streaming');
  await sql(d.sourceUrl, "UPDATE b SET v = 'before drop' WHERE id <= 3");
  await until('the update is merged', async () => (await sql<{ n: number }>(d.targetUrl, "SELECT count(*)::int AS n FROM public.b WHERE v = 'before drop'"))[0]!.n === 3);
  await sql(d.sourceUrl, "DROP TABLE b; CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b VALUES (1, 'reborn'), (7, 'reborn'); UPDATE a SET v = 'x' WHERE id = 1");
  await until('the change to a is merged', async () => (await sql<{ v: string }>(d.targetUrl, 'SELECT v FROM public.a WHERE id = 1'))[0]!.v === 'x');
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  await catchUp(d);
  await expectSameData(d);
});

it('copies both tables again when two tables swap names while no pipeline ran', async () => {
  const d = await databases();
  await sql(d.sourceUrl, SCHEMA);
  await catchUp(d);
  await sql(d.sourceUrl, 'ALTER TABLE a RENAME TO tmp; ALTER TABLE b RENAME TO a; ALTER TABLE tmp RENAME TO b');
  const swapped = await catchUp(d);
  expect(swapped).toContain('the table is not the one copied');
  await expectSameData(d);
});

it('a table renamed while streaming stops the stream with TABLE_RENAMED; the retry copies the new name', async () => {
  const d = await databases();
  await sql(d.sourceUrl, SCHEMA);
  const run = startCli(runArgs(d));
  runs.push(run);
  await run.waitFor('streaming');
  await sql(d.sourceUrl, "UPDATE b SET v = 'before rename' WHERE id <= 3");
  // Merged before the rename: a batch holding both would be retried whole after TABLE_RENAMED,
  // and the replayed update then belongs to c (matched by OID), not to b.
  await until('the update is merged', async () => (await sql<{ n: number }>(d.targetUrl, "SELECT count(*)::int AS n FROM public.b WHERE v = 'before rename'"))[0]!.n === 3);
  await sql(d.sourceUrl, "ALTER TABLE b RENAME TO c; UPDATE c SET v = 'after rename' WHERE id <= 5; INSERT INTO c VALUES (900, 'new')");
  await run.waitFor('TABLE_RENAMED');
  await until('c is copied', async () => (await sql<{ n: number }>(d.targetUrl, "SELECT count(*)::int AS n FROM public.c WHERE v = 'after rename'"))[0]!.n === 5);
  // The target's b holds what was merged before the rename, and is no longer updated.
  expect((await sql<{ n: number }>(d.targetUrl, "SELECT count(*)::int AS n FROM public.b WHERE v = 'before rename'"))[0]!.n).toBe(3);
  await sql(d.sourceUrl, "UPDATE c SET v = 'streamed' WHERE id = 100");
  await until('c streams', async () => (await sql<{ v: string }>(d.targetUrl, 'SELECT v FROM public.c WHERE id = 100'))[0]!.v === 'streamed');
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  await expectSameData(d);
});

it('a table renamed while streaming out of an explicit selection ends the run with TABLE_NOT_FOUND', async () => {
  const d = await databases();
  await sql(d.sourceUrl, SCHEMA);
  const run = startCli(runArgs(d, '--tables', 'public.a,public.b'));
  runs.push(run);
  await run.waitFor('streaming');
  await sql(d.sourceUrl, "ALTER TABLE b RENAME TO c; UPDATE c SET v = 'after rename' WHERE id <= 5");
  expect(await run.exited).toBe(2);
  expect(run.stderr()).toContain('TABLE_RENAMED');
  expect(run.stderr()).toContain('TABLE_NOT_FOUND');
});
