/**
 * The first end-to-end run with events Debezium itself writes: a throwaway PostgreSQL source,
 * the Debezium PostgreSQL connector 3.6.1 (pgoutput, JSON converter with schemas, transaction
 * metadata) in a throwaway Kafka Connect standalone worker (src/testing/throwaway-connect.ts),
 * streaming into a throwaway Kafka broker; then the built `cdc run --until-caught-up` with a
 * `debezium.kafka` source (the tables' topics and the transaction topic) into a throwaway
 * PostgreSQL target, which must equal the source table for table (compareDatabases); then a
 * second pipeline reads the same topics into Delta tables (Kafka → Delta, the seed's topology),
 * read back by delta-rs equal to the source, each change feed replaying into its table.
 *
 * The changes: the initial snapshot; inserts, updates and deletes; a primary key moved; a
 * transaction of several rows over two tables; an update that leaves a TOASTed column unchanged
 * (Debezium sends `__debezium_unavailable_value` for it); a keyless table under REPLICA IDENTITY
 * FULL. Broker and worker start once; the connector's initial snapshot takes the rows already
 * there. Two more cases: the type zoo with an ADD COLUMN … DEFAULT while streaming and a
 * 40,000-row transaction; and kill -9 of `cdc run`, of the worker (restarted, its connector
 * resuming from its last flushed offset, so changes arrive twice) and of the broker while the
 * connector streams.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Admin, Consumer, stringDeserializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startThrowawayConnect, type ThrowawayConnect } from '../src/testing/throwaway-connect.js';
import { startThrowawayKafka, type ThrowawayKafka } from '../src/testing/throwaway-kafka.js';
import { compareDatabases } from '../src/verify/compare-databases.js';
import { compareWithDelta, deltaRows, replayChangeFeed } from '../src/testing/delta-compare.js';
import { readDeltaTable } from '../src/testing/python-oracles.js';
import { runCli, startCli } from './support/cli.js';

let cluster: ThrowawayCluster;
let kafka: ThrowawayKafka;
let connect: ThrowawayConnect;
let root: string;

beforeAll(async () => {
  [cluster, kafka] = await Promise.all([startThrowawayCluster({ label: 'debezium-connect' }), startThrowawayKafka({ label: 'debezium-connect' })]);
  connect = await startThrowawayConnect({ bootstrap: kafka.bootstrap, label: 'debezium-connect' });
  root = mkdtempSync(join(tmpdir(), 'cdc-debezium-connect-'));
}, 180_000);

afterAll(async () => {
  await connect?.stop();
  await kafka?.stop();
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
}, 60_000);

/** `cdc run --until-caught-up`; killed, and its output thrown, when it runs past `timeoutMs`. */
async function catchUp(config: string, timeoutMs = 60_000): Promise<{ code: number | null; stderr: string }> {
  const run = startCli(['run', '--config', config, '--until-caught-up']);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  if (run.child.signalCode === 'SIGKILL') throw new Error(`cdc run --until-caught-up did not finish in ${timeoutMs} ms:\n${run.stderr()}`);
  return { code, stderr: run.stderr() };
}

