/**
 * Upgrade in place, Debezium source over NATS JetStream: a target the PREVIOUS RELEASE's
 * `cdc run --config` fed from a stream (and whose Debezium watermarks it kept as `source:…` rows
 * of `cdc_management.offsets`) is taken over by the current `cdc run` with the same config.
 *
 * Events carry PostgreSQL connector positions with `sequence` (last commit LSN, LSN), so both
 * releases recognise a connector's resend: after the previous release has merged the first
 * events, the stream gets copies of them at new stream sequences (a connector restarting from an
 * older offset) and then new events. The current release must skip the copies (else a resent
 * insert would bring back a deleted row) and merge the new ones: the target ends as the model
 * of the events says, nothing lost, nothing duplicated.
 *
 * This file starts nats-server, so vitest runs it in the `nats` project (see vitest.config.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePosition } from '../src/events/position.js';
import type { TableSchema } from '../src/schema/table.js';
import { debeziumEvent, type TextRow } from '../src/testing/debezium-events.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startThrowawayNats, type ThrowawayNats } from '../src/testing/throwaway-nats.js';
import { CLI, runCli } from './support/cli.js';
import { previousReleaseCli } from './support/previous-release.js';

const PIPELINE = 'upgrade_dbz';
const STREAM = 'upg';

const item: TableSchema = {
  id: { schema: 'public', name: 'item' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'name', type: 'text', nullable: true, toastable: true },
    { name: 'qty', type: 'integer', nullable: true, toastable: false },
  ],
  primaryKey: ['id'],
};
const price: TableSchema = {
  id: { schema: 'public', name: 'price' },
  columns: [
    { name: 'sku', type: 'text', nullable: false, toastable: true },
    { name: 'amount', type: 'numeric(10,2)', nullable: true, toastable: false },
  ],
  primaryKey: ['sku'],
};
const TABLES = [item, price];

let cluster: ThrowawayCluster;
let nats: ThrowawayNats;
let nc: NatsConnection;
let target: pg.Client;
let root: string;
let config: string;
let oldCli: string;

/** Every event published so far, in stream order (stream sequence = index + 1). */
const published: string[] = [];
/** What the target must hold: per table, rows by key, as the events (not the resent copies) leave them. */
const model = new Map<string, Map<string, TextRow>>(TABLES.map((t) => [t.id.name, new Map()]));
/** The connector's log position: every new event moves it on; resent copies keep theirs. */
let lsn = 10_000n;

async function publish(subject: string, data: string): Promise<void> {
  await jetstream(nc).publish(subject, new TextEncoder().encode(data));
  published.push(data);
}

/** Publishes a new change (its own source transaction, past every earlier one) and applies it to the model. */
async function change(table: TableSchema, op: 'c' | 'u' | 'd', row: TextRow): Promise<void> {
  const lastCommitLsn = lsn;
  lsn += 16n;
  const event = debeziumEvent({ table, op, ...(op === 'd' ? { before: row } : { after: row }), lsn, lastCommitLsn, txId: Number(lsn), tsMs: 1_700_000_000_000 + Number(lsn) });
  await publish(`${STREAM}.public.${table.id.name}`, event);
  const rows = model.get(table.id.name)!;
  const key = table.primaryKey.map((k) => row[k]).join('|');
  if (op === 'd') rows.delete(key);
  else rows.set(key, row);
}

/** A connector resend: the events at stream positions `from` to `to` (1-based, inclusive) again, at new stream sequences. */
async function resend(from: number, to: number): Promise<number> {
  const copies = published.slice(from - 1, to);
  for (const data of copies) {
    const table = JSON.parse(data) as { payload: { source: { table: string } } };
    await publish(`${STREAM}.public.${table.payload.source.table}`, data);
  }
  return copies.length;
}

/** The target's rows of `table`, as text, in key order. */
async function targetRows(table: TableSchema): Promise<TextRow[]> {
  const columns = table.columns.map((c) => `t."${c.name}"::text AS "${c.name}"`).join(', ');
  // Ordered by the typed key (t.…), not by the text output columns of the same name.
  const { rows } = await target.query<TextRow>(`SELECT ${columns} FROM public.${table.id.name} AS t ORDER BY ${table.primaryKey.map((k) => `t."${k}"`).join(', ')}`);
  return rows;
}

/** The model's rows of `table`, in key order (keys compared as the target orders them). */
function modelRows(table: TableSchema): TextRow[] {
  const rows = [...model.get(table.id.name)!.values()];
  const [key] = table.primaryKey as [string];
  const numeric = table.columns.find((c) => c.name === key)!.type === 'integer';
  return rows.sort((a, b) => (numeric ? Number(a[key]) - Number(b[key]) : a[key]! < b[key]! ? -1 : a[key]! > b[key]! ? 1 : 0));
}

