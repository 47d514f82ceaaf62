/**
 * DESIGN.md §3.2 and §3.11 at start-up: a pipeline that cannot resume from the target's
 * checkpoint stops with an error naming the gap and the resync command instead of skipping
 * silently. The slot is gone (SLOT_MISSING); the slot of that name belongs to another database,
 * plugin or kind (SLOT_NAME_TAKEN); the slot confirmed more than the target holds, as after a
 * restore of the target from a backup (TARGET_BEHIND_SOURCE). And `--resync` survives a crash
 * at any point. Each case runs the real `cdc` binary, the way a user meets it.
 */
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTablePatterns } from '../src/config/table-pattern.js';
import { formatLsn, parseLsn } from '../src/events/lsn.js';
import { decodePosition } from '../src/events/position.js';
import { runPipeline } from '../src/pipeline/run.js';
import { createSource, openSink } from '../src/run/registry.js';
import { replicate } from '../src/run/replicate.js';
import type { ChangeSource } from '../src/sources/change-source.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { compareDatabases } from '../src/verify/compare-databases.js';
import { runCli, startCli } from './support/cli.js';

let cluster: ThrowawayCluster;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'slot-checks' });
});
afterAll(async () => {
  await cluster?.stop();
});

/** A source and a target database and a pipeline name; no connection is kept open. */
interface Dbs {
  readonly name: string;
  readonly targetDb: string;
  readonly sourceUrl: string;
  readonly targetUrl: string;
}

let counter = 0;
async function databases(): Promise<Dbs> {
  const name = `sc${process.pid}_${++counter}`;
  const targetDb = `tgt_${name}`;
  return { name, targetDb, sourceUrl: await cluster.createDatabase(`src_${name}`), targetUrl: await cluster.createDatabase(targetDb) };
}

/** Runs one statement (or a script without parameters) on a short-lived connection. */
async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

const runArgs = (d: Dbs, ...extra: string[]) => ['run', '--source', d.sourceUrl, '--target', d.targetUrl, '--name', d.name, '--until-caught-up', ...extra];

async function expectSameData(d: Dbs): Promise<void> {
  const results = await compareDatabases(d.sourceUrl, d.targetUrl, { patterns: parseTablePatterns('') });
  expect(results.filter((r) => !r.equal)).toEqual([]);
}

/** The target's merged slot position (partition ''), or undefined. */
async function mergedLsn(d: Dbs): Promise<bigint | undefined> {
  const rows = await sql<{ position: string }>(d.targetUrl, "SELECT position::text FROM cdc_management.offsets WHERE pipeline = $1 AND source_partition = ''", [d.name]);
  return rows[0] ? BigInt(rows[0].position) : undefined;
}

/**
 * What the target holds of its one table: the later of the merged position and the table's
 * snapshot position (a new slot starts at its snapshot's position, before anything is merged).
 */
async function targetHolds(d: Dbs): Promise<bigint> {
  let holds = (await mergedLsn(d)) ?? 0n;
  const copies = await sql<{ position: Buffer }>(
    d.targetUrl,
    "SELECT snapshot_position AS position FROM cdc_management.snapshot_progress WHERE pipeline = $1 AND state = 'done'",
    [d.name],
  );
  for (const c of copies) {
    const lsn = decodePosition(new Uint8Array(c.position))[0] ?? 0n;
    if (lsn > holds) holds = lsn;
  }
  return holds;
}

/** The slot's state on the source, or undefined when there is none. */
async function slotOf(d: Dbs): Promise<{ database: string | null; confirmed: bigint | null } | undefined> {
  const rows = await sql<{ database: string | null; confirmed: string | null }>(
    d.sourceUrl,
    'SELECT database, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1',
    [d.name],
  );
  const r = rows[0];
  return r && { database: r.database, confirmed: r.confirmed === null ? null : parseLsn(r.confirmed) };
}

