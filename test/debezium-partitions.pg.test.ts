/**
 * The message pipeline over a partitioned broker (what Kafka delivers), into a real PostgreSQL
 * sink: positions are kept per `topic/partition`, a redelivery from older group offsets changes
 * nothing, a Kafka tombstone only advances the position, and with Debezium's transaction topic
 * a batch never ends before every event of a source transaction arrived, whatever order the
 * partitions deliver them in. The broker here is scripted, to play delivery orders and
 * redeliveries a real broker gives only by chance; everything above the transport is the
 * production path of `cdc run` with `debezium.kafka`. The transport itself, its start checks and
 * a broker restart run on a real broker in test/kafka-broker.pg.test.ts.
 */
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDebeziumRecord } from '../src/events/debezium/index.js';
import { Metrics } from '../src/observability/metrics.js';
import { runPipeline } from '../src/pipeline/run.js';
import type { TableSchema } from '../src/schema/table.js';
import { PostgresSink } from '../src/sinks/postgres/sink.js';
import type { SchemaChangePolicy } from '../src/sinks/postgres/schema-change.js';
import { kafkaTransactionBoundaries, parseKafkaPartition } from '../src/sources/debezium/kafka.js';
import { DebeziumSource } from '../src/sources/debezium/source.js';
import type { MessageTransport, SourceMessage } from '../src/sources/debezium/transport.js';
import { describeTables, listTables } from '../src/sources/postgres/catalog.js';
import { debeziumEvent, debeziumTransactionEvent, type TextRow } from '../src/testing/debezium-events.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';

const TOPIC = 'dbz.public.accounts';
const TX_TOPIC = 'dbz.transaction';
const log = pino({ level: 'silent' });
const encode = (s: string) => new TextEncoder().encode(s);

let cluster: ThrowawayCluster;
let table: TableSchema;
let run = 0;

/** A broker that hands out a script of messages, one per fetch, and records the acknowledgements. */
class ScriptedBroker implements MessageTransport {
  readonly acks: Map<string, bigint>[] = [];
  constructor(private readonly script: SourceMessage[]) {}
  async fetch(): Promise<SourceMessage[]> {
    return this.script.splice(0, 1);
  }
  async acknowledge(positions: ReadonlyMap<string, bigint>): Promise<void> {
    this.acks.push(new Map(positions));
  }
}

const offsets = new Map<string, bigint>();
/** The next message of `topic/partition`, offsets counting from 0 as on Kafka. */
function message(topic: string, partition: number, data: string | null): SourceMessage {
  const name = `${topic}/${partition}`;
  const offset = offsets.get(name) ?? 0n;
  offsets.set(name, offset + 1n);
  return { subject: topic, partition: name, sequence: offset, key: null, data: data === null ? null : encode(data), timestampMs: 1_700_000_000_000 };
}

let lsn = 100n;
function change(op: 'r' | 'c' | 'u' | 'd', row: TextRow, tx?: { id: string; order: number }): string {
  lsn += 8n;
  const rows = op === 'd' ? { before: row } : { after: row };
  return debeziumEvent({
    table,
    op,
    ...rows,
    lsn,
    txId: Number(lsn),
    tsMs: 1_700_000_000_000,
    ...(tx ? { transaction: { id: tx.id, totalOrder: tx.order, dataCollectionOrder: tx.order } } : {}),
  });
}

const partitionOf = (id: number) => id % 2;
const row = (id: number, balance: string): TextRow => ({ id: String(id), balance, note: `n${id}` });

/** Runs the pipeline until caught up over `broker`. */
async function pipeline(targetUrl: string, broker: ScriptedBroker, topics: string[], metrics = new Metrics(), maxChanges = 1, schemaPolicy?: SchemaChangePolicy) {
  const sink = await PostgresSink.open({ url: targetUrl, pipeline: 'kafka_test', log, ...(schemaPolicy ? { schemaPolicy } : {}) });
  const transactions = kafkaTransactionBoundaries(topics);
  const source = new DebeziumSource({
    description: 'debezium over a scripted broker',
    connect: () =>
      Promise.resolve({
        transport: broker,
        decode: (m: SourceMessage) => decodeDebeziumRecord({ key: m.key ?? null, value: m.data, topic: m.subject, partition: parseKafkaPartition(m.partition!).partition, offset: m.sequence }),
        ...(transactions ? { transactions } : {}),
        close: () => Promise.resolve(),
      }),
    log,
    keyOf: () => ['id'],
  });
  const replayedBefore = (await metrics.registry.getSingleMetric('cdc_changes_replayed_total')!.get()).values[0]?.value ?? 0;
  try {
    const result = await runPipeline({ source, sink, log, metrics, batchPolicy: { maxChanges, maxAgeMs: 10_000, idleMs: 5 }, untilCaughtUp: true });
    const replayed = ((await metrics.registry.getSingleMetric('cdc_changes_replayed_total')!.get()).values[0]?.value ?? 0) - replayedBefore;
    return { ...result, replayed };
  } finally {
    await sink.close();
    await source.close();
  }
}

