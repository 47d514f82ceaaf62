/**
 * The deferred-merge benchmark (issue #4): one set-based merge of 1,000,000 staged changes
 * (updates, inserts of new keys, deletes; 30 % of the changes hit a key changed earlier in the
 * same set) into a 1,000,000-row table, against the JDBC sink pattern on the same change stream:
 * one statement per row (`INSERT … ON CONFLICT DO UPDATE` or `DELETE`), sent in batches of 1,000
 * per round trip and transaction, as Kafka Connect's JDBC sink does with `executeBatch`.
 *
 * A second per-row peer sends one statement per round trip (a plain loop, prepared statements,
 * a commit every 1,000), on the first BENCH_MERGE_LOOP changes (default 50,000). The per-row
 * peers run on a prefix of the stream to keep the run short; their rates are what is compared.
 * The batched peer runs on the first BENCH_MERGE_ROWWISE changes (default 200,000). The same sample is also merged set-based into a third
 * copy of the table, and that copy must equal the per-row result.
 */
import pg from 'pg';
import type { TableSchema } from '../schema/table.js';
import { SINK_DIALECTS } from '../run/registry.js';
import { quoteLiteral } from '../sql/quote.js';
import { startThrowawayCluster } from '../testing/throwaway-cluster.js';
import { formatCount, renderTable } from '../observability/text-table.js';
import { CLUSTER_OPTIONS, note, secondsSince } from './common.js';

/** Sizes of the merge benchmark. */
export interface MergeBenchConfig {
  /** Rows in the final table before the merge. */
  readonly tableRows: number;
  /** Staged changes merged set-based. */
  readonly changes: number;
  /** Changes applied by the per-row peer (a prefix of the same stream). */
  readonly rowwiseChanges: number;
  /** Statements per round trip and transaction for the per-row peer. */
  readonly rowwiseBatch: number;
  /** Changes applied by the one-round-trip-per-row loop (a prefix of the same stream). */
  readonly loopChanges: number;
}

/** What the merge benchmark measured. */
export interface MergeBenchResult {
  readonly config: MergeBenchConfig;
  readonly mergeSeconds: number;
  readonly rowwiseSeconds: number;
  readonly loopSeconds: number;
  /** Whether the set-based merge of the sample equals the per-row result. */
  readonly equal: boolean;
}

const table = (name: string): TableSchema => ({
  id: { schema: 'public', name },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'balance', type: 'bigint', nullable: false, toastable: false },
    { name: 'note', type: 'text', nullable: true, toastable: true },
  ],
  primaryKey: ['id'],
});

/**
 * The change stream, as a table `bench_changes (seq, id, op, balance, note)`: change `seq`
 * touches key `k(seq)`, a permutation of 1…1.2 M (keys above the table's size are inserts),
 * except when `seq % 10 < 3`, where it repeats the key of change `seq - 5` (30 % repeats);
 * every 20th change of an existing key is a delete.
 */
function changesSql(config: MergeBenchConfig): string {
  const space = 1_200_007; // prime: k(g) = g * 7919 mod p is a permutation of 1…p-1
  return `
    CREATE TABLE bench_changes AS
    WITH base AS (
      SELECT g AS seq, (CASE WHEN g % 10 < 3 THEN g - 5 ELSE g END)::bigint * 7919 % ${space} AS id FROM generate_series(10, ${config.changes + 9}) g
    )
    SELECT seq, id::int AS id,
           CASE WHEN id > ${config.tableRows} THEN 'I' WHEN seq % 20 = 19 THEN 'D' ELSE 'U' END::"char" AS op,
           (seq * 13) % 100000 AS balance, 'change ' || seq AS note
      FROM base;
    CREATE INDEX ON bench_changes (seq);`;
}

async function timed(what: string, work: () => Promise<unknown>): Promise<number> {
  note(what);
  const started = performance.now();
  await work();
  const seconds = secondsSince(started);
  note(`${what}: ${seconds.toFixed(2)} s`);
  return seconds;
}

