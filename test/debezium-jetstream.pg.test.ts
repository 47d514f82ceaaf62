/**
 * Debezium events over a real NATS JetStream into the PostgreSQL sink, through the real `cdc`
 * binary (issue #5): a Debezium-format stream of a Chinook workload (snapshot reads, then inserts,
 * updates and deletes, each applied to a source database too) lands in target tables equal to
 * the source; `kill -9` mid-stream and a restart lose nothing and duplicate nothing; a malformed
 * event is dead-lettered with a message naming subject, position and field.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadChinook } from '../src/demo/chinook.js';
import type { TableSchema } from '../src/schema/table.js';
import { describeTables, listTables } from '../src/sources/postgres/catalog.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startThrowawayNats, type ThrowawayNats } from '../src/testing/throwaway-nats.js';
import { compareTables } from '../src/verify/compare.js';
import { runCli, startCli } from './support/cli.js';
import { deltaRows, replayChangeFeed, sourceRows } from '../src/testing/delta-compare.js';
import { readDeltaTable } from '../src/testing/python-oracles.js';
import { debeziumEvent, debeziumTransactionEvent, type TextRow } from '../src/testing/debezium-events.js';

const TABLES = ['genre', 'media_type', 'artist', 'album', 'track', 'invoice', 'invoice_line'];

let cluster: ThrowawayCluster;
let nats: ThrowawayNats;
let nc: NatsConnection;
let source: pg.Client;
let target: pg.Client;
let targetUrl: string;
let root: string;
let config: string;
let tables: TableSchema[];
let lsn = 1000n;
let published = 0;

const textTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

async function publish(subject: string, data: string): Promise<void> {
  await jetstream(nc).publish(subject, new TextEncoder().encode(data));
  published++;
}

async function emit(table: TableSchema, op: 'r' | 'c' | 'u' | 'd', rows: { before?: TextRow; after?: TextRow }): Promise<void> {
  lsn += 8n;
  await publish(`chinook.public.${table.id.name}`, debeziumEvent({ table, op, ...rows, lsn, txId: Number(lsn), tsMs: 1_700_000_000_000 + Number(lsn) }));
}

const tableOf = (name: string) => tables.find((t) => t.id.name === name)!;

/** Runs `sql` on the source and emits the Debezium events of the rows it returns (RETURNING *). */
async function change(name: string, op: 'c' | 'u' | 'd', sql: string): Promise<void> {
  const table = tableOf(name);
  const key = table.primaryKey;
  const before = op === 'c' ? [] : (await source.query({ text: `SELECT * FROM public.${name} WHERE ${sql.split(' WHERE ')[1]!.replace(' RETURNING *', '')}`, types: textTypes })).rows as TextRow[];
  const { rows } = await source.query({ text: sql, types: textTypes });
  for (const after of rows as TextRow[]) {
    const old = before.find((b) => key.every((k) => b[k] === after[k]));
    await emit(table, op, op === 'd' ? { before: after } : op === 'u' ? { ...(old ? { before: old } : {}), after } : { after });
  }
}

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'debezium' });
  nats = await startThrowawayNats({ label: 'debezium' });
  await cluster.createDatabase('chinook');
  await loadChinook(cluster, 'chinook');
  targetUrl = await cluster.createDatabase('warehouse');
  source = new pg.Client(cluster.url('chinook'));
  await source.connect();
  target = new pg.Client(targetUrl);
  await target.connect();
  const all = await describeTables(source, await listTables(source, []));
  tables = TABLES.map((n) => all.find((t) => t.id.name === n)!);
  nc = await connect({ servers: nats.url });
  await (await jetstreamManager(nc)).streams.add({ name: 'chinook', subjects: ['chinook.>'] });
  root = mkdtempSync(join(tmpdir(), 'cdc-debezium-'));
  config = join(root, 'cdc.yaml');
  const keys = tables.map((t) => `    public.${t.id.name}: [${t.primaryKey.join(', ')}]`).join('\n');
  writeFileSync(
    config,
    `name: chinook_dbz\ntarget: { url: "${targetUrl}" }\nbatch: { max_changes: 500 }\ndebezium:\n  nats: { url: "${nats.url}", stream: chinook }\n  keys:\n${keys}\n`,
  );
}, 180_000);
afterAll(async () => {
  await nc?.close();
  await source?.end();
  await target?.end();
  await nats?.stop();
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('Debezium over NATS JetStream', () => {
  it('a Chinook snapshot and workload land equal to the source; kill -9 mid-stream loses and duplicates nothing', async () => {
    // Snapshot: every row as an 'r' event.
    for (const table of tables) {
      const { rows } = await source.query({ text: `SELECT * FROM public.${table.id.name} ORDER BY ${table.primaryKey.join(', ')}`, types: textTypes });
      for (const after of rows as TextRow[]) await emit(table, 'r', { after });
    }
    // Workload: the same changes on the source database and as events.
    await change('track', 'u', `UPDATE public.track SET unit_price = unit_price + 0.10 WHERE track_id % 7 = 0 RETURNING *`);
    await change('track', 'u', `UPDATE public.track SET composer = NULL WHERE track_id % 11 = 0 RETURNING *`);
    await change('invoice_line', 'd', `DELETE FROM public.invoice_line WHERE invoice_line_id % 13 = 0 RETURNING *`);
    await change('invoice', 'c', `INSERT INTO public.invoice SELECT invoice_id + 1000, customer_id, invoice_date + interval '1 day', billing_address, billing_city, billing_state, billing_country, billing_postal_code, total FROM public.invoice WHERE invoice_id <= 50 RETURNING *`);
    await change('invoice_line', 'c', `INSERT INTO public.invoice_line SELECT invoice_line_id + 10000, invoice_id + 1000, track_id, unit_price, quantity FROM public.invoice_line WHERE invoice_id <= 50 RETURNING *`);
    await change('artist', 'u', `UPDATE public.artist SET name = name || ' (remastered)' WHERE artist_id % 5 = 0 RETURNING *`);
    await change('genre', 'c', `INSERT INTO public.genre VALUES (26, 'Polka') RETURNING *`);
    await change('genre', 'd', `DELETE FROM public.genre WHERE genre_id = 26 RETURNING *`);
    expect(published).toBeGreaterThan(5_000);

    // First run: killed once some batches are merged.
    const first = startCli(['run', '--config', config]);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await target.query<{ p: string | null }>("SELECT max(position)::text AS p FROM cdc_management.offsets WHERE pipeline = 'chinook_dbz'").catch(() => ({ rows: [{ p: null }] }));
      if (rows[0]?.p && BigInt(rows[0].p) > 0n) break;
      if (Date.now() > deadline) throw new Error(`no progress; stderr:\n${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const [{ p: atKill }] = (await target.query<{ p: string }>("SELECT position::text AS p FROM cdc_management.offsets WHERE pipeline = 'chinook_dbz'")).rows as [{ p: string }];
    expect(BigInt(atKill)).toBeLessThan(BigInt(published));

    const second = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(second.code, second.stderr).toBe(0);
    const [{ p: end }] = (await target.query<{ p: string }>("SELECT position::text AS p FROM cdc_management.offsets WHERE pipeline = 'chinook_dbz'")).rows as [{ p: string }];
    expect(BigInt(end)).toBe(BigInt(published));
    const targetTables = tables.map((t) => ({ ...t, id: { schema: 'public', name: t.id.name } }));
    for (const c of await compareTables(source, target, targetTables)) expect(c, `${c.table}`).toMatchObject({ equal: true });
  });

  it('the same stream lands in Delta Lake equal to the source, read by delta-rs; kill -9 mid-stream loses and duplicates nothing (issue 12)', async () => {
    const lake = join(root, 'lake');
    const keys = tables.map((t) => `    public.${t.id.name}: [${t.primaryKey.join(', ')}]`).join('\n');
    const deltaConfig = join(root, 'delta.yaml');
    writeFileSync(deltaConfig, `name: chinook_delta\ntarget: { type: delta, location: "${lake}" }\nbatch: { max_changes: 500 }\ndebezium:\n  nats: { url: "${nats.url}", stream: chinook }\n  keys:\n${keys}\n`);
    const first = startCli(['run', '--config', deltaConfig]);
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(lake, '_cdc', 'batches', '_delta_log', '00000000000000000002.json'))) {
      if (Date.now() > deadline) throw new Error(`no progress; stderr:\n${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await runCli(['run', '--config', deltaConfig, '--until-caught-up']);
    expect(second.code, second.stderr).toBe(0);
    for (const t of tables) {
      const reading = await readDeltaTable(join(lake, 'public', t.id.name), { cdfFrom: 0 });
      expect(deltaRows(reading), t.id.name).toEqual(await sourceRows(cluster.url('chinook'), 'public', t.id.name));
      expect(replayChangeFeed([], reading.cdf!, -1), t.id.name).toEqual(deltaRows(reading));
    }
  });

  it('a malformed event is dead-lettered with subject, position and field; the stream goes on', async () => {
    const genre = tableOf('genre');
    await publish('chinook.public.genre', '{"schema": null, "payload": {"op": "c", "after": {"genre_id": 900, "name": "ok"}, "source": {"connector": "postgresql", "schema": "public", "table": "genre", "lsn": "not-a-number"}}}');
    await source.query("INSERT INTO public.genre VALUES (901, 'after the bad one')");
    await emit(genre, 'c', { after: { genre_id: '901', name: 'after the bad one' } });
    const r = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(r.code, r.stderr).toBe(0);
    const dead = (await target.query('SELECT topic, broker_position, error, length(message_value) > 0 AS raw FROM cdc_management.dead_letter')).rows;
    expect(dead).toEqual([{ topic: 'chinook.public.genre', broker_position: `seq ${published - 1}`, error: expect.stringMatching(/chinook\.public\.genre.*payload\.source\.lsn/), raw: true }]);
    expect((await target.query('SELECT name FROM public.genre WHERE genre_id = 901')).rows).toEqual([{ name: 'after the bad one' }]);
  });
});

describe('Debezium transaction metadata', () => {
  it('a batch never ends inside a source transaction, even with batches of one change', async () => {
    await (await jetstreamManager(nc)).streams.add({ name: 'txn', subjects: ['txn.>'] });
    const ledger: TableSchema = {
      id: { schema: 'public', name: 'ledger' },
      columns: [
        { name: 'id', type: 'integer', nullable: false, toastable: false },
        { name: 'amount', type: 'numeric(10,2)', nullable: true, toastable: true },
      ],
      primaryKey: ['id'],
    };
    const js = jetstream(nc);
    const send = (subject: string, data: string) => js.publish(subject, new TextEncoder().encode(data));
    let position = 100n;
    const row = async (id: number, amount: string, transaction?: { id: string; totalOrder: number }) => {
      position += 8n;
      await send(
        'txn.public.ledger',
        debeziumEvent({
          table: ledger,
          op: 'c',
          after: { id: String(id), amount },
          lsn: position,
          txId: 7,
          tsMs: 1_700_000_000_000,
          ...(transaction ? { transaction: { ...transaction, dataCollectionOrder: transaction.totalOrder } } : {}),
        }),
      );
    };
    await send('txn.transaction', debeziumTransactionEvent('BEGIN', 't1'));
    await row(1, '10.00', { id: 't1', totalOrder: 1 });
    await row(2, '-5.50', { id: 't1', totalOrder: 2 });
    await row(3, '-4.50', { id: 't1', totalOrder: 3 });
    await send('txn.transaction', debeziumTransactionEvent('END', 't1', 3));
    await row(4, '1.00');
    const txnConfig = join(root, 'txn.yaml');
    writeFileSync(txnConfig, `name: txn_test\ntarget: { url: "${targetUrl}" }\nbatch: { max_changes: 1 }\ndebezium:\n  nats: { url: "${nats.url}", stream: txn }\n  keys:\n    public.ledger: [id]\n`);
    const r = await runCli(['run', '--config', txnConfig, '--until-caught-up']);
    expect(r.code, r.stderr).toBe(0);
    const batches = (await target.query<{ changes: string }>("SELECT changes::text FROM cdc_management.processing_log WHERE pipeline = 'txn_test' ORDER BY id")).rows;
    expect(batches.map((b) => Number(b.changes))).toEqual([3, 1]);
    expect((await target.query('SELECT sum(amount)::text AS s FROM public.ledger')).rows).toEqual([{ s: '1.00' }]);
  });
});

describe('Debezium with a project', () => {
  it('primary keys and, for events without a schema, column types come from the YAML table definitions', async () => {
    await (await jetstreamManager(nc)).streams.add({ name: 'proj', subjects: ['proj.>'] });
    const wallet: TableSchema = {
      id: { schema: 'public', name: 'wallet' },
      columns: [
        { name: 'owner', type: 'text', nullable: false, toastable: true },
        { name: 'coins', type: 'integer', nullable: true, toastable: false },
      ],
      primaryKey: ['owner'],
    };
    const js = jetstream(nc);
    let position = 10n;
    for (const [op, owner, coins] of [['c', 'ann', '1'], ['c', 'bob', '2'], ['u', 'ann', '5'], ['d', 'bob', '2']] as const) {
      position += 8n;
      const row = { owner, coins };
      await js.publish('proj.public.wallet', new TextEncoder().encode(debeziumEvent({ table: wallet, op, ...(op === 'd' ? { before: row } : { after: row }), lsn: position, txId: 1, tsMs: 1_700_000_000_000 })));
    }
    // An event without the embedded schema: the YAML definition supplies the column types.
    await js.publish(
      'proj.public.payment',
      new TextEncoder().encode(
        '{"before":null,"after":{"id":1,"paid_at":1700000000123456,"note":"first"},"source":{"connector":"postgresql","schema":"public","table":"payment","lsn":500},"op":"c","ts_ms":1700000000200}',
      ),
    );
    const dir = join(root, 'project');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'schemas', 'shop', 'public'), { recursive: true });
    writeFileSync(
      join(dir, 'schemas', 'shop', 'public', 'payment.yaml'),
      'schema: public\ntable: payment\ncolumns:\n  - { name: id, type: integer, nullable: false, primary_key: true }\n  - { name: paid_at, type: "timestamp(6) without time zone" }\n  - { name: note, type: text }\n',
    );
    writeFileSync(join(dir, 'schemas', 'shop', 'public', 'wallet.yaml'), 'schema: public\ntable: wallet\ncolumns:\n  - { name: owner, type: text, nullable: false, primary_key: true }\n  - { name: coins, type: integer }\n');
    writeFileSync(
      join(dir, 'cdc.yaml'),
      `name: proj_test\ntarget: { url: "${targetUrl}" }\nservices:\n  shop: { dialect: postgresql }\nsinks:\n  postgres: {}\ndebezium:\n  nats: { url: "${nats.url}", stream: proj }\n`,
    );
    const r = await runCli(['run', '--config', join(dir, 'cdc.yaml'), '--until-caught-up']);
    expect(r.code, r.stderr).toBe(0);
    expect((await target.query('SELECT owner, coins FROM public.wallet ORDER BY owner')).rows).toEqual([{ owner: 'ann', coins: 5 }]);
    expect((await target.query("SELECT id, paid_at::text AS paid_at, note, format_type(atttypid, atttypmod) AS type FROM public.payment, pg_attribute WHERE attrelid = 'public.payment'::regclass AND attname = 'paid_at'")).rows).toEqual([
      { id: 1, paid_at: '2023-11-14 22:13:20.123456', note: 'first', type: 'timestamp(6) without time zone' },
    ]);
    expect((await target.query("SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'public.wallet'::regclass AND contype = 'p'")).rows).toEqual([
      { def: 'PRIMARY KEY (owner)' },
    ]);
  });
});

describe('Debezium routing', () => {
  it('routes subjects to configured target tables; keys stay keyed by source names', async () => {
    await (await jetstreamManager(nc)).streams.add({ name: 'routed', subjects: ['routed.>'] });
    const item: TableSchema = {
      id: { schema: 'public', name: 'item' },
      columns: [
        { name: 'sku', type: 'text', nullable: false, toastable: true },
        { name: 'qty', type: 'integer', nullable: true, toastable: false },
      ],
      primaryKey: ['sku'],
    };
    const js = jetstream(nc);
    let position = 10n;
    for (const [op, sku, qty] of [['c', 'a', '1'], ['c', 'b', '2'], ['u', 'a', '3']] as const) {
      position += 8n;
      await js.publish('routed.public.item', new TextEncoder().encode(debeziumEvent({ table: item, op, after: { sku, qty }, lsn: position, txId: 1, tsMs: 1_700_000_000_000 })));
    }
    const routedConfig = join(root, 'routed.yaml');
    writeFileSync(
      routedConfig,
      `name: routed_test\ntarget: { url: "${targetUrl}" }\ndebezium:\n  nats: { url: "${nats.url}", stream: routed }\n  routes:\n    "routed.public.*": "inventory.{table}_current"\n  keys:\n    public.item: [sku]\n`,
    );
    const r = await runCli(['run', '--config', routedConfig, '--until-caught-up']);
    expect(r.code, r.stderr).toBe(0);
    expect((await target.query('SELECT sku, qty FROM inventory.item_current ORDER BY sku')).rows).toEqual([
      { sku: 'a', qty: 3 },
      { sku: 'b', qty: 2 },
    ]);
  });
});

describe('JetStream start-up (issue 11)', () => {
  const shelf: TableSchema = {
    id: { schema: 'public', name: 'shelf' },
    columns: [
      { name: 'id', type: 'integer', nullable: false, toastable: false },
      { name: 'label', type: 'text', nullable: true, toastable: true },
    ],
    primaryKey: ['id'],
  };
  let position = 5000n;
  /** Publishes an insert of `public.shelf` row `id` on `<stream>.public.shelf`. */
  const put = async (stream: string, id: number) => {
    position += 8n;
    await jetstream(nc).publish(
      `${stream}.public.shelf`,
      new TextEncoder().encode(debeziumEvent({ table: shelf, op: 'c', after: { id: String(id), label: `l${id}` }, lsn: position, txId: 1, tsMs: 1_700_000_000_000, lastCommitLsn: position - 1n })),
    );
  };
  /** A cdc.yaml for pipeline `name` reading stream `stream`, into a fresh schema of the target. */
  const configFor = (name: string, stream: string) => {
    const file = join(root, `${name}.yaml`);
    writeFileSync(file, `name: ${name}\ntarget: { url: "${targetUrl}" }\ndebezium:\n  nats: { url: "${nats.url}", stream: ${stream} }\n  routes:\n    "${stream}.public.*": "${name}.{table}"\n  keys:\n    public.shelf: [id]\n`);
    return file;
  };
  const ids = async (schema: string) => (await target.query<{ id: number }>(`SELECT id FROM ${schema}.shelf ORDER BY id`)).rows.map((r) => r.id);

  it('stops with BROKER_RETENTION_GAP when the messages after the target\'s position were removed, naming both sequences', async () => {
    await (await jetstreamManager(nc)).streams.add({ name: 'aged', subjects: ['aged.>'], max_msgs: 5 });
    const config = configFor('aged_test', 'aged');
    for (let id = 1; id <= 3; id++) await put('aged', id);
    const first = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(first.code, first.stderr).toBe(0);
    expect(await ids('aged_test')).toEqual([1, 2, 3]);
    // While cdc-merge is stopped, ten more arrive; the stream keeps the last five (seq 9 to 13).
    for (let id = 4; id <= 13; id++) await put('aged', id);
    const second = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('BROKER_RETENTION_GAP');
    expect(second.stderr).toMatch(/seq 3\b[^\n]*seq 9\b/);
    expect(await ids('aged_test')).toEqual([1, 2, 3]);
  });

  it('keeps its durable consumer: on an interest-retention stream, messages published while cdc-merge was stopped are merged', async () => {
    await (await jetstreamManager(nc)).streams.add({ name: 'interest', subjects: ['interest.>'], retention: RetentionPolicy.Interest });
    const config = configFor('interest_test', 'interest');
    // The first run creates the durable consumer: from then on the stream keeps what it has not acknowledged.
    const created = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(created.code, created.stderr).toBe(0);
    for (let id = 1; id <= 3; id++) await put('interest', id);
    const first = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(first.code, first.stderr).toBe(0);
    expect(await ids('interest_test')).toEqual([1, 2, 3]);
    for (let id = 4; id <= 6; id++) await put('interest', id);
    const second = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(second.code, second.stderr).toBe(0);
    expect(await ids('interest_test')).toEqual([1, 2, 3, 4, 5, 6]);
    // Acknowledged messages are gone from the stream; the consumer is the same one.
    const info = await (await jetstreamManager(nc)).streams.info('interest');
    expect(info.state.messages).toBe(0);
  });
});