async function rows(client: pg.Client): Promise<string[]> {
  const { rows: r } = await client.query<{ id: number; balance: string }>('SELECT id, balance::text FROM public.accounts ORDER BY id');
  return r.map((x) => `${x.id}=${x.balance}`);
}

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'debezium-partitions' });
  const scratch = await cluster.createDatabase('scratch');
  const c = new pg.Client(scratch);
  await c.connect();
  await c.query('CREATE TABLE public.accounts (id integer PRIMARY KEY, balance numeric(12,2) NOT NULL, note text)');
  table = (await describeTables(c, await listTables(c, [])))[0]!;
  await c.end();
});

afterAll(async () => {
  await cluster?.stop();
});

describe('Debezium events from a partitioned broker', () => {
  it('keeps positions per partition; a redelivery from older offsets and tombstones change nothing', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      const first: SourceMessage[] = [];
      for (let id = 1; id <= 6; id++) first.push(message(TOPIC, partitionOf(id), change('r', row(id, '10.00'))));
      first.push(message(TOPIC, partitionOf(2), change('u', row(2, '20.00'))));
      first.push(message(TOPIC, partitionOf(3), change('d', row(3, '10.00'))));
      first.push(message(TOPIC, partitionOf(3), null)); // the tombstone Kafka Connect writes after a delete
      const replay = [...first];
      const broker = new ScriptedBroker(first);
      const r1 = await pipeline(targetUrl, broker, [TOPIC]);
      expect(r1.messages).toBe(9);
      expect(await rows(target)).toEqual(['1=10.00', '2=20.00', '4=10.00', '5=10.00', '6=10.00']);
      const { rows: stored } = await target.query<{ source_partition: string; position: string; position_text: string }>(
        "SELECT source_partition, position::text, position_text FROM cdc_management.offsets WHERE pipeline = 'kafka_test' ORDER BY 1",
      );
      expect(stored).toEqual([
        { source_partition: `${TOPIC}/0`, position: '3', position_text: `${TOPIC}/0 offset 3` },
        { source_partition: `${TOPIC}/1`, position: '4', position_text: `${TOPIC}/1 offset 4` },
      ]);
      expect(broker.acks.at(-1)?.get(`${TOPIC}/1`)).toBe(4n);

      // The group's commits were lost: the broker delivers everything again, then new changes.
      const again = new ScriptedBroker([...replay, message(TOPIC, partitionOf(4), change('u', row(4, '40.00'))), message(TOPIC, partitionOf(5), change('u', row(5, '50.00')))]);
      const r2 = await pipeline(targetUrl, again, [TOPIC]);
      expect(r2.messages).toBe(2);
      expect(await rows(target)).toEqual(['1=10.00', '2=20.00', '4=40.00', '5=50.00', '6=10.00']);
      const { rows: changes } = await target.query<{ n: string }>("SELECT sum(changes)::text AS n FROM cdc_management.processing_log WHERE pipeline = 'kafka_test'");
      expect(changes[0]!.n).toBe('10'); // 6 reads, 2 updates, 1 delete, then 2 updates: nothing twice
    } finally {
      await target.end();
    }
  });

  it('with the transaction topic, a batch holds every event of a source transaction, in whatever order partitions deliver them', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      const script: SourceMessage[] = [];
      for (let id = 1; id <= 4; id++) script.push(message(TOPIC, partitionOf(id), change('r', row(id, '100.00'))));
      // Transaction 7:500 moves 30.00 from account 1 to account 2 and 4 (three events on two
      // partitions). Its END arrives first, on the transaction topic, then its events one by one.
      const tx = { id: '7:500', order: 0 };
      script.push(message(TX_TOPIC, 0, debeziumTransactionEvent('BEGIN', tx.id)));
      script.push(
        message(TX_TOPIC, 0, JSON.stringify({ status: 'END', id: tx.id, event_count: 4, data_collections: [{ data_collection: 'public.accounts', event_count: 3 }, { data_collection: 'public.other', event_count: 1 }], ts_ms: 1 })),
      );
      script.push(message(TOPIC, partitionOf(1), change('u', row(1, '70.00'), { ...tx, order: 1 })));
      script.push(message(TOPIC, partitionOf(2), change('u', row(2, '110.00'), { ...tx, order: 2 })));
      script.push(message(TOPIC, partitionOf(4), change('u', row(4, '120.00'), { ...tx, order: 3 })));
      script.push(message(TOPIC, partitionOf(3), change('u', row(3, '99.00'))));
      const broker = new ScriptedBroker(script);
      await pipeline(targetUrl, broker, [TOPIC, TX_TOPIC]);
      expect(await rows(target)).toEqual(['1=70.00', '2=110.00', '3=99.00', '4=120.00']);
      // Batches of one change, except the transaction: one acknowledgement covers BEGIN, END and
      // all three of its events (public.other is not consumed, so its event is not waited for).
      const txAck = broker.acks.find((a) => a.has(`${TX_TOPIC}/0`));
      expect(txAck).toEqual(
        new Map([
          [`${TX_TOPIC}/0`, 1n],
          [`${TOPIC}/1`, 2n],
          [`${TOPIC}/0`, 3n],
        ]),
      );
      expect(broker.acks.filter((a) => a.has(`${TX_TOPIC}/0`))).toHaveLength(1);
    } finally {
      await target.end();
    }
  });

  it('skips the copies a restarted connector sends again (older source position), during a run and after a restart', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      // Transactions committed at LSN 1000, 2000, 3000 update account 1 (Debezium's `sequence`
      // gives each change [last commit, lsn]); then the connector restarts from an older offset
      // and sends all three again, then a new fourth.
      const update = (balance: string, lastCommit: bigint, at: bigint) =>
        message(TOPIC, 1, debeziumEvent({ table, op: 'u', after: row(1, balance), lsn: at, txId: Number(at), tsMs: 1_700_000_000_000, lastCommitLsn: lastCommit }));
      const script = [
        message(TOPIC, 1, change('r', row(1, '0.00'))),
        update('10.00', 500n, 990n),
        update('20.00', 1000n, 1990n),
        update('30.00', 2000n, 2990n),
        update('10.00', 500n, 990n),
        update('20.00', 1000n, 1990n),
        update('30.00', 2000n, 2990n), // the same position and operation as the last one read: a copy too
        update('40.00', 3000n, 3990n),
      ];
      const broker = new ScriptedBroker(script);
      const metrics = new Metrics();
      const r = await pipeline(targetUrl, broker, [TOPIC], metrics);
      expect(r.replayed).toBe(3);
      expect((await metrics.registry.getSingleMetric('cdc_changes_replayed_total')!.get()).values[0]!.value).toBe(3);
      expect(await rows(target)).toEqual(['1=40.00']);
      // No batch merged a resent balance: r, 10, 20, 30, 40.
      const { rows: merged } = await target.query<{ n: string }>("SELECT sum(changes)::text AS n FROM cdc_management.processing_log WHERE pipeline = 'kafka_test'");
      expect(merged[0]!.n).toBe('5');
      const { rows: mark } = await target.query<{ source_partition: string; origin: string; position: string; position_text: string }>(
        "SELECT source_partition, origin, encode(position, 'hex') AS position, position_text FROM cdc_management.watermarks WHERE pipeline = 'kafka_test'",
      );
      // [3000, 3990] and the update read there (2) as row position bytes: 02 0bb8, 02 0f96, 01 02.
      expect(mark).toEqual([{ source_partition: `${TOPIC}/1`, origin: 'postgresql|chinook|chinook', position: '020bb8020f960102', position_text: 'lsn 0/F96 (last commit 0/BB8)' }]);

      // A restart, and the connector sends the last two again at new offsets: nothing moves back.
      const again = new ScriptedBroker([update('30.00', 2000n, 2990n), update('40.00', 3000n, 3990n)]);
      const r2 = await pipeline(targetUrl, again, [TOPIC]);
      expect(r2.replayed).toBe(2); // 30 is older than the stored watermark; 40 equals it, the same update
      expect(await rows(target)).toEqual(['1=40.00']);
    } finally {
      await target.end();
    }
  });

  it('adds a column when the event schema gains a field, before the rows that carry it (same batch)', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      const wider: TableSchema = { ...table, columns: [...table.columns, { name: 'email', type: 'text', nullable: true, toastable: true }] };
      const withEmail = (id: number, email: string) =>
        debeziumEvent({ table: wider, op: 'c', after: { ...row(id, '5.00'), email }, lsn: ++lsn, txId: 1, tsMs: 1_700_000_000_000 });
      const script = [
        message(TOPIC, 0, change('c', row(2, '1.00'))),
        message(TOPIC, 0, withEmail(4, 'four@example.com')),
        message(TOPIC, 1, change('c', row(1, '2.00'))), // an event written before the change, on another partition
        message(TOPIC, 1, withEmail(3, 'three@example.com')),
      ];
      const broker = new ScriptedBroker(script);
      await pipeline(targetUrl, broker, [TOPIC], undefined, 100);
      const { rows: r } = await target.query<{ id: number; email: string | null }>('SELECT id, email FROM public.accounts ORDER BY id');
      expect(r).toEqual([
        { id: 1, email: null },
        { id: 2, email: null },
        { id: 3, email: 'three@example.com' },
        { id: 4, email: 'four@example.com' },
      ]);
      expect(broker.acks).toHaveLength(1); // all four in one batch
    } finally {
      await target.end();
    }
  });

  it('dead-letters an undecodable message with its topic, partition and offset', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      const broker = new ScriptedBroker([message(TOPIC, 0, change('r', row(2, '1.00'))), message(TOPIC, 1, '{"payload": {"op": "u"'), message(TOPIC, 1, change('r', row(3, '2.00')))]);
      const metrics = new Metrics();
      const r = await pipeline(targetUrl, broker, [TOPIC], metrics);
      expect(r.deadLettered).toBe(1);
      expect((await metrics.registry.getSingleMetric('cdc_messages_dead_lettered_total')!.get()).values[0]!.value).toBe(1);
      const { rows: dead } = await target.query<{ topic: string; broker_position: string; error: string }>('SELECT topic, broker_position, error FROM cdc_management.dead_letter');
      expect(dead).toHaveLength(1);
      expect(dead[0]!.topic).toBe(TOPIC);
      expect(dead[0]!.broker_position).toBe(`${TOPIC}/1 offset 0`);
      expect(dead[0]!.error).toContain(`${TOPIC}`);
      expect(await rows(target)).toEqual(['2=1.00', '3=2.00']);
    } finally {
      await target.end();
    }
  });
});