async function expectTargetAsModel(): Promise<void> {
  for (const table of TABLES) expect(await targetRows(table), table.id.name).toEqual(modelRows(table));
  const dead = await target.query<{ n: number }>('SELECT count(*)::int AS n FROM cdc_management.dead_letter');
  expect(dead.rows[0]!.n).toBe(0);
}

/** The broker position merged (the JetStream stream's '' partition): its stream sequence. */
async function mergedSequence(): Promise<bigint> {
  const { rows } = await target.query<{ p: string }>("SELECT position::text AS p FROM cdc_management.offsets WHERE pipeline = $1 AND source_partition = ''", [PIPELINE]);
  expect(rows, 'one broker position for the stream').toHaveLength(1);
  return BigInt(rows[0]!.p);
}

/** Offsets rows holding a Debezium watermark the way the previous release stored them. */
async function legacyWatermarkRows(): Promise<{ source_partition: string; position_text: string }[]> {
  const { rows } = await target.query<{ source_partition: string; position_text: string }>(
    "SELECT source_partition, position_text FROM cdc_management.offsets WHERE pipeline = $1 AND source_partition LIKE 'source:%'",
    [PIPELINE],
  );
  return rows;
}

/** `_cdc_synced_at` of every target row of `table`, by key. */
async function syncedAt(table: TableSchema): Promise<Map<string, string>> {
  const { rows } = await target.query<{ k: string; at: string }>(`SELECT ${table.primaryKey[0]}::text AS k, _cdc_synced_at::text AS at FROM public.${table.id.name}`);
  return new Map(rows.map((r) => [r.k, r.at]));
}

/** The id of the pipeline's last processing_log row (0 when none). */
async function lastLoggedBatch(): Promise<string> {
  const { rows } = await target.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM cdc_management.processing_log WHERE pipeline = $1', [PIPELINE]);
  return rows[0]!.id;
}

/** Row changes the pipeline merged in the batches logged after batch `id`. */
async function changesMergedSince(id: string): Promise<number> {
  const { rows } = await target.query<{ n: string }>('SELECT coalesce(sum(changes), 0)::text AS n FROM cdc_management.processing_log WHERE pipeline = $1 AND id > $2', [PIPELINE, id]);
  return Number(rows[0]!.n);
}

async function runUntilCaughtUp(cli: string): Promise<string> {
  const r = await runCli(['run', '--config', config, '--until-caught-up'], {}, cli);
  expect(r.code, `${cli === CLI ? 'current' : 'previous'} release:\n${r.stderr}`).toBe(0);
  return r.stderr;
}

beforeAll(async () => {
  oldCli = await previousReleaseCli();
  cluster = await startThrowawayCluster({ label: 'upgrade-dbz' });
  nats = await startThrowawayNats({ label: 'upgrade-dbz' });
  const targetUrl = await cluster.createDatabase('warehouse');
  target = new pg.Client(targetUrl);
  await target.connect();
  nc = await connect({ servers: nats.url });
  await (await jetstreamManager(nc)).streams.add({ name: STREAM, subjects: [`${STREAM}.>`] });
  root = mkdtempSync(join(tmpdir(), 'cdc-upgrade-dbz-'));
  config = join(root, 'cdc.yaml');
  // The older form of the config (a `debezium:` section): the previous release reads only this.
  const keys = TABLES.map((t) => `    public.${t.id.name}: [${t.primaryKey.join(', ')}]`).join('\n');
  writeFileSync(config, `name: ${PIPELINE}\ntarget: { url: "${targetUrl}" }\nbatch: { max_changes: 20 }\ndebezium:\n  nats: { url: "${nats.url}", stream: ${STREAM} }\n  keys:\n${keys}\n`);
}, 300_000);

