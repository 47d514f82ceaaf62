/**
 * Hostile names end to end (issue 11, item 21): schema, table and column names with double
 * quotes, dots, spaces, unicode (a 4-byte character too) and 63-byte lengths, through every
 * command of the built `cdc` binary: `cdc run` (snapshot, then inserts, updates, a key change and
 * deletes, keyed and keyless), `cdc status` (with the source, and `--target` alone), `cdc schema
 * inspect` + `cdc migrations generate | apply | status`, and `cdc merge-worker` on the migrated
 * target's staging tables.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTableId, type TableId } from '../src/schema/table.js';
import { stagingTableId } from '../src/sinks/postgres/naming.js';
import { quoteIdent as q, quoteTable } from '../src/sql/quote.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli, startCli, type CliRun } from './support/cli.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Names: quotes, dots, spaces, unicode, and exactly 63 bytes (PostgreSQL's limit). */
const S1 = 'Odd "Schema".x ü';
const S2 = 'é'.repeat(31) + 'z';
const T1 = 'Tä ble."q" 😀';
const T2 = 'ü'.repeat(31) + 'x';
const T3 = 'no key. "at all"';
const K = 'the "id".k';
const C1 = 'a.b c';
const C2 = 'ünï cødé "x"';
const C3 = 'ç'.repeat(30) + 'abc';

const tables: { id: TableId; columns: string[]; ddl: string }[] = [
  { id: { schema: S1, name: T1 }, columns: [K, C1, C2], ddl: `${q(K)} int PRIMARY KEY, ${q(C1)} text, ${q(C2)} int` },
  { id: { schema: S2, name: T2 }, columns: [K, C3], ddl: `${q(K)} int PRIMARY KEY, ${q(C3)} text` },
  { id: { schema: S1, name: T3 }, columns: [C1, C2], ddl: `${q(C1)} text, ${q(C2)} int` },
];
/** `--tables` for exactly these tables, each quoted as SQL quotes it. */
const patterns = tables.map((t) => quoteTable(t.id)).join(',');

let cluster: ThrowawayCluster;
let sourceUrl: string;
let targetUrl: string;
let root: string;
const running: CliRun[] = [];

async function query<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** A table's rows (its source columns only), in a stable order. */
async function contents(url: string, t: (typeof tables)[number]): Promise<unknown[]> {
  const cols = t.columns.map(q).join(', ');
  return query(url, `SELECT ${cols} FROM ${quoteTable(t.id)} ORDER BY ${t.columns.map((_, i) => i + 1).join(', ')}`);
}