describe('Debezium faults (issue 11)', () => {
  const notes: TableSchema = {
    id: { schema: 'public', name: 'notes' },
    columns: [
      { name: 'body', type: 'text', nullable: true, toastable: true },
      { name: 'n', type: 'integer', nullable: true, toastable: false },
    ],
    primaryKey: [],
  };
  const NOTES = 'dbz.public.notes';
  const noteEvent = (op: 'c' | 'u' | 'd', rows: { before?: TextRow; after?: TextRow }, at: bigint) =>
    debeziumEvent({ table: notes, op, ...rows, lsn: at, txId: Number(at), tsMs: 1_700_000_000_000, lastCommitLsn: at - 1n });
  const noteRows = async (client: pg.Client) =>
    (await client.query<{ body: string; n: number }>('SELECT body, n FROM public.notes ORDER BY body, n')).rows.map((r) => `${r.body}=${r.n}`);

  it('an update of a keyless table without "before" is dead-lettered; with the whole old row it replaces that row', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      const script = [
        message(NOTES, 0, noteEvent('c', { after: { body: 'a', n: '1' } }, 1000n)),
        message(NOTES, 0, noteEvent('c', { after: { body: 'b', n: '2' } }, 1010n)),
        // REPLICA IDENTITY DEFAULT on a keyless table: Debezium sends no "before".
        message(NOTES, 0, noteEvent('u', { after: { body: 'a', n: '10' } }, 1020n)),
        // REPLICA IDENTITY FULL: the whole old row.
        message(NOTES, 0, noteEvent('u', { before: { body: 'b', n: '2' }, after: { body: 'b', n: '20' } }, 1030n)),
        message(NOTES, 0, noteEvent('c', { after: { body: 'c', n: '3' } }, 1040n)),
      ];
      const r = await pipeline(targetUrl, new ScriptedBroker(script), [NOTES]);
      expect(r.deadLettered).toBe(1);
      const { rows: dead } = await target.query<{ broker_position: string; error: string }>('SELECT broker_position, error FROM cdc_management.dead_letter');
      expect(dead).toEqual([{ broker_position: `${NOTES}/0 offset 2`, error: expect.stringMatching(/public\.notes.*no primary key.*REPLICA IDENTITY FULL/) }]);
      expect(await noteRows(target)).toEqual(['a=1', 'b=20', 'c=3']);
    } finally {
      await target.end();
    }
  });

  it("a connector's re-sent last event does not duplicate a keyless row, in the same run or after a restart", async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      const a = () => noteEvent('c', { after: { body: 'a', n: '1' } }, 1000n);
      const b = () => noteEvent('c', { after: { body: 'b', n: '2' } }, 1010n);
      // The connector restarts after sending b and sends b again (same source position, new offset).
      const r1 = await pipeline(targetUrl, new ScriptedBroker([message(NOTES, 0, a()), message(NOTES, 0, b()), message(NOTES, 0, b())]), [NOTES]);
      expect(r1.replayed).toBe(1);
      expect(await noteRows(target)).toEqual(['a=1', 'b=2']);
      // cdc-merge restarts too; the connector sends b once more, then a new event.
      const r2 = await pipeline(targetUrl, new ScriptedBroker([message(NOTES, 0, b()), message(NOTES, 0, noteEvent('c', { after: { body: 'c', n: '3' } }, 1020n))]), [NOTES]);
      expect(r2.replayed).toBe(1);
      expect(await noteRows(target)).toEqual(['a=1', 'b=2', 'c=3']);
    } finally {
      await target.end();
    }
  });
});

