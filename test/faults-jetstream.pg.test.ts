/**
 * A NATS restart under `cdc run` with the Debezium JetStream transport (DESIGN.md §3.12,
 * docs/faults.md): events keep arriving while nats-server is stopped and started again on the
 * same port and store; the run survives (still running, merging again) and, once the publisher
 * stops and it has caught up, the target holds exactly the last change of every key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TableSchema } from '../src/schema/table.js';
import { debeziumEvent } from '../src/testing/debezium-events.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startThrowawayNats, type ThrowawayNats } from '../src/testing/throwaway-nats.js';
import { startCli, type CliRun } from './support/cli.js';

const ledger: TableSchema = {
  id: { schema: 'public', name: 'ledger' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'amount', type: 'integer', nullable: true, toastable: false },
  ],
  primaryKey: ['id'],
};

let cluster: ThrowawayCluster;
let nats: ThrowawayNats;
let nc: NatsConnection;
let target: pg.Client;
let targetUrl: string;
let root: string;
let run: CliRun | undefined;

beforeAll(async () => {
  [cluster, nats] = await Promise.all([startThrowawayCluster({ label: 'faults-nats' }), startThrowawayNats({ label: 'faults' })]);
  targetUrl = await cluster.createDatabase('warehouse');
  target = new pg.Client(targetUrl);
  await target.connect();
  // The test's publisher rides out the restart as Debezium Server would: reconnecting for ever.
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await (await jetstreamManager(nc)).streams.add({ name: 'faults', subjects: ['faults.>'] });
  root = mkdtempSync(join(tmpdir(), 'cdc-faults-nats-'));
}, 180_000);
afterAll(async () => {
  if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await nc?.close();
  await target?.end();
  await nats?.stop();
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n${run?.stderr() ?? ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const batches = async () => Number((await target.query<{ n: number }>("SELECT count(*)::int AS n FROM cdc_management.processing_log WHERE pipeline = 'faults_dbz'")).rows[0]!.n);

it('survives a nats-server restart mid-stream and ends with every key at its last change', async () => {
  // Publisher: inserts, updates and deletes over 200 keys, one event every few ms; an event is
  // published again until the server stores it (the same event twice changes nothing).
  const expected = new Map<number, number | null>();
  const js = jetstream(nc);
  let lsn = 1000n;
  let published = 0;
  let stop = false;
  const publisher = (async () => {
    for (let n = 0; !stop; n++) {
      const id = 1 + ((n * 7919) % 200);
      const before = expected.get(id);
      const op = before === undefined || before === null ? 'c' : n % 5 === 0 ? 'd' : 'u';
      const amount = String(n);
      lsn += 8n;
      const event = debeziumEvent({
        table: ledger,
        op,
        ...(op === 'c' ? { after: { id: String(id), amount } } : op === 'u' ? { before: { id: String(id), amount: String(before) }, after: { id: String(id), amount } } : { before: { id: String(id), amount: String(before) } }),
        lsn,
        txId: n,
        tsMs: 1_700_000_000_000 + n,
      });
      for (;;) {
        try {
          await js.publish('faults.public.ledger', new TextEncoder().encode(event), { timeout: 2000 });
          break;
        } catch {
          if (stop) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expected.set(id, op === 'd' ? null : n);
      published++;
      await new Promise((r) => setTimeout(r, 3));
    }
  })();

  const config = join(root, 'cdc.yaml');
  writeFileSync(config, `name: faults_dbz\ntarget: { url: "${targetUrl}" }\ndebezium:\n  nats: { url: "${nats.url}", stream: faults }\n  keys:\n    public.ledger: [id]\n`);
  run = startCli(['run', '--config', config]);
  await until('batches are merging', async () => (await batches()) > 3);

  const publishedBeforeRestart = published;
  await nats.restart();
  const afterRestart = await batches();
  await until('the publisher publishes again', () => Promise.resolve(published > publishedBeforeRestart + 200));
  await until('batches merge after the restart', async () => (await batches()) > afterRestart + 3);
  expect(run.child.exitCode, run.stderr()).toBe(null);

  stop = true;
  await publisher;
  const want = [...expected].filter(([, v]) => v !== null).map(([id, amount]) => ({ id, amount })).sort((a, b) => a.id - b.id);
  const got = async () => (await target.query<{ id: number; amount: number }>('SELECT id, amount FROM public.ledger ORDER BY id')).rows;
  await until('the target holds the last change of every key', async () => JSON.stringify(await got()) === JSON.stringify(want));
  expect(await got()).toEqual(want);
  expect(run.child.exitCode, run.stderr()).toBe(null);

  // The lost connection ended the attempt; the next one resumed after the merged position.
  expect(run.stderr()).toMatch(/lost the connection to NATS[^\n]*"msg":"retryable failure"/);
  run.child.kill('SIGTERM');
  expect(await run.exited, run.stderr()).toBe(0);
  if (process.env.FAULTS_DEBUG) (await import('node:fs')).writeFileSync(process.env.FAULTS_DEBUG, run.stderr());
});