async function expectEqual(url: string): Promise<void> {
  for (const t of tables) expect(await contents(url, t), formatTableId(t.id)).toEqual(await contents(sourceUrl, t));
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  expect([S2, T2, C3].map(bytes)).toEqual([63, 63, 63]);
  cluster = await startThrowawayCluster({ label: 'hostile-names' });
  sourceUrl = await cluster.createDatabase('shop');
  targetUrl = await cluster.createDatabase('copy');
  await cluster.createDatabase('app_dev');
  const ddl = [`CREATE SCHEMA ${q(S1)}`, `CREATE SCHEMA ${q(S2)}`, ...tables.map((t) => `CREATE TABLE ${quoteTable(t.id)} (${t.ddl})`)];
  await query(sourceUrl, ddl.join(';\n'));
  await query(
    sourceUrl,
    `INSERT INTO ${quoteTable(tables[0]!.id)} SELECT g, 'v ' || g || ' "q".', g FROM generate_series(1, 50) g;
     INSERT INTO ${quoteTable(tables[1]!.id)} SELECT g, 'ü ' || g FROM generate_series(1, 20) g;
     INSERT INTO ${quoteTable(tables[2]!.id)} SELECT 'k ' || g, g FROM generate_series(1, 10) g;`,
  );
  root = mkdtempSync(join(tmpdir(), 'cdc-hostile-'));
}, 180_000);
afterAll(async () => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('hostile names', () => {
  it('cdc run copies and streams them (keyed, keyless, a key change), and cdc status reports them', async () => {
    const args = ['run', '--source', sourceUrl, '--target', targetUrl, '--name', 'hostile', '--tables', patterns, '--until-caught-up'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    await expectEqual(targetUrl);

    // While streaming: inserts, updates, a key change, deletes on each table.
    const run = startCli(args.filter((a) => a !== '--until-caught-up'));
    running.push(run);
    await run.waitFor('"msg":"streaming"');
    const [a, b, c] = tables.map((t) => quoteTable(t.id));
    await query(
      sourceUrl,
      `INSERT INTO ${a} VALUES (51, 'new "one"', 51);
       UPDATE ${a} SET ${q(C1)} = 'changed.', ${q(C2)} = -1 WHERE ${q(K)} <= 5;
       UPDATE ${a} SET ${q(K)} = 1000 WHERE ${q(K)} = 10;
       DELETE FROM ${a} WHERE ${q(K)} BETWEEN 40 AND 45;
       UPDATE ${b} SET ${q(C3)} = 'é' WHERE ${q(K)} % 2 = 0;
       DELETE FROM ${b} WHERE ${q(K)} = 20;
       INSERT INTO ${c} VALUES ('k new', 99);
       UPDATE ${c} SET ${q(C2)} = 0 WHERE ${q(C1)} = 'k 1';
       DELETE FROM ${c} WHERE ${q(C1)} = 'k 2';`,
    );
    const [lsn] = await query<{ lsn: string }>(sourceUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await until('the changes are merged', async () => {
      const rows = await query<{ ok: boolean }>(sourceUrl, `SELECT confirmed_flush_lsn >= '${lsn!.lsn}'::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = 'hostile'`);
      return rows[0]?.ok === true;
    });
    run.child.kill('SIGTERM');
    expect(await run.exited, run.stderr()).toBe(0);
    await expectEqual(targetUrl);

    const json = await runCli(['status', '--source', sourceUrl, '--target', targetUrl, '--name', 'hostile', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { tables: { schema: string; name: string; snapshot: string; rows: number }[] };
    const byName = (x: { schema: string; name: string }, y: { schema: string; name: string }) => `${x.schema}\0${x.name}`.localeCompare(`${y.schema}\0${y.name}`);
    const expected = await Promise.all(tables.map(async (t) => ({ schema: t.id.schema, name: t.id.name, snapshot: 'done', rows: (await contents(sourceUrl, t)).length })));
    expect(report.tables.map((t) => ({ schema: t.schema, name: t.name, snapshot: t.snapshot, rows: t.rows })).sort(byName)).toEqual(expected.sort(byName));
    const text = await runCli(['status', '--source', sourceUrl, '--target', targetUrl, '--name', 'hostile']);
    expect(text.code, text.stderr).toBe(0);
    for (const t of tables) expect(text.stdout).toContain(`${t.id.schema}.${t.id.name}`);
  });

  it('cdc schema inspect and cdc migrations generate | apply | status; cdc merge-worker merges their staging; cdc status --target', async () => {
    const env = { PG_DEV_HOST: '127.0.0.1', PG_DEV_PORT: String(cluster.port), PG_DEV_USER: 'postgres' };
    const config = join(root, 'cdc.yaml');
    const cdc = (args: string[]) => runCli([...args, '--config', config], env);
    const init = await runCli(['init', root, '--service', 'shop', '--dialect', 'postgresql']);
    expect(init.code, init.stderr).toBe(0);
    // Names kept as the source spells them (the template converts to snake_case).
    const yaml = readFileSync(config, 'utf8');
    expect(yaml).toMatch(/naming: snake_case/);
    writeFileSync(config, yaml.replace(/naming: snake_case/, 'naming: preserve'));
    const inspect = await cdc(['schema', 'inspect', '--source', sourceUrl, '--service', 'shop', '--tables', patterns]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const generate = await cdc(['migrations', 'generate']);
    expect(generate.code, generate.stderr).toBe(0);
    const apply = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(apply.code, apply.stderr).toBe(0);
    const appUrl = cluster.url('app_dev');
    for (const t of tables) expect(await contents(appUrl, t), formatTableId(t.id)).toEqual([]);
    const status = await cdc(['migrations', 'status', '--env', 'dev']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const again = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(again.stdout).toMatch(/every migration is applied/);

    // Deferred mode: an external writer stages rows, the merge worker merges them.
    const staged = tables.map((t, i) => {
      const cols = [...t.columns.map(q), '_cdc_op', '_cdc_position'].join(', ');
      const values = t.columns.map((c) => (c === K || c === C2 ? '7' : `'x "y". ü'`)).join(', ');
      return `INSERT INTO ${quoteTable(stagingTableId(t.id))} (${cols}) VALUES (${values}, 'I', cdc_management.row_position(${1000 + i}, 0))`;
    });
    await query(appUrl, staged.join(';\n'));
    const worker = startCli(['merge-worker', '--target', appUrl, '--window', '1s']);
    running.push(worker);
    await worker.waitFor('merge worker listening');
    await until('every table is merged', async () => {
      const counts = await Promise.all(tables.map(async (t) => (await contents(appUrl, t)).length));
      return counts.every((n) => n === 1);
    });
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.stderr()).toBe(0);
    expect(worker.stderr()).not.toMatch(/"level":50/);
    expect(await contents(appUrl, tables[0]!)).toEqual([{ [K]: 7, [C1]: 'x "y". ü', [C2]: 7 }]);

    const merge = await runCli(['status', '--target', appUrl, '--json']);
    expect(merge.code, merge.stderr).toBe(0);
    const text = JSON.stringify(JSON.parse(merge.stdout));
    for (const t of tables) expect(text).toContain(JSON.stringify(t.id.name));
    const plain = await runCli(['status', '--target', appUrl]);
    expect(plain.code, plain.stderr).toBe(0);
    for (const t of tables) expect(plain.stdout).toContain(t.id.name);
  });
});