describe('an older-shaped event from a lagging partition (issue 11)', () => {
  it('never narrows a type or drops a column: the event is read in the newer shape', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      // After a schema change on the source, balance is numeric(16,2) and there is a tag column.
      const wide: TableSchema = {
        ...table,
        columns: [...table.columns.map((c) => (c.name === 'balance' ? { ...c, type: 'numeric(16,2)' } : c)), { name: 'tag', type: 'text', nullable: true, toastable: true }],
      };
      const event = (shape: TableSchema, op: 'r' | 'u', after: TextRow, at: bigint) =>
        debeziumEvent({ table: shape, op, after, lsn: at, txId: Number(at), tsMs: 1_700_000_000_000, lastCommitLsn: at - 1n });
      const script = [
        message(TOPIC, 0, event(table, 'r', row(2, '10.00'), 2000n)),
        message(TOPIC, 1, event(table, 'r', row(3, '10.00'), 2000n)),
        message(TOPIC, 0, event(wide, 'u', { ...row(2, '12345678901234.00'), tag: 'x' }, 2100n)),
        // Committed on the source before the schema change, delivered late by its partition.
        message(TOPIC, 1, event(table, 'u', row(3, '30.00'), 2050n)),
      ];
      // Even with drop: apply, the old shape must not drop tag nor narrow balance.
      await pipeline(targetUrl, new ScriptedBroker(script), [TOPIC], new Metrics(), 1, { drop: 'apply', typeChange: 'apply' });
      const { rows: columns } = await target.query<{ column_name: string; type: string }>(
        "SELECT column_name, format_type(atttypid, atttypmod) AS type FROM information_schema.columns c JOIN pg_attribute a ON a.attrelid = 'public.accounts'::regclass AND a.attname = c.column_name WHERE table_schema = 'public' AND table_name = 'accounts' AND column_name IN ('balance', 'tag') ORDER BY 1",
      );
      expect(columns).toEqual([
        { column_name: 'balance', type: 'numeric(16,2)' },
        { column_name: 'tag', type: 'text' },
      ]);
      const { rows: values } = await target.query<{ id: number; balance: string; tag: string | null }>('SELECT id, balance::text, tag FROM public.accounts ORDER BY id');
      expect(values).toEqual([
        { id: 2, balance: '12345678901234.00', tag: 'x' },
        { id: 3, balance: '30.00', tag: null },
      ]);
      // After a restart, an old-shape event older than the highest stored watermark is read in the stored shape too.
      await pipeline(targetUrl, new ScriptedBroker([message(TOPIC, 1, event(table, 'u', row(3, '35.00'), 2080n))]), [TOPIC], new Metrics(), 1, { drop: 'apply', typeChange: 'apply' });
      const { rows: kept } = await target.query<{ type: string; tag: string | null; balance: string }>(
        "SELECT format_type(atttypid, atttypmod) AS type, (SELECT balance::text FROM public.accounts WHERE id = 3) AS balance FROM pg_attribute WHERE attrelid = 'public.accounts'::regclass AND attname = 'balance'",
      );
      expect(kept).toEqual([{ type: 'numeric(16,2)', balance: '35.00' }]);
      // A later event in the old shape (a real drop on the source, after everything merged) is applied under the policy.
      await pipeline(targetUrl, new ScriptedBroker([message(TOPIC, 1, event({ ...wide, columns: wide.columns.filter((c) => c.name !== 'tag') }, 'u', row(3, '40.00'), 2200n))]), [TOPIC], new Metrics(), 1, {
        drop: 'apply',
        typeChange: 'apply',
      });
      const { rows: after } = await target.query<{ n: string }>("SELECT count(*)::text AS n FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'accounts' AND column_name = 'tag'");
      expect(after[0]!.n).toBe('0');
    } finally {
      await target.end();
    }
  });
});

