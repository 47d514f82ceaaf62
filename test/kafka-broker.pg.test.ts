/**
 * `cdc run` with `debezium.kafka` against a real Kafka broker (a throwaway Kafka 4.3, one per file,
 * src/testing/throwaway-kafka.ts) into a real PostgreSQL, the built CLI as a child process:
 * - the start checks of issue 11 on offsets the broker really reports: records deleted before
 *   they were merged (BROKER_RETENTION_GAP), a group whose offsets were moved past the target
 *   (KAFKA_GROUP_AHEAD), a topic deleted and created again (BROKER_TARGET_AHEAD); each time the
 *   target stays as it was, and after the remedy the run resumes exactly where it left off;
 * - a broker killed (`kill -9`) and started again on the same port and log directory under a
 *   running `cdc run` while events keep coming: the run retries, reconnects, and the target ends
 *   with exactly the last change of every key (DESIGN.md §3.12, docs/faults.md).
 * Events are Debezium JSON with the embedded schema (src/testing/debezium-events.ts), keyed by
 * the row's primary key and sent to partition `id % partitions` as Kafka Connect would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../src/schema/table.js';
import { debeziumEvent, debeziumKey, type TextRow } from '../src/testing/debezium-events.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startThrowawayKafka, type ThrowawayKafka } from '../src/testing/throwaway-kafka.js';
import { startCli, type CliRun } from './support/cli.js';

const accounts: TableSchema = {
  id: { schema: 'public', name: 'accounts' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'amount', type: 'integer', nullable: true, toastable: false },
  ],
  primaryKey: ['id'],
};

let cluster: ThrowawayCluster;
let kafka: ThrowawayKafka;
let admin: Admin;
let producer: Producer<string, string, string, string>;
let root: string;
let live: CliRun | undefined;

beforeAll(async () => {
  [cluster, kafka] = await Promise.all([startThrowawayCluster({ label: 'kafka-broker' }), startThrowawayKafka({ label: 'kafka-broker' })]);
  admin = new Admin({ clientId: 'kafka-broker test', bootstrapBrokers: [kafka.bootstrap] });
  producer = new Producer({ clientId: 'kafka-broker test', bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
  root = mkdtempSync(join(tmpdir(), 'cdc-kafka-broker-'));
}, 120_000);

afterAll(async () => {
  if (live && live.child.exitCode === null && live.child.signalCode === null) live.child.kill('SIGKILL');
  await producer?.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  await kafka?.stop();
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

let lsn = 1000n;
/** One Debezium change of `accounts` (row `id` with `amount`; a delete carries the old row). */
function change(op: 'c' | 'u' | 'd', id: number, amount: number) {
  lsn += 8n;
  const row: TextRow = { id: String(id), amount: String(amount) };
  return { key: debeziumKey(accounts, row), value: debeziumEvent({ table: accounts, op, ...(op === 'd' ? { before: row } : { after: row }), lsn, txId: Number(lsn), tsMs: 1_700_000_000_000 }) };
}

/** Sends `events` to `topic`, each to partition `id % partitions`, in order. */
async function send(topic: string, partitions: number, events: { id: number; op: 'c' | 'u' | 'd'; amount: number }[]): Promise<void> {
  await producer.send({ messages: events.map((e) => ({ topic, partition: e.id % partitions, ...change(e.op, e.id, e.amount) })) });
}

/**
 * A fresh target database and a cdc.yaml reading `topic` from the broker into it as pipeline
 * `name`. The group session timeout is the broker's smallest (6 s, not 30 s): a run that lost the
 * broker could not leave the group, and its next consumer waits for the old member's session.
 */
async function setup(name: string, topic: string) {
  const targetUrl = await cluster.createDatabase(name);
  const config = join(root, `${name}.yaml`);
  writeFileSync(config, `name: ${name}\ntarget: { url: "${targetUrl}" }\ndebezium:\n  kafka:\n    brokers: ["${kafka.bootstrap}"]\n    topics: [${topic}]\n    session_timeout_ms: 6000\n`);
  const target = new pg.Client(targetUrl);
  await target.connect();
  const rows = async () => (await target.query<{ id: number; amount: number }>('SELECT id, amount FROM public.accounts ORDER BY id')).rows.map((r) => `${r.id}=${r.amount}`);
  const merged = async () =>
    Object.fromEntries((await target.query<{ p: string; o: string }>('SELECT source_partition AS p, position::text AS o FROM cdc_management.offsets WHERE pipeline = $1 ORDER BY 1', [name])).rows.map((r) => [r.p, r.o]));
  return { config, target, rows, merged };
}

/** The group's committed offsets, `topic/partition` → offset. */
async function committed(group: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const g of await admin.listConsumerGroupOffsets({ groups: [group] })) for (const t of g.topics) for (const p of t.partitions) if (p.committedOffset >= 0n) out[`${t.name}/${p.partitionIndex}`] = String(p.committedOffset);
  return out;
}

