/**
 * The Debezium benchmark (issue #5): the same row changes reach a PostgreSQL target through two
 * paths, in one run on one machine:
 * - the PostgreSQL source path: the changes are committed on a source table (transactions of
 *   BENCH_DBZ_TXN changes), then `cdc run --until-caught-up` catches up through the slot;
 * - the Debezium path: the same changes as Debezium events (embedded schema) in a NATS JetStream
 *   stream, then the JetStream pipeline catches up.
 * It prints changes/s for both and their ratio, and checks that both targets equal the source.
 */
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { replicate } from '../run/replicate.js';
import { formatCount, renderTable } from '../observability/text-table.js';
import type { TableSchema } from '../schema/table.js';
import { debeziumEvent } from '../testing/debezium-events.js';
import { startThrowawayCluster } from '../testing/throwaway-cluster.js';
import { startThrowawayNats } from '../testing/throwaway-nats.js';
import { compareTables } from '../verify/compare.js';
import { CLUSTER_OPTIONS, note, secondsSince } from './common.js';

/** Sizes of the Debezium benchmark. */
export interface DebeziumBenchConfig {
  /** Row changes (inserts, updates, deletes). */
  readonly changes: number;
  /** Changes per source transaction on the PostgreSQL path. */
  readonly transactionSize: number;
}

/** What it measured. */
export interface DebeziumBenchResult {
  readonly config: DebeziumBenchConfig;
  readonly postgresSeconds: number;
  readonly jetstreamSeconds: number;
  readonly equal: boolean;
}

const TABLE: TableSchema = {
  id: { schema: 'public', name: 'accounts' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'balance', type: 'bigint', nullable: false, toastable: false },
    { name: 'note', type: 'text', nullable: true, toastable: true },
  ],
  primaryKey: ['id'],
};

interface Change {
  op: 'c' | 'u' | 'd';
  id: number;
  balance: number;
  note: string;
}

/** A deterministic change stream over 20 % of `changes` keys: inserts first, then updates and deletes. */
function changeStream(n: number): Change[] {
  const keys = Math.max(10, Math.floor(n / 5));
  const live = new Set<number>();
  const out: Change[] = [];
  for (let i = 0; i < n; i++) {
    const id = 1 + ((i * 7919) % keys);
    const op = !live.has(id) ? 'c' : i % 17 === 0 ? 'd' : 'u';
    if (op === 'd') live.delete(id);
    else live.add(id);
    out.push({ op, id, balance: (i * 13) % 100_000, note: `change ${i}` });
  }
  return out;
}

/** Runs both paths on fresh clusters (one PostgreSQL cluster, one NATS server) and removes them. */
export async function benchDebezium(config: DebeziumBenchConfig, log: Logger): Promise<DebeziumBenchResult> {
  note('debezium: starting PostgreSQL and NATS');
  const cluster = await startThrowawayCluster({ ...CLUSTER_OPTIONS, label: 'bench-dbz' });
  const nats = await startThrowawayNats({ label: 'bench-dbz' });
  try {
    const sourceUrl = await cluster.createDatabase('source');
    const pgTargetUrl = await cluster.createDatabase('target_pg');
    const jsTargetUrl = await cluster.createDatabase('target_js');
    const source = new pg.Client(sourceUrl);
    await source.connect();
    await source.query('CREATE TABLE public.accounts (id integer PRIMARY KEY, balance bigint NOT NULL, note text)');
    await replicate({ name: 'bench_dbz', source: { type: 'postgres', url: sourceUrl }, target: { type: 'postgresql', url: pgTargetUrl }, log, untilCaughtUp: true });

    const changes = changeStream(config.changes);
    note(`debezium: ${formatCount(changes.length)} changes on the source (slot kept, pipeline stopped)`);
    for (let i = 0; i < changes.length; i += config.transactionSize) {
      const statements = changes.slice(i, i + config.transactionSize).map((c) =>
        c.op === 'c'
          ? `INSERT INTO public.accounts VALUES (${c.id}, ${c.balance}, '${c.note}')`
          : c.op === 'u'
            ? `UPDATE public.accounts SET balance = ${c.balance}, note = '${c.note}' WHERE id = ${c.id}`
            : `DELETE FROM public.accounts WHERE id = ${c.id}`,
      );
      await source.query(`BEGIN;\n${statements.join(';\n')};\nCOMMIT;`);
    }
    note('debezium: PostgreSQL path, catching up through the slot');
    let started = performance.now();
    await replicate({ name: 'bench_dbz', source: { type: 'postgres', url: sourceUrl }, target: { type: 'postgresql', url: pgTargetUrl }, log, untilCaughtUp: true });
    const postgresSeconds = secondsSince(started);

    note('debezium: publishing the same changes as Debezium events to JetStream');
    const nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'bench', subjects: ['bench.>'] });
    const js = jetstream(nc);
    const encoder = new TextEncoder();
    let lsn = 1000n;
    let pending: Promise<unknown>[] = [];
    for (const c of changes) {
      lsn += 8n;
      const row = { id: String(c.id), balance: String(c.balance), note: c.note };
      const event = debeziumEvent({ table: TABLE, op: c.op, ...(c.op === 'd' ? { before: row } : { after: row }), lsn, txId: Number(lsn), tsMs: 1_700_000_000_000 });
      pending.push(js.publish('bench.public.accounts', encoder.encode(event)));
      if (pending.length >= 1000) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    await nc.close();
    note('debezium: JetStream path, catching up through the stream');
    started = performance.now();
    await replicate({
      name: 'bench_dbz',
      source: { type: 'debezium', broker: { kind: 'nats', url: nats.url, stream: 'bench' }, keys: { 'public.accounts': ['id'] } },
      target: { type: 'postgresql', url: jsTargetUrl },
      log,
      untilCaughtUp: true,
    });
    const jetstreamSeconds = secondsSince(started);

    const equal = [];
    for (const url of [pgTargetUrl, jsTargetUrl]) {
      const target = new pg.Client(url);
      await target.connect();
      try {
        equal.push(...(await compareTables(source, target, [TABLE])).map((c) => c.equal));
      } finally {
        await target.end();
      }
    }
    await source.end();
    return { config, postgresSeconds, jetstreamSeconds, equal: equal.every(Boolean) };
  } finally {
    await nats.stop();
    await cluster.stop();
  }
}

/** The result table of the Debezium benchmark. */
export function renderDebeziumResults(r: DebeziumBenchResult): string {
  const pgRate = r.config.changes / r.postgresSeconds;
  const jsRate = r.config.changes / r.jetstreamSeconds;
  return [
    `Debezium events: ${formatCount(r.config.changes)} row changes (inserts, updates, deletes) into one table`,
    '',
    renderTable(
      ['path', 'seconds', 'changes/s'],
      [
        [`PostgreSQL slot (transactions of ${r.config.transactionSize})`, r.postgresSeconds.toFixed(2), formatCount(pgRate)],
        ['Debezium JSON on NATS JetStream', r.jetstreamSeconds.toFixed(2), formatCount(jsRate)],
      ],
      ['left', 'right', 'right'],
    ),
    '',
    `JetStream path / PostgreSQL path: ${(jsRate / pgRate).toFixed(2)}×; both targets equal the source: ${r.equal ? 'yes' : 'NO'}`,
  ].join('\n');
}