afterAll(async () => {
  await nc?.close();
  await target?.end();
  await nats?.stop();
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('upgrade in place from the previous release (Debezium over NATS JetStream)', () => {
  it('the current cdc run takes over the stream and skips a connector resend the previous release had merged', async () => {
    // 1. The previous release merges inserts, updates and deletes.
    for (let id = 1; id <= 30; id++) await change(item, 'c', { id: String(id), name: `item ${id}`, qty: String(id) });
    for (const sku of ['a', 'b', 'c', 'd', 'e', 'f']) await change(price, 'c', { sku, amount: '1.50' });
    const resendFrom = published.length + 1;
    for (let id = 3; id <= 30; id += 3) await change(item, 'u', { id: String(id), name: `item ${id} v2`, qty: String(id * 10) });
    for (const id of [4, 5, 6]) await change(item, 'd', { id: String(id), name: `item ${id}`, qty: String(id) });
    await change(price, 'u', { sku: 'a', amount: '2.25' });
    await change(price, 'd', { sku: 'b', amount: '1.50' });
    await change(item, 'c', { id: '31', name: 'late', qty: '1' });
    await change(item, 'd', { id: '31', name: 'late', qty: '1' });
    const resendTo = published.length;
    await runUntilCaughtUp(oldCli);
    await expectTargetAsModel();
    expect(await mergedSequence()).toBe(BigInt(published.length));
    // The previous release keeps its watermark in offsets: the row the current release must take over.
    expect(await legacyWatermarkRows()).toEqual([expect.objectContaining({ source_partition: expect.stringMatching(/^source:.*\|postgresql\|/) })]);
    const beforeUpgrade = new Map(await Promise.all(TABLES.map(async (t) => [t.id.name, await syncedAt(t)] as const)));
    // Here the rows carry the previous release's (_cdc_lsn, _cdc_ordinal): a stream sequence, not
    // comparable with the connector positions the current release orders by, so the upgrade
    // gives them the empty position (every change read afterwards is newer and wins).

    // 2. While no pipeline runs: the connector restarts from an old offset and resends, in
    // order, everything it had sent (older source positions, new stream sequences; among them
    // the inserts of rows deleted since), then sends new changes.
    const copies = await resend(1, resendTo);
    await change(item, 'u', { id: '9', name: 'item 9 v3', qty: '900' });
    await change(item, 'c', { id: '4', name: 'item 4 again', qty: '44' });
    await change(item, 'd', { id: '10', name: 'item 10', qty: '10' });
    await change(item, 'c', { id: '32', name: 'new', qty: '32' });
    await change(price, 'u', { sku: 'c', amount: '3.75' });
    const newEvents = 5;
    const sequenceBefore = await mergedSequence();

    // 3. The current release, same config.
    let logged = await lastLoggedBatch();
    await runUntilCaughtUp(CLI);
    await expectTargetAsModel();
    expect(await mergedSequence()).toBe(BigInt(published.length));
    expect(published.length).toBe(Number(sequenceBefore) + copies + newEvents);
    // Only the new events were merged; the copies were recognised before staging, all but the
    // copy of the last merged event: it is at the watermark itself, and an equal position is
    // not taken for a copy (re-applying it is harmless; see source-watermarks.ts).
    expect(await changesMergedSince(logged), 'changes merged (more: the resend was merged again, watermarks lost?)').toBe(newEvents + 1);
    // Rows that only copies touched were not written again.
    const untouched: Record<string, string[]> = { item: ['1', '2', '3', '30'], price: ['a', 'd'] };
    for (const t of TABLES) {
      const now = await syncedAt(t);
      for (const key of untouched[t.id.name]!) expect(now.get(key), `${t.id.name} ${key}`).toBe(beforeUpgrade.get(t.id.name)!.get(key));
    }
    // The watermark moved out of offsets and goes on from where the previous release left it.
    expect(await legacyWatermarkRows()).toEqual([]);
    const { rows: marks } = await target.query<{ origin: string }>('SELECT origin FROM cdc_management.watermarks WHERE pipeline = $1', [PIPELINE]);
    expect(marks).toEqual([{ origin: expect.stringMatching(/^postgresql\|/) }]);
    // Rows 1 and 2, last written by the previous release, hold the empty position; rows 9 and 4,
    // written by the current one, hold [last commit LSN, LSN, stream sequence, staged ordinal].
    const { rows: positions } = await target.query<{ id: string; position: Buffer }>("SELECT id::text, _cdc_position AS position FROM public.item WHERE id IN (1, 2, 4, 9) ORDER BY id");
    const parts = new Map(positions.map((r) => [r.id, decodePosition(new Uint8Array(r.position))]));
    expect(parts.get('1')).toEqual([]);
    expect(parts.get('2')).toEqual([]);
    for (const id of ['4', '9']) {
      const [lastCommit, lsn, sequence, ordinal] = parts.get(id)!;
      expect(parts.get(id), `item ${id}`).toHaveLength(4);
      expect(lsn!, `item ${id}`).toBeGreaterThan(lastCommit!);
      expect(sequence!, `item ${id}`).toBeGreaterThan(sequenceBefore);
      expect(sequence!, `item ${id}`).toBeLessThanOrEqual(BigInt(published.length));
      expect(ordinal, `item ${id}`).toBe(1n); // insert or update: staged at 2·0+1
    }
    expect(parts.get('4')![2]).toBeGreaterThan(parts.get('9')![2]!); // item 4 came after item 9

    // 4. The current release goes on: another resend (this time of events it merged itself) and new changes.
    const lastMerged = published.length;
    const againCopies = await resend(resendFrom, lastMerged);
    await change(item, 'u', { id: '32', name: 'newer', qty: '33' });
    await change(item, 'c', { id: '5', name: 'item 5 again', qty: '55' });
    logged = await lastLoggedBatch();
    await runUntilCaughtUp(CLI);
    await expectTargetAsModel();
    expect(againCopies).toBeGreaterThan(0);
    expect(await mergedSequence()).toBe(BigInt(published.length));
    // This time the copy of the last merged event is recognised too: the current release's
    // watermark remembers the operation read at its position (issue 11; source-watermarks.ts).
    expect(await changesMergedSince(logged), 'changes merged after the upgrade').toBe(2);
  });
});