describe('keyed tombstones (issue 11)', () => {
  it('a keyed tombstone deletes its row (unwrap with delete.tombstone.handling.mode=tombstone), also first thing after a restart', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      const keyOf = (id: number) => encode(JSON.stringify({ schema: { type: 'struct', optional: false, fields: [{ type: 'int32', optional: false, field: 'id' }] }, payload: { id } }));
      const keyed = (m: SourceMessage, id: number): SourceMessage => ({ ...m, key: keyOf(id) });
      const insert = (id: number, balance: string, at: bigint) =>
        keyed(message(TOPIC, partitionOf(id), debeziumEvent({ table, op: 'c', after: row(id, balance), lsn: at, txId: Number(at), tsMs: 1_700_000_000_000, lastCommitLsn: at - 1n })), id);
      const tombstone = (id: number) => keyed(message(TOPIC, partitionOf(id), null), id);
      const first = [insert(1, '1.00', 3000n), insert(2, '2.00', 3010n), insert(3, '3.00', 3020n), insert(4, '4.00', 3030n), tombstone(3), tombstone(2), insert(2, '22.00', 3040n)];
      await pipeline(targetUrl, new ScriptedBroker(first), [TOPIC]);
      expect(await rows(target)).toEqual(['1=1.00', '2=22.00', '4=4.00']);
      // Restart: the first message of partition 0 is a tombstone (its position comes from the stored watermark).
      await pipeline(targetUrl, new ScriptedBroker([tombstone(4), insert(5, '5.00', 3050n), tombstone(1)]), [TOPIC]);
      expect(await rows(target)).toEqual(['2=22.00', '5=5.00']);
      // The tombstone Kafka Connect writes after a delete changes nothing more.
      const del = keyed(message(TOPIC, 1, debeziumEvent({ table, op: 'd', before: row(5, '5.00'), lsn: 3060n, txId: 3060, tsMs: 1_700_000_000_000, lastCommitLsn: 3059n })), 5);
      await pipeline(targetUrl, new ScriptedBroker([del, tombstone(5)]), [TOPIC]);
      expect(await rows(target)).toEqual(['2=22.00']);
    } finally {
      await target.end();
    }
  });
});