/** `cdc run --until-caught-up`; killed, and its output thrown, when it runs past `timeoutMs`. */
async function catchUp(config: string, timeoutMs = 45_000): Promise<{ code: number | null; stderr: string }> {
  const run = startCli(['run', '--config', config, '--until-caught-up']);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  if (run.child.signalCode === 'SIGKILL') throw new Error(`cdc run --until-caught-up did not finish in ${timeoutMs} ms:\n${run.stderr()}`);
  return { code, stderr: run.stderr() };
}

describe('Kafka start checks on a real broker (issue 11)', () => {
  it('stops with BROKER_RETENTION_GAP when deleted records passed the target, names the offsets, and resumes after the remedy', async () => {
    const topic = 'gap.public.accounts';
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    const { config, target, rows, merged } = await setup('gap_test', topic);
    try {
      await send(topic, 2, [1, 2, 3, 4].map((id) => ({ id, op: 'c', amount: 10 })));
      const first = await catchUp(config);
      expect(first.code, first.stderr).toBe(0);
      expect(await rows()).toEqual(['1=10', '2=10', '3=10', '4=10']);
      expect(await merged()).toEqual({ [`${topic}/0`]: '1', [`${topic}/1`]: '1' });
      expect(await committed('gap_test')).toEqual({ [`${topic}/0`]: '2', [`${topic}/1`]: '2' });

      // While cdc-merge is stopped: offsets 2, 3, 4 of partition 0, then 2 and 3 are deleted
      // (kafka-delete-records, or retention) before they were merged.
      await send(topic, 2, [
        { id: 2, op: 'u', amount: 20 },
        { id: 4, op: 'u', amount: 40 },
        { id: 2, op: 'u', amount: 21 },
      ]);
      await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 4n }] }] });
      const gap = await catchUp(config);
      expect(gap.code, gap.stderr).toBe(2);
      expect(gap.stderr).toContain('BROKER_RETENTION_GAP');
      expect(gap.stderr).toContain(`${topic}/0: the target merged up to offset 1, the log starts at 4 (offsets 2 to 3 are gone)`);
      expect(gap.stderr).not.toContain(`${topic}/1:`);
      expect(await rows()).toEqual(['1=10', '2=10', '3=10', '4=10']);

      // Accepting the gap knowingly, as the remedy says, resumes at the log start.
      const accept = /UPDATE cdc_management\.offsets SET position = 3 WHERE pipeline = 'gap_test' AND source_partition = '[^']+'/.exec(gap.stderr)?.[0];
      expect(accept, gap.stderr).toBeDefined();
      await target.query(accept!);
      const resumed = await catchUp(config);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await rows()).toEqual(['1=10', '2=21', '3=10', '4=10']);
      expect(await merged()).toEqual({ [`${topic}/0`]: '4', [`${topic}/1`]: '1' });
    } finally {
      await target.end();
    }
  });

  it('stops with KAFKA_GROUP_AHEAD when the group was moved past the target, and resumes exactly after the offset reset', async () => {
    const topic = 'ahead.public.accounts';
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    const { config, target, rows, merged } = await setup('ahead_test', topic);
    try {
      await send(topic, 2, [1, 2, 3, 4].map((id) => ({ id, op: 'c', amount: 10 })));
      const first = await catchUp(config);
      expect(first.code, first.stderr).toBe(0);
      expect(await rows()).toEqual(['1=10', '2=10', '3=10', '4=10']);

      // Two more changes on partition 1 (offsets 2, 3); then the group is moved past both, as when
      // the target is restored from an older backup or another pipeline shares the group id.
      await send(topic, 2, [
        { id: 1, op: 'u', amount: 11 },
        { id: 3, op: 'd', amount: 10 },
      ]);
      await admin.alterConsumerGroupOffsets({ groupId: 'ahead_test', topics: [{ name: topic, partitionOffsets: [{ partition: 1, offset: 4n }] }] });
      const ahead = await catchUp(config);
      expect(ahead.code, ahead.stderr).toBe(2);
      expect(ahead.stderr).toContain('KAFKA_GROUP_AHEAD');
      expect(ahead.stderr).toContain(`${topic}/1: the group committed offset 4, the target merged up to 1`);
      expect(ahead.stderr).toContain(`--group ahead_test --reset-offsets --topic ${topic}:1 --to-offset 2 --execute`);
      expect(await rows()).toEqual(['1=10', '2=10', '3=10', '4=10']);

      // The remedy's reset (here through the admin API), and the run merges the two changes once.
      await admin.alterConsumerGroupOffsets({ groupId: 'ahead_test', topics: [{ name: topic, partitionOffsets: [{ partition: 1, offset: 2n }] }] });
      const resumed = await catchUp(config);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await rows()).toEqual(['1=11', '2=10', '4=10']);
      expect(await merged()).toEqual({ [`${topic}/0`]: '1', [`${topic}/1`]: '3' });
      expect(await committed('ahead_test')).toEqual({ [`${topic}/0`]: '2', [`${topic}/1`]: '4' });
    } finally {
      await target.end();
    }
  });

  it('stops with BROKER_TARGET_AHEAD when the topic was deleted and created again', async () => {
    const topic = 'again.public.accounts';
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    const { config, target, rows } = await setup('again_test', topic);
    try {
      await send(topic, 1, [1, 2, 3].map((id) => ({ id, op: 'c', amount: 10 })));
      const first = await catchUp(config);
      expect(first.code, first.stderr).toBe(0);
      await admin.deleteTopics({ topics: [topic] });
      await until('the topic is gone', async () => !(await admin.listTopics()).includes(topic), 30_000);
      await until('the topic is created again', async () => ((await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })).length === 1), 30_000);
      await send(topic, 1, [{ id: 9, op: 'c', amount: 90 }]);
      const again = await catchUp(config);
      expect(again.code, again.stderr).toBe(2);
      expect(again.stderr).toContain('BROKER_TARGET_AHEAD');
      expect(again.stderr).toContain(`${topic}/0 merged up to offset 2, but its log ends at 1`);
      expect(await rows()).toEqual(['1=10', '2=10', '3=10']);
    } finally {
      await target.end();
    }
  });
});

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n${live?.stderr() ?? ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a broker restart under cdc run (DESIGN.md §3.12)', () => {
  it('survives kill -9 of the broker mid-stream and ends with every key at its last change, nothing lost or doubled', async () => {
    const topic = 'live.public.accounts';
    const partitions = 3;
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    const { config, target, rows } = await setup('live_test', topic);
    // Producer: inserts, updates and deletes over 150 keys; an event is sent again until the
    // broker takes it (Kafka Connect's producer retries too; a copy changes nothing).
    const expected = new Map<number, number | null>();
    let sent = 0;
    let stop = false;
    const publisher = (async () => {
      for (let n = 0; !stop; n++) {
        const id = 1 + ((n * 7919) % 150);
        const before = expected.get(id);
        const op = before === undefined || before === null ? 'c' : n % 5 === 0 ? 'd' : 'u';
        const event = { topic, partition: id % partitions, ...change(op, id, n) };
        for (;;) {
          try {
            await producer.send({ messages: [event] });
            break;
          } catch {
            if (stop) return;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        expected.set(id, op === 'd' ? null : n);
        sent++;
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    const batches = async () => Number((await target.query<{ n: number }>("SELECT count(*)::int AS n FROM cdc_management.processing_log WHERE pipeline = 'live_test'")).rows[0]!.n);
    try {
      live = startCli(['run', '--config', config]);
      await until('batches are merging', async () => (await batches()) > 3);

      // A short outage: the client's own retries ride it out (or the run retries; either is fine).
      await kafka.restart();
      let merged = await batches();
      let sentBefore = sent;
      await until('the producer sends again', () => Promise.resolve(sent > sentBefore + 100));
      await until('batches merge after the restart', async () => (await batches()) > merged + 3);

      // A long one: the broker stays down until the client gives up and the run's attempt ends
      // with a retryable CONNECTION_FAILED; it is retried (with backoff) until the broker is back,
      // and the new attempt checks the broker's offsets again and resumes after the target's.
      const failuresBefore = live.stderr().split('"msg":"retryable failure"').length;
      await kafka.kill();
      await until('the run gives the attempt up', () => Promise.resolve(live!.stderr().split('"msg":"retryable failure"').length > failuresBefore), 60_000);
      expect(live.stderr()).toMatch(/"code":"CONNECTION_FAILED"[^\n]*"msg":"retryable failure"/);
      sentBefore = sent;
      await kafka.start();
      merged = await batches();
      await until('the producer sends again', () => Promise.resolve(sent > sentBefore + 100));
      // The new member may wait for the old one's session (session_timeout_ms) to end before it is assigned the partitions.
      await until('batches merge after the restart', async () => (await batches()) > merged + 3);
      expect(live.child.exitCode, live.stderr()).toBe(null);

      stop = true;
      await publisher;
      const want = [...expected]
        .filter(([, v]) => v !== null)
        .sort(([a], [b]) => a - b)
        .map(([id, amount]) => `${id}=${amount}`);
      await until('the target holds the last change of every key', async () => JSON.stringify(await rows()) === JSON.stringify(want));
      expect(await rows()).toEqual(want);
      expect(live.child.exitCode, live.stderr()).toBe(null);
      live.child.kill('SIGTERM');
      expect(await live.exited, live.stderr()).toBe(0);
    } finally {
      stop = true;
      await publisher;
      await target.end();
    }
    // About 50 s alone on 2 CPUs: two broker restarts, one outage until the client gives up.
  }, 240_000);
});