/** The end offset of partition 0 of `topic` (0 when the topic does not exist yet). */
async function endOffset(topic: string): Promise<bigint> {
  const admin = new Admin({ clientId: 'debezium-connect test', bootstrapBrokers: [kafka.bootstrap] });
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0n;
    const [offsets] = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
    return offsets?.partitions[0]?.offset ?? 0n;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** The values of the first `count` records of partition 0 of `topic`, parsed (null for a tombstone). */
async function topicValues(topic: string, count: number): Promise<unknown[]> {
  const consumer = new Consumer({ clientId: 'debezium-connect test', groupId: `peek-${topic}`, bootstrapBrokers: [kafka.bootstrap], deserializers: stringDeserializers });
  const values: unknown[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest' as const, autocommit: false, maxWaitTime: 500 });
    try {
      for await (const message of stream) {
        values.push(message.value ? JSON.parse(message.value) : null);
        if (values.length >= count) break;
      }
    } finally {
      await stream.close();
    }
  } finally {
    await consumer.close();
  }
  return values;
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n${connect.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The connector `cdc debezium config` writes for `tables` of `sourceUrl` (the configuration the
 * tests run is the command's own), plus `slot.drop.on.stop` for the test: the slot goes when the
 * connector stops (connector docs: for testing only).
 */
async function generatedConnector(sourceUrl: string, name: string, tables: string): Promise<Record<string, string>> {
  // Trust authentication: any password; the connector wants one.
  const url = sourceUrl.replace('postgres://postgres@', 'postgres://postgres:unused@');
  const r = await runCli(['debezium', 'config', '--source', url, '--tables', tables, '--name', name]);
  expect(r.code, r.stderr).toBe(0);
  const json = JSON.parse(r.stdout) as { name: string; config: Record<string, string> };
  expect(json.name).toBe(name);
  return { ...json.config, 'slot.drop.on.stop': 'true' };
}

/** A text that PostgreSQL stores out of line (TOAST): ~6 KB of hex, which compresses poorly. */
const TOASTED = (seed: string) => `(SELECT string_agg(md5('${seed}' || i), '') FROM generate_series(1, 200) AS i)`;

describe('Debezium PostgreSQL connector → Kafka → cdc run (issue 15)', () => {
  it('merges what the real connector streams into a PostgreSQL target and into Delta tables equal to the source', async () => {
    const sourceUrl = await cluster.createDatabase('shop');
    const targetUrl = await cluster.createDatabase('shop_target');
    const source = new pg.Client(sourceUrl);
    await source.connect();
    try {
      await source.query(`
        CREATE TABLE accounts (id integer PRIMARY KEY, balance numeric(12,2), rate numeric, opened timestamptz, owner text);
        CREATE TABLE documents (id integer PRIMARY KEY, revision integer NOT NULL, body text);
        CREATE TABLE audit_log (at timestamptz NOT NULL, actor text, amount numeric(10,2));
        ALTER TABLE audit_log REPLICA IDENTITY FULL;
        INSERT INTO accounts VALUES
          (1, 100.50, 0.125, '2026-01-02 03:04:05.123456+00', 'ada'),
          (2, -7.00, NULL, '1999-12-31 23:59:59+05:30', 'bob'),
          (3, 0, 3.14159265358979, NULL, NULL);
        INSERT INTO documents VALUES (1, 1, ${TOASTED('a')}), (2, 1, 'short');
        INSERT INTO audit_log VALUES ('2026-01-01 00:00:00+00', 'ada', 1.00), ('2026-01-01 00:00:01+00', 'bob', 2.00);
      `);
      await connect.startConnector('shop', await generatedConnector(sourceUrl, 'shop', 'public.accounts,public.documents,public.audit_log'));

      await source.query(`INSERT INTO accounts VALUES (4, 12345678.99, 1e-10, now(), 'cy')`);
      await source.query(`UPDATE accounts SET balance = balance + 1, owner = 'ada l.' WHERE id = 1`);
      await source.query(`DELETE FROM accounts WHERE id = 2`);
      // A key move: Debezium sends a delete of the old key and a create of the new one.
      await source.query(`UPDATE accounts SET id = 30 WHERE id = 3`);
      // One transaction of several rows over two tables.
      await source.query(`BEGIN;
        INSERT INTO accounts SELECT g, g * 1.5, NULL, '2026-06-01 12:00:00+02', 'batch ' || g FROM generate_series(100, 109) AS g;
        UPDATE accounts SET rate = 0.5 WHERE id = 4;
        DELETE FROM accounts WHERE id = 105;
        INSERT INTO audit_log VALUES ('2026-06-01 12:00:00+02', 'batch', 15.00);
        COMMIT;`);
      // The TOASTed body is unchanged: the event carries Debezium's placeholder for it.
      await source.query(`UPDATE documents SET revision = 2 WHERE id = 1`);
      await source.query(`UPDATE documents SET body = ${TOASTED('b')}, revision = 3 WHERE id = 2`);
      // The keyless table under REPLICA IDENTITY FULL: the whole old row identifies it.
      await source.query(`UPDATE audit_log SET amount = 3.00 WHERE actor = 'bob'`);
      await source.query(`DELETE FROM audit_log WHERE actor = 'ada'`);

      const config = join(root, 'shop.yaml');
      writeFileSync(config, `name: shop\ntarget: { url: "${targetUrl}" }\ndebezium:\n  kafka:\n    brokers: ["${kafka.bootstrap}"]\n    topic_pattern: '^shop\\.(public\\..+|transaction)$'\n    session_timeout_ms: 6000\n`);

      // Nine source transactions were streamed: wait for their BEGIN and END on the transaction
      // topic, written after their change events, so that one catch-up sees everything.
      await until('Debezium wrote every transaction', async () => (await endOffset('shop.transaction')) >= 18n);
      const run = await catchUp(config);
      expect(run.code, run.stderr).toBe(0);
      // Every transaction came whole (BEGIN, END and all its change events), none was cut.
      expect(run.stderr).not.toContain('incomplete source transaction');
      expect(JSON.parse(run.stderr.split('\n').find((l) => l.includes('"caught up"')) ?? '{}')).toMatchObject({ messages: 33 + 18, transactions: 9 });

      // The cases above reached cdc-merge in the shapes they were meant to test.
      const documents = (await topicValues('shop.public.documents', 4)) as { payload: { op: string; after: { id: number; body: string } } }[];
      expect(documents.map((d) => [d.payload.op, d.payload.after.id, d.payload.after.body.length > 1000 ? 'long' : d.payload.after.body])).toEqual([
        ['r', 1, 'long'],
        ['r', 2, 'short'],
        ['u', 1, '__debezium_unavailable_value'],
        ['u', 2, 'long'],
      ]);

      const comparison = await compareDatabases(sourceUrl, targetUrl);
      const why = `${JSON.stringify(comparison, null, 2)}\n${run.stderr}`;
      expect(comparison.map((c) => c.table).sort(), why).toEqual(['public.accounts', 'public.audit_log', 'public.documents']);
      expect(comparison.filter((c) => !c.equal), why).toEqual([]);

      // Kafka → Delta (issue 15, 3c): the same topics, read by a second pipeline (its own
      // consumer group) into Delta tables; delta-rs reads them equal to the source, and each
      // change feed replays into its table.
      const lake = join(root, 'lake');
      const deltaConfig = join(root, 'shop-delta.yaml');
      writeFileSync(deltaConfig, `name: shop_delta\ntarget: { type: delta, location: "${lake}" }\ndebezium:\n  kafka:\n    brokers: ["${kafka.bootstrap}"]\n    topic_pattern: '^shop\\.(public\\..+|transaction)$'\n    session_timeout_ms: 6000\n`);
      const deltaRun = await catchUp(deltaConfig);
      expect(deltaRun.code, deltaRun.stderr).toBe(0);
      const lakeComparison = await compareWithDelta(sourceUrl, lake);
      expect(lakeComparison.map((c) => c.table).sort()).toEqual(['public.accounts', 'public.audit_log', 'public.documents']);
      expect(lakeComparison.filter((c) => !c.equal), JSON.stringify(lakeComparison, null, 2)).toEqual([]);
      for (const table of ['accounts', 'documents', 'audit_log']) {
        const reading = await readDeltaTable(join(lake, 'public', table), { cdfFrom: 0 });
        expect(replayChangeFeed([], reading.cdf!, -1), table).toEqual(deltaRows(reading));
      }
    } finally {
      await source.end();
    }
  }, 240_000);

  it('the type zoo, ADD COLUMN while streaming and a 40,000-row transaction, through the real connector: target equal to the source', async () => {
    const sourceUrl = await cluster.createDatabase('zoo');
    const targetUrl = await cluster.createDatabase('zoo_target');
    const source = new pg.Client(sourceUrl);
    await source.connect();
    try {
      await source.query(`
        CREATE TABLE zoo (
          id bigint PRIMARY KEY, i2 smallint, i4 integer, n numeric(12,2), big numeric(38,10), free numeric,
          f4 real, f8 double precision, b boolean, t text, vc varchar(20), ch char(3), bin bytea, d date,
          ts timestamp, ts3 timestamp(3), tstz timestamptz, tm time, u uuid, j json, jb jsonb, ints integer[], texts text[]
        );
        INSERT INTO zoo VALUES
          (1, 1, 10, 12.34, 1234567890123456789012345678.0123456789, 3.14159265358979323846264338327950288, 1.5, 2.25, true, 'one', 'v', 'abc', '\\x00ff10', '2024-02-29',
           '2024-01-01 12:34:56.123456', '2024-01-01 12:34:56.123', '2024-01-01 12:34:56.654321+02', '23:59:59.999999', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null}}', '{1,NULL,3}', '{"x","y z",NULL}'),
          (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
          (9223372036854775807, -32768, -2147483648, -9999999999.99, -9999999999999999999999999999.9999999999, 0, -0.5, -1e-300, false, '', '', '   ', '\\x', '1900-01-01',
           '1970-01-01 00:00:00', '1999-12-31 23:59:59.999', '1969-12-31 23:59:59.999999+00', '00:00:00', '00000000-0000-0000-0000-000000000000', '[]', '{}', '{}', '{}');
        CREATE TABLE bulk (id integer PRIMARY KEY, v text);
      `);
      await connect.startConnector('zoo', await generatedConnector(sourceUrl, 'zoo', 'public.zoo,public.bulk'));
      await source.query(`UPDATE zoo SET t = 'changed', n = n + 1, ints = '{4,5}', jb = '{"new": true}' WHERE id = 1`);
      await source.query(`INSERT INTO zoo (id, t, ts, d) VALUES (3, 'three', '2000-02-29 00:00:00.000001', '0001-01-01')`);
      await source.query(`DELETE FROM zoo WHERE id = 2`);
      // ADD COLUMN while the connector streams: later events carry it; rows before have its default on the source.
      await source.query(`ALTER TABLE zoo ADD COLUMN extra integer DEFAULT 7`);
      await source.query(`UPDATE zoo SET extra = 8 WHERE id = 1; INSERT INTO zoo (id, t, extra) VALUES (4, 'four', 9)`);
      // One transaction of 40,000 rows.
      await source.query(`INSERT INTO bulk SELECT g, 'row ' || g FROM generate_series(1, 40000) AS g`);
      await source.query(`UPDATE bulk SET v = 'after' WHERE id % 1000 = 0`);

      const config = join(root, 'zoo.yaml');
      writeFileSync(config, `name: zoo\ntarget: { url: "${targetUrl}" }\ndebezium:\n  kafka:\n    brokers: ["${kafka.bootstrap}"]\n    topic_pattern: '^zoo\\.(public\\..+|transaction)$'\n    session_timeout_ms: 6000\n`);
      // Six source transactions after the snapshot (the ALTER writes none; the two statements sent
      // together run as one): BEGIN and END each.
      await until('Debezium wrote every transaction', async () => (await endOffset('zoo.transaction')) >= 12n, 120_000);
      const run = await catchUp(config, 180_000);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toContain('incomplete source transaction');

      const comparison = await compareDatabases(sourceUrl, targetUrl);
      const why = `${JSON.stringify(comparison, null, 2)}\n${run.stderr.slice(-4000)}`;
      expect(comparison.map((c) => c.table).sort(), why).toEqual(['public.bulk', 'public.zoo']);
      expect(comparison.filter((c) => !c.equal), why).toEqual([]);
    } finally {
      await source.end();
    }
  }, 360_000);

  it('kill -9 of cdc run, of the Connect worker and of the broker while the connector streams: target equal to the source, no change twice', async () => {
    const sourceUrl = await cluster.createDatabase('chaos');
    const targetUrl = await cluster.createDatabase('chaos_target');
    const source = new pg.Client(sourceUrl);
    await source.connect();
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      await source.query(`
        CREATE TABLE counter (id integer PRIMARY KEY, n integer NOT NULL, note text);
        INSERT INTO counter SELECT g, 0, 'start' FROM generate_series(1, 200) AS g;
        -- Append-only and keyless: a change merged twice would show as an extra row.
        CREATE TABLE events (seq integer, note text);
        ALTER TABLE events REPLICA IDENTITY FULL;
      `);
      const connector = await generatedConnector(sourceUrl, 'chaos', 'public.counter,public.events');
      await connect.startConnector('chaos', connector);
      const config = join(root, 'chaos.yaml');
      writeFileSync(config, `name: chaos\ntarget: { url: "${targetUrl}" }\ndebezium:\n  kafka:\n    brokers: ["${kafka.bootstrap}"]\n    topic_pattern: '^chaos\\.(public\\..+|transaction)$'\n    session_timeout_ms: 6000\n`);
      let running = startCli(['run', '--config', config]);

      // The workload: small transactions until told to stop, each an update, a keyless insert,
      // and now and then a new key or a deleted one.
      let stop = false;
      let transactions = 0;
      const workload = (async () => {
        for (let i = 1; !stop; i++) {
          const extra = i % 7 === 0 ? `INSERT INTO counter VALUES (${1000 + i}, 1, 'new');` : i % 11 === 0 ? `DELETE FROM counter WHERE id = ${(i % 200) + 1};` : '';
          await source.query(`BEGIN; UPDATE counter SET n = n + 1, note = 'tx ${i}' WHERE id = ${(i % 200) + 1}; INSERT INTO events VALUES (${i}, 'e${i}'); ${extra} COMMIT;`);
          transactions++;
          await new Promise((r) => setTimeout(r, 40));
        }
      })();
      const after = async (n: number) => {
        while (transactions < n) await new Promise((r) => setTimeout(r, 50));
      };

      await after(60);
      running.child.kill('SIGKILL');
      await running.exited;
      running = startCli(['run', '--config', config]);

      await after(140);
      await connect.kill();
      await connect.start();
      await connect.startConnector('chaos', connector, 120_000);

      await after(220);
      await kafka.restart();

      await after(300);
      stop = true;
      await workload;
      await source.query(`INSERT INTO events VALUES (-1, 'done')`);
      await until('the last change reached the target', async () => (await target.query(`SELECT 1 FROM events WHERE seq = -1`)).rowCount === 1, 180_000);
      running.child.kill('SIGTERM');
      expect(await running.exited, running.stderr().slice(-4000)).toBe(0);

      const comparison = await compareDatabases(sourceUrl, targetUrl);
      const why = `${JSON.stringify(comparison, null, 2)}\n${running.stderr().slice(-4000)}`;
      expect(comparison.map((c) => c.table).sort(), why).toEqual(['public.counter', 'public.events']);
      expect(comparison.filter((c) => !c.equal), why).toEqual([]);
      expect((await target.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n).toBe(String(transactions + 1));
      // The worker's kill -9 was really felt: the restarted connector sent again what followed its
      // last flushed offset, so the topic holds more inserts than the table has rows.
      expect(await endOffset('chaos.public.events')).toBeGreaterThan(BigInt(transactions + 1));
      await connect.deleteConnector('chaos');
    } finally {
      await source.end();
      await target.end();
    }
  }, 420_000);
});