describe('Debezium transactions over renamed topics (issue 11)', () => {
  it('counts a transaction\'s events by the table in their source block, whatever topic a router put them on', async () => {
    offsets.clear();
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      // Debezium's topic routing SMT sends public.accounts to "ledger.all_accounts": no topic is
      // named <prefix>.<data collection> any more.
      const ROUTED = 'ledger.all_accounts';
      const script: SourceMessage[] = [];
      for (let id = 1; id <= 4; id++) script.push(message(ROUTED, partitionOf(id), change('r', row(id, '100.00'))));
      const tx = { id: '8:600', order: 0 };
      script.push(message(TX_TOPIC, 0, debeziumTransactionEvent('BEGIN', tx.id)));
      script.push(message(TX_TOPIC, 0, JSON.stringify({ status: 'END', id: tx.id, event_count: 3, data_collections: [{ data_collection: 'public.accounts', event_count: 3 }], ts_ms: 1 })));
      script.push(message(ROUTED, partitionOf(1), change('u', row(1, '70.00'), { ...tx, order: 1 })));
      script.push(message(ROUTED, partitionOf(2), change('u', row(2, '110.00'), { ...tx, order: 2 })));
      script.push(message(ROUTED, partitionOf(4), change('u', row(4, '120.00'), { ...tx, order: 3 })));
      script.push(message(ROUTED, partitionOf(3), change('u', row(3, '99.00'))));
      const broker = new ScriptedBroker(script);
      await pipeline(targetUrl, broker, [ROUTED, TX_TOPIC]);
      expect(await rows(target)).toEqual(['1=70.00', '2=110.00', '3=99.00', '4=120.00']);
      // One batch holds BEGIN, END and the three events of the transaction.
      const txAcks = broker.acks.filter((a) => a.has(`${TX_TOPIC}/0`));
      expect(txAcks).toEqual([
        new Map([
          [`${TX_TOPIC}/0`, 1n],
          [`${ROUTED}/1`, 2n],
          [`${ROUTED}/0`, 3n],
        ]),
      ]);
    } finally {
      await target.end();
    }
  });
});