/** Drops a slot, waiting for a killed process's walsender to let go of it. */
async function dropSlotOf(url: string, name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await sql(url, 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [name]);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006') throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`slot ${name} stayed active`);
}

it('stops with SLOT_MISSING when the target has merged changes but the slot is gone; --resync recovers', async () => {
  const d = await databases();
  await sql(d.sourceUrl, 'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, g::text FROM generate_series(1, 100) g');
  expect((await runCli(runArgs(d))).code).toBe(0);
  await sql(d.sourceUrl, "UPDATE t SET v = 'merged' WHERE id <= 5");
  expect((await runCli(runArgs(d))).code).toBe(0);
  const merged = await mergedLsn(d);
  expect(merged).toBeDefined();

  // A DBA drops the slot (or a failover or pg_upgrade loses it); the source goes on changing.
  await dropSlotOf(d.sourceUrl, d.name);
  await sql(d.sourceUrl, "UPDATE t SET v = 'lost in the gap' WHERE id <= 10");

  const failed = await runCli(runArgs(d));
  expect(failed.code, failed.stderr).toBe(1);
  expect(failed.stderr).toMatch(/error \[SLOT_MISSING\]: replication slot "\w+" is gone/);
  expect(failed.stderr).toContain(formatLsn(merged!));
  expect(failed.stderr).toMatch(/what to do: .*cdc run --resync/);
  // Nothing was created or streamed: the gap stays visible.
  expect(await slotOf(d)).toBeUndefined();
  expect(await mergedLsn(d)).toBe(merged);

  const resynced = await runCli(runArgs(d, '--resync'));
  expect(resynced.code, resynced.stderr).toBe(0);
  await expectSameData(d);
});

it('treats a run whose first snapshot never finished as a first run, even when its slot was dropped', async () => {
  const d = await databases();
  await sql(d.sourceUrl, `CREATE TABLE bulk (id int PRIMARY KEY, pad text);
    INSERT INTO bulk SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 100000) g`);
  const first = startCli(runArgs(d));
  await first.waitFor('snapshot: copying table');
  first.child.kill('SIGKILL');
  await first.exited;
  expect(await mergedLsn(d)).toBeUndefined();
  const done = await sql(d.targetUrl, "SELECT 1 FROM cdc_management.snapshot_progress WHERE pipeline = $1 AND state = 'done'", [d.name]);
  expect(done).toEqual([]);

  await dropSlotOf(d.sourceUrl, d.name);
  const again = await runCli(runArgs(d));
  expect(again.code, again.stderr).toBe(0);
  await expectSameData(d);
});

it('--resync survives a crash after the target reset, before the slot is dropped', async () => {
  const d = await databases();
  await sql(d.sourceUrl, 'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, g::text FROM generate_series(1, 100) g');
  expect((await runCli(runArgs(d))).code).toBe(0);
  await sql(d.sourceUrl, "UPDATE t SET v = 'merged' WHERE id <= 5");
  expect((await runCli(runArgs(d))).code).toBe(0);

  // The pipeline resets the sink, then the source. The process dies between the two: here the
  // source's reset stops everything dead, as kill -9 would (nothing runs after it but closing
  // connections, which writes nothing).
  const log = pino({ level: 'silent' });
  const target = { type: 'postgresql' as const, url: d.targetUrl };
  const source = createSource({ type: 'postgres', url: d.sourceUrl, patterns: [] }, target, { name: d.name, log });
  const sink = await openSink(target, { name: d.name, log });
  const crashing: ChangeSource = {
    description: source.description,
    open: () => source.open(),
    reset: () => Promise.reject(new Error('killed between sink reset and source reset')),
    start: (options) => source.start(options),
    close: () => source.close(),
  };
  try {
    await expect(runPipeline({ source: crashing, sink, log, resync: true, untilCaughtUp: true })).rejects.toThrow('killed between');
  } finally {
    await sink.close();
    await source.close();
  }
  // The target forgot its checkpoint; the old slot is still there.
  expect(await mergedLsn(d)).toBeUndefined();
  expect(await slotOf(d)).toBeDefined();
  await sql(d.sourceUrl, "UPDATE t SET v = 'after the crash' WHERE id BETWEEN 50 AND 60");

  // A plain run copies every table again (the target holds nothing to resume) on the old slot...
  const plain = await runCli(runArgs(d));
  expect(plain.code, plain.stderr).toBe(0);
  await expectSameData(d);
  // ...and the resync, run again, completes.
  await sql(d.sourceUrl, "UPDATE t SET v = 'before the second resync' WHERE id BETWEEN 70 AND 80");
  const resynced = await runCli(runArgs(d, '--resync'));
  expect(resynced.code, resynced.stderr).toBe(0);
  await expectSameData(d);
});