/** Runs the merge benchmark on a fresh durable cluster and removes it. */
export async function benchMerge(config: MergeBenchConfig): Promise<MergeBenchResult> {
  note('merge: starting a cluster');
  const cluster = await startThrowawayCluster({ ...CLUSTER_OPTIONS, label: 'bench-merge' });
  const client = new pg.Client(await cluster.createDatabase('bench'));
  await client.connect();
  try {
    const ddl = SINK_DIALECTS.postgresql.migrations;
    await client.query(ddl.infrastructureSql());
    for (const name of ['accounts_merge', 'accounts_rowwise', 'accounts_check', 'accounts_loop']) {
      for (const m of ddl.tableUnits(table(name))) await client.query(m.sql);
      await client.query(`INSERT INTO public.${name} (id, balance, note) SELECT g, g % 1000, 'row ' || g FROM generate_series(1, ${config.tableRows}) g`);
      await client.query(`VACUUM ANALYZE public.${name}`);
    }
    note(`merge: ${formatCount(config.changes)} changes into ${formatCount(config.tableRows)}-row tables`);
    await client.query(changesSql(config));
    const stage = (name: string, limit: number) =>
      client.query(
        `INSERT INTO cdc_staging."public.${name}" (id, balance, note, _cdc_op, _cdc_position)
         SELECT id, CASE WHEN op = 'D' THEN NULL ELSE balance END, CASE WHEN op = 'D' THEN NULL ELSE note END, op, cdc_management.row_position(seq)
           FROM bench_changes WHERE seq < ${10 + limit} ORDER BY seq`,
      );
    await stage('accounts_merge', config.changes);
    await client.query('CHECKPOINT');
    const mergeSeconds = await timed('merge: CALL cdc_management.trigger_pending_merges(0) (set-based)', () =>
      client.query('CALL cdc_management.trigger_pending_merges(0)'),
    );

    const { rows: sample } = await client.query<{ id: number; op: string; balance: string; note: string }>(
      `SELECT id, op, balance::text, note FROM bench_changes WHERE seq < ${10 + config.rowwiseChanges} ORDER BY seq`,
    );
    await client.query('CHECKPOINT');
    const rowwiseSeconds = await timed(`merge: per-row upserts, ${formatCount(sample.length)} changes in batches of ${config.rowwiseBatch}`, async () => {
      for (let i = 0; i < sample.length; i += config.rowwiseBatch) {
        const statements = sample.slice(i, i + config.rowwiseBatch).map((c) =>
          c.op === 'D'
            ? `DELETE FROM public.accounts_rowwise WHERE id = ${c.id}`
            : `INSERT INTO public.accounts_rowwise (id, balance, note) VALUES (${c.id}, ${c.balance}, ${quoteLiteral(c.note)}) ` +
              'ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance, note = EXCLUDED.note',
        );
        await client.query(`BEGIN;\n${statements.join(';\n')};\nCOMMIT;`);
      }
    });

    const loop = sample.slice(0, config.loopChanges);
    await client.query('CHECKPOINT');
    const loopSeconds = await timed(`merge: per-row loop, one statement per round trip, ${formatCount(loop.length)} changes`, async () => {
      const upsert = {
        name: 'bench_upsert',
        text: 'INSERT INTO public.accounts_loop (id, balance, note) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance, note = EXCLUDED.note',
      };
      const remove = { name: 'bench_delete', text: 'DELETE FROM public.accounts_loop WHERE id = $1' };
      for (let i = 0; i < loop.length; i += config.rowwiseBatch) {
        await client.query('BEGIN');
        for (const c of loop.slice(i, i + config.rowwiseBatch)) {
          if (c.op === 'D') await client.query({ ...remove, values: [c.id] });
          else await client.query({ ...upsert, values: [c.id, c.balance, c.note] });
        }
        await client.query('COMMIT');
      }
    });

    await stage('accounts_check', config.rowwiseChanges);
    await client.query('CALL cdc_management.trigger_pending_merges(0)');
    const digest = async (name: string) =>
      (await client.query<{ d: string }>(`SELECT md5(string_agg(id || ':' || balance || ':' || coalesce(note, ''), ',' ORDER BY id)) AS d FROM public.${name}`)).rows[0]!.d;
    const equal = (await digest('accounts_check')) === (await digest('accounts_rowwise'));
    return { config, mergeSeconds, rowwiseSeconds, loopSeconds, equal };
  } finally {
    await client.end().catch(() => undefined);
    await cluster.stop();
  }
}

/** The result table of the merge benchmark. */
export function renderMergeResults(r: MergeBenchResult): string {
  const mergeRate = r.config.changes / r.mergeSeconds;
  const rowwiseRate = r.config.rowwiseChanges / r.rowwiseSeconds;
  const loopRate = r.config.loopChanges / r.loopSeconds;
  return [
    `deferred merge: ${formatCount(r.config.changes)} staged changes (30 % repeated keys; updates, inserts, deletes) into a ${formatCount(r.config.tableRows)}-row table`,
    '',
    renderTable(
      ['peer', 'changes', 'seconds', 'changes/s', 'cdc-merge is'],
      [
        ['per-row loop, one round trip per row', formatCount(r.config.loopChanges), r.loopSeconds.toFixed(2), formatCount(loopRate), `${(mergeRate / loopRate).toFixed(1)}×`],
        [`per-row, ${r.config.rowwiseBatch} per round trip (JDBC executeBatch)`, formatCount(r.config.rowwiseChanges), r.rowwiseSeconds.toFixed(2), formatCount(rowwiseRate), `${(mergeRate / rowwiseRate).toFixed(1)}×`],
        ['cdc-merge set-based merge', formatCount(r.config.changes), r.mergeSeconds.toFixed(2), formatCount(mergeRate), ''],
      ],
      ['left', 'right', 'right', 'right', 'right'],
    ),
    '',
    `goal: ≥ 20× the per-row peer; sample merged set-based equals the batched per-row result: ${r.equal ? 'yes' : 'NO'}`,
  ].join('\n');
}