describe('a topic whose partition count grows (issue 10)', () => {
  it('keeps updating and deleting a key that moves to a new partition with low offsets', async () => {
    offsets.clear();
    // Partition 0 has been written for a long time: its offsets are in the millions. After the
    // topic grows from 2 to 8 partitions, keys 1 and 2 hash to the new partitions 7 and 5, whose
    // offsets start at 0. Before positions came from the connector, a change at p7 offset 0 lost
    // to the row's stored p0 offset 5 000 000 and was silently ignored.
    offsets.set(`${TOPIC}/0`, 5_000_000n);
    const targetUrl = await cluster.createDatabase(`t${++run}`);
    const target = new pg.Client(targetUrl);
    await target.connect();
    try {
      let commit = 1000n;
      const event = (op: 'c' | 'u' | 'd', r: TextRow) => {
        const lastCommit = commit;
        commit += 100n;
        return debeziumEvent({ table, op, ...(op === 'd' ? { before: r } : { after: r }), lsn: commit, txId: Number(commit), tsMs: 1_700_000_000_000, lastCommitLsn: lastCommit });
      };
      const before = [
        message(TOPIC, 0, event('c', row(1, '10.00'))),
        message(TOPIC, 0, event('u', row(1, '11.00'))),
        message(TOPIC, 1, event('c', row(2, '20.00'))),
        message(TOPIC, 1, event('c', row(3, '30.00'))),
      ];
      await pipeline(targetUrl, new ScriptedBroker(before), [TOPIC]);
      expect(await rows(target)).toEqual(['1=11.00', '2=20.00', '3=30.00']);

      const after = [
        message(TOPIC, 7, event('u', row(1, '12.00'))),
        message(TOPIC, 5, event('u', row(2, '21.00'))),
        message(TOPIC, 7, event('u', row(1, '13.00'))),
        message(TOPIC, 7, event('d', row(1, '13.00'))),
        message(TOPIC, 1, event('u', row(3, '31.00'))),
      ];
      const broker = new ScriptedBroker(after);
      await pipeline(targetUrl, broker, [TOPIC]);
      expect(await rows(target)).toEqual(['2=21.00', '3=31.00']);
      // Each partition keeps its own checkpoint; none is compared with another's.
      const { rows: stored } = await target.query<{ source_partition: string; position: string }>(
        "SELECT source_partition, position::text FROM cdc_management.offsets WHERE pipeline = 'kafka_test' ORDER BY 1",
      );
      expect(stored).toEqual([
        { source_partition: `${TOPIC}/0`, position: '5000001' },
        { source_partition: `${TOPIC}/1`, position: '2' },
        { source_partition: `${TOPIC}/5`, position: '0' },
        { source_partition: `${TOPIC}/7`, position: '2' },
      ]);
      // A redelivery of the new partitions changes nothing.
      await pipeline(targetUrl, new ScriptedBroker(after), [TOPIC]);
      expect(await rows(target)).toEqual(['2=21.00', '3=31.00']);
    } finally {
      await target.end();
    }
  });
});