it('--resync survives kill -9 while it copies a large table again', async () => {
  const d = await databases();
  await sql(d.sourceUrl, `CREATE TABLE bulk (id int PRIMARY KEY, pad text);
    INSERT INTO bulk SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 100000) g`);
  expect((await runCli(runArgs(d))).code).toBe(0);
  await sql(d.sourceUrl, "UPDATE bulk SET pad = 'merged' WHERE id <= 100");
  expect((await runCli(runArgs(d))).code).toBe(0);

  const resync = startCli(runArgs(d, '--resync'));
  await resync.waitFor('snapshot: copying table');
  resync.child.kill('SIGKILL');
  await resync.exited;
  await sql(d.sourceUrl, "UPDATE bulk SET pad = 'after the kill' WHERE id BETWEEN 500 AND 600");

  const again = await runCli(runArgs(d, '--resync'));
  expect(again.code, again.stderr).toBe(0);
  await expectSameData(d);
});

it('refuses a slot of that name in another database, with another plugin, or physical (SLOT_NAME_TAKEN)', async () => {
  const d = await databases();
  await sql(d.sourceUrl, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')");
  const otherDb = `other_${d.name}`;
  const otherUrl = await cluster.createDatabase(otherDb);
  await sql(otherUrl, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [d.name]);

  const taken = await runCli(runArgs(d));
  expect(taken.code, taken.stderr).toBe(2);
  expect(taken.stderr).toMatch(new RegExp(`error \\[SLOT_NAME_TAKEN\\]: replication slot "${d.name}" belongs to database "${otherDb}"`));
  expect(taken.stderr).toMatch(/what to do: .*--name/);
  // --resync must not drop (nor disconnect) another database's slot.
  const resync = await runCli(runArgs(d, '--resync'));
  expect(resync.code, resync.stderr).toBe(2);
  expect(resync.stderr).toContain('SLOT_NAME_TAKEN');
  expect((await slotOf(d))?.database).toBe(otherDb);
  await dropSlotOf(otherUrl, d.name);

  await sql(d.sourceUrl, "SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [d.name]);
  const plugin = await runCli(runArgs(d));
  expect(plugin.code, plugin.stderr).toBe(2);
  expect(plugin.stderr).toMatch(/error \[SLOT_NAME_TAKEN\]: .*plugin "test_decoding"/);
  await dropSlotOf(d.sourceUrl, d.name);

  await sql(d.sourceUrl, 'SELECT pg_create_physical_replication_slot($1)', [d.name]);
  const physical = await runCli(runArgs(d));
  expect(physical.code, physical.stderr).toBe(2);
  expect(physical.stderr).toMatch(/error \[SLOT_NAME_TAKEN\]: .*physical/);
  await dropSlotOf(d.sourceUrl, d.name);

  // Once the name is free, the pipeline starts as a first run.
  const fresh = await runCli(runArgs(d));
  expect(fresh.code, fresh.stderr).toBe(0);
  await expectSameData(d);
});

it('never confirms to the slot more than the target holds, idle keepalives and heartbeats included', async () => {
  const d = await databases();
  await sql(d.sourceUrl, 'CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE other (id int PRIMARY KEY)');
  expect((await runCli(runArgs(d, '--tables', 'public.t'))).code).toBe(0);
  const before = (await slotOf(d))!.confirmed!;
  expect(before).toBeLessThanOrEqual(await targetHolds(d));
  // A running pipeline whose tables are idle while WAL moves on: keepalives and heartbeats
  // advance the slot, and each advance is stored first.
  const controller = new AbortController();
  const running = replicate({
    name: d.name,
    source: { type: 'postgres', url: d.sourceUrl, patterns: parseTablePatterns('public.t'), heartbeatIntervalMs: 100 },
    target: { type: 'postgresql', url: d.targetUrl },
    log: pino({ level: 'silent' }),
    signal: controller.signal,
  });
  try {
    for (let i = 0; i < 20; i++) {
      await sql(d.sourceUrl, 'INSERT INTO other SELECT g FROM generate_series($1::int, $1::int + 99) g', [i * 100]);
      // Slot first: what the target holds only grows, so reading it second cannot hide a breach.
      const confirmed = (await slotOf(d))!.confirmed!;
      const holds = await targetHolds(d);
      expect(confirmed <= holds, `slot confirmed ${formatLsn(confirmed)} beyond the target's ${formatLsn(holds)}`).toBe(true);
      await new Promise((r) => setTimeout(r, 150));
    }
  } finally {
    controller.abort();
    await running;
  }
  const after = (await slotOf(d))!.confirmed!;
  expect(after).toBeGreaterThan(before);
  expect(after).toBeLessThanOrEqual(await targetHolds(d));
  // And so a healthy target always resumes.
  const again = await runCli(runArgs(d, '--tables', 'public.t'));
  expect(again.code, again.stderr).toBe(0);
});

it('stops with TARGET_BEHIND_SOURCE when the target was restored from a backup older than the slot; --resync recovers', async () => {
  const d = await databases();
  await sql(d.sourceUrl, 'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, g::text FROM generate_series(1, 100) g');
  expect((await runCli(runArgs(d))).code).toBe(0);
  await sql(d.sourceUrl, "UPDATE t SET v = 'in the backup' WHERE id <= 5");
  expect((await runCli(runArgs(d))).code).toBe(0);
  const backedUp = (await mergedLsn(d))!;
  // A backup of the target (no session may be connected to a template).
  const backup = `bak_${d.name}`;
  await sql(cluster.url(), `CREATE DATABASE ${backup} TEMPLATE ${d.targetDb}`);

  // More changes are merged and acknowledged to the slot...
  await sql(d.sourceUrl, "UPDATE t SET v = 'only in the lost target' WHERE id BETWEEN 10 AND 20");
  expect((await runCli(runArgs(d))).code).toBe(0);
  const confirmed = (await slotOf(d))!.confirmed!;
  expect(confirmed).toBeGreaterThan(backedUp);
  // ...then the target is lost and restored from the backup.
  await sql(cluster.url(), `DROP DATABASE ${d.targetDb} WITH (FORCE)`);
  await sql(cluster.url(), `CREATE DATABASE ${d.targetDb} TEMPLATE ${backup}`);
  expect(await mergedLsn(d)).toBe(backedUp);

  const failed = await runCli(runArgs(d));
  expect(failed.code, failed.stderr).toBe(1);
  expect(failed.stderr).toMatch(/error \[TARGET_BEHIND_SOURCE\]: /);
  expect(failed.stderr).toContain(formatLsn(backedUp));
  expect(failed.stderr).toContain(formatLsn(confirmed));
  expect(failed.stderr).toMatch(/what to do: .*cdc run --resync/);
  expect(await mergedLsn(d)).toBe(backedUp);

  const resynced = await runCli(runArgs(d, '--resync'));
  expect(resynced.code, resynced.stderr).toBe(0);
  await expectSameData(d);
});
