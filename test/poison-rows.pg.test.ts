/**
 * Poison rows (issue 11 item 15, docs/faults.md): a row change the target rejects (a CHECK or
 * UNIQUE constraint only the target has, a value out of range for the target's column, a NUL
 * byte in a Debezium string) goes to cdc_management.dead_letter with its table, position and
 * error while every other change is merged; with `--on-rejected-row stop` the run stops once with
 * ROW_REJECTED and merges nothing of the rejected batch. Through the real `cdc` binary, on a
 * PostgreSQL source and on Debezium events from JetStream.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../src/schema/table.js';
import { debeziumEvent } from '../src/testing/debezium-events.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startThrowawayNats, type ThrowawayNats } from '../src/testing/throwaway-nats.js';
import { runCli, startCli } from './support/cli.js';

let sourceCluster: ThrowawayCluster;
let targetCluster: ThrowawayCluster;
let nats: ThrowawayNats;
let nc: NatsConnection;
let root: string;
let databases = 0;

beforeAll(async () => {
  [sourceCluster, targetCluster, nats] = await Promise.all([
    startThrowawayCluster({ label: 'poison-source' }),
    startThrowawayCluster({ label: 'poison-target' }),
    startThrowawayNats({ label: 'poison' }),
  ]);
  nc = await connect({ servers: nats.url });
  root = mkdtempSync(join(tmpdir(), 'cdc-poison-'));
}, 180_000);
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
  await sourceCluster?.stop();
  await targetCluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** A source and target pair with `item` copied, then given constraints and a narrower column only on the target. */
async function prepared(): Promise<{ name: string; sourceUrl: string; targetUrl: string; args: string[] }> {
  const name = `poison_${++databases}`;
  const sourceUrl = await sourceCluster.createDatabase(name);
  const targetUrl = await targetCluster.createDatabase(name);
  await query(
    sourceUrl,
    `CREATE TABLE item (id int PRIMARY KEY, qty int NOT NULL, small int, note text);
     INSERT INTO item SELECT g, g, g, 'note ' || g FROM generate_series(1, 10) g;`,
  );
  const args = ['run', '--source', sourceUrl, '--target', targetUrl, '--name', name, '--until-caught-up'];
  const first = await runCli(args);
  expect(first.code, first.stderr).toBe(0);
  await query(
    targetUrl,
    `ALTER TABLE public.item ADD CONSTRAINT qty_below_1000 CHECK (qty < 1000);
     CREATE UNIQUE INDEX item_note ON public.item (note);
     ALTER TABLE public.item ALTER COLUMN small TYPE smallint;`,
  );
  // Good and rejected changes, some in one transaction, and changes after them.
  await query(
    sourceUrl,
    `BEGIN; INSERT INTO item VALUES (11, 11, 11, 'note 11'), (12, 5000, 12, 'note 12'), (13, 13, 13, 'note 13'); COMMIT;
     UPDATE item SET small = 100000 WHERE id = 2;
     INSERT INTO item VALUES (14, 14, 14, 'note 1');
     BEGIN; UPDATE item SET qty = qty + 100 WHERE id <= 5; DELETE FROM item WHERE id = 10; COMMIT;
     INSERT INTO item VALUES (15, 15, 15, 'note 15');`,
  );
  return { name, sourceUrl, targetUrl, args };
}

describe('PostgreSQL source', () => {
  it('sets rows the target rejects aside in dead_letter with table, position and error; every other change is merged', async () => {
    const p = await prepared();
    const run = await runCli(p.args);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/"code":"ROW_REJECTED"[^\n]*"msg":"retryable failure"/);
    expect(run.stderr).toMatch(/merging row by row past a rejected row/);

    const letters = await query<{ topic: string; schema_name: string; table_name: string; error_code: string; error: string; broker_position: string; positioned: boolean; line: string }>(
      p.targetUrl,
      `SELECT topic, schema_name, table_name, error_code, error, broker_position, row_position IS NOT NULL AS positioned, convert_from(message_value, 'UTF8') AS line
         FROM cdc_management.dead_letter WHERE pipeline = $1 ORDER BY id`,
      [p.name],
    );
    // The later update of id 2 carries its rejected value too (pgoutput sends the whole new row).
    expect(letters.map((l) => l.error_code)).toEqual(['23514', '22003', '23505', '22003']);
    for (const l of letters) {
      expect(l).toMatchObject({ topic: 'public.item', schema_name: 'public', table_name: 'item', positioned: true });
      expect(l.broker_position).toMatch(/^row \d+(\/\d+)+$/);
    }
    expect(letters[0]!.error).toMatch(/qty_below_1000/);
    expect(letters[0]!.line).toMatch(/\t5000\t/);
    expect(letters[1]!.error).toMatch(/smallint/);
    expect(letters[2]!.error).toMatch(/item_note/);

    // Everything else is there, including the other rows of the rejected row's transaction and
    // the changes after it; the rejected changes are not (id 2 keeps its earlier value).
    const rows = await query(p.targetUrl, 'SELECT id, qty, small, note FROM public.item ORDER BY id');
    expect(rows).toEqual([
      { id: 1, qty: 101, small: 1, note: 'note 1' },
      { id: 2, qty: 2, small: 2, note: 'note 2' },
      { id: 3, qty: 103, small: 3, note: 'note 3' },
      { id: 4, qty: 104, small: 4, note: 'note 4' },
      { id: 5, qty: 105, small: 5, note: 'note 5' },
      ...[6, 7, 8, 9].map((i) => ({ id: i, qty: i, small: i, note: `note ${i}` })),
      { id: 11, qty: 11, small: 11, note: 'note 11' },
      { id: 13, qty: 13, small: 13, note: 'note 13' },
      { id: 15, qty: 15, small: 15, note: 'note 15' },
    ]);
    // The merged position is the source's: a later run starts after it and batches as usual.
    await query(p.sourceUrl, 'INSERT INTO item VALUES (16, 16, 16, $1)', ['note 16']);
    const again = await runCli(p.args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/ROW_REJECTED|row by row/);
    expect(await query(p.targetUrl, 'SELECT count(*)::int AS n FROM cdc_management.dead_letter')).toEqual([{ n: 4 }]);
    expect(await query(p.targetUrl, 'SELECT id FROM public.item WHERE id = 16')).toEqual([{ id: 16 }]);
  });

  it('a running pipeline returns to batches once past the rejected rows', async () => {
    const p = await prepared();
    const run = startCli(p.args.filter((a) => a !== '--until-caught-up'));
    try {
      const letters = async () => (await query<{ n: number }>(p.targetUrl, 'SELECT count(*)::int AS n FROM cdc_management.dead_letter'))[0]!.n;
      for (const deadline = Date.now() + 60_000; (await letters()) < 4; ) {
        if (Date.now() > deadline) throw new Error(`rejected rows not set aside:\n${run.stderr()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await query(p.sourceUrl, "INSERT INTO item VALUES (16, 16, 16, 'note 16'), (17, 17, 17, 'note 17')");
      await run.waitFor('past the rejected rows: merging in batches again', 60_000);
      for (const deadline = Date.now() + 60_000; (await query(p.targetUrl, 'SELECT 1 FROM public.item WHERE id = 17')).length === 0; ) {
        if (Date.now() > deadline) throw new Error(`later rows not merged:\n${run.stderr()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await letters()).toBe(4);
      expect(run.child.exitCode, run.stderr()).toBe(null);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited, run.stderr()).toBe(0);
    }
  });

  it('with --on-rejected-row stop, stops once with ROW_REJECTED naming the table, and merges nothing of the batch', async () => {
    const p = await prepared();
    const run = await runCli([...p.args, '--on-rejected-row', 'stop']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/error \[ROW_REJECTED\]: the target rejected a row of public\.item: [^\n]*(qty_below_1000|smallint out of range)/);
    expect(run.stderr).not.toMatch(/retryable failure/);
    expect(await query(p.targetUrl, 'SELECT count(*)::int AS n FROM cdc_management.dead_letter')).toEqual([{ n: 0 }]);
    expect(await query(p.targetUrl, 'SELECT count(*)::int AS n FROM public.item WHERE id > 10')).toEqual([{ n: 0 }]);
    expect(await query(p.targetUrl, "SELECT error_code FROM cdc_management.error_log WHERE error_code = 'ROW_REJECTED'")).toEqual([{ error_code: 'ROW_REJECTED' }]);
  });
});

describe('Debezium source (JetStream)', () => {
  const note: TableSchema = {
    id: { schema: 'public', name: 'note' },
    columns: [
      { name: 'id', type: 'integer', nullable: false, toastable: false },
      { name: 'body', type: 'text', nullable: true, toastable: true },
    ],
    primaryKey: ['id'],
  };

  it('an event the target rejects (a CHECK only the target has) and one with a NUL byte are set aside in dead_letter; the others are merged', async () => {
    const targetUrl = await targetCluster.createDatabase('poison_dbz');
    await (await jetstreamManager(nc)).streams.add({ name: 'poison', subjects: ['poison.>'] });
    const js = jetstream(nc);
    const publish = (event: string) => js.publish('poison.public.note', new TextEncoder().encode(event));
    const insert = (i: number, body: string) => debeziumEvent({ table: note, op: 'c', after: { id: String(i), body }, lsn: BigInt(1000 + i * 8), txId: i, tsMs: 1_700_000_000_000 + i });
    await publish(insert(1, 'first'));
    const config = join(root, 'dbz.yaml');
    writeFileSync(config, `name: poison_dbz\ntarget: { url: "${targetUrl}" }\nsource:\n  type: debezium\n  nats: { url: "${nats.url}", stream: poison }\n  keys:\n    public.note: [id]\n`);
    const first = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(first.code, first.stderr).toBe(0);
    await query(targetUrl, 'ALTER TABLE public.note ADD CONSTRAINT body_short CHECK (length(body) < 20)');

    await publish(insert(2, 'bad \u0000 byte'));
    await publish(insert(3, 'a body far too long for the target'));
    await publish(insert(4, 'fourth'));
    await publish(debeziumEvent({ table: note, op: 'u', before: { id: '1', body: 'first' }, after: { id: '1', body: 'first, changed' }, lsn: 2000n, txId: 9, tsMs: 1_700_000_001_000 }));
    const run = await runCli(['run', '--config', config, '--until-caught-up']);
    expect(run.code, run.stderr).toBe(0);
    expect(await query(targetUrl, 'SELECT id, body FROM public.note ORDER BY id')).toEqual([
      { id: 1, body: 'first, changed' },
      { id: 4, body: 'fourth' },
    ]);
    const letters = await query<{ topic: string; broker_position: string; table_name: string | null; error_code: string | null; positioned: boolean; error: string }>(
      targetUrl,
      "SELECT topic, broker_position, table_name, error_code, row_position IS NOT NULL AS positioned, error FROM cdc_management.dead_letter WHERE pipeline = 'poison_dbz' ORDER BY id",
    );
    expect(letters, JSON.stringify(letters)).toHaveLength(2);
    expect(letters.find((l) => l.error_code === '23514')).toMatchObject({ topic: 'public.note', table_name: 'note', positioned: true, error: expect.stringMatching(/body_short/) });
    expect(letters.find((l) => l.error_code !== '23514'), JSON.stringify(letters)).toMatchObject({ error: expect.stringMatching(/0x00|NUL|\\u0000/i) });
  });
});
