/**
 * The Delta Lake benchmark (issue 12, `BENCH_SUITE=delta`): the same change stream (the merge
 * benchmark's mix: updates, inserts of new keys, deletes, 30 % of the changes repeating a key
 * changed 5 changes earlier) applied batch by batch, with the same batches, to a
 * BENCH_DELTA_ROWS-row Delta table (default 1,000,000) with the Change Data Feed on:
 * - by cdc-merge's Delta sink, twice: copy-on-write through its key index, and with deletion
 *   vectors (`deletion_vectors: true`), both with change data files, fed row changes as a source
 *   would (`openBatch` / `row` / `commit`);
 * - by delta-rs `DeltaTable.merge(…)` (`when_matched_delete`, `when_matched_update`,
 *   `when_not_matched_insert`) on each batch reduced to the last change per key, in the
 *   oracles' Python environment (`oracles/delta_merge_bench.py`).
 * Both start from the same rows, each from its own writer. It prints changes/s of both, the
 * ratio, cdc-merge's peak RSS sampled during the run, delta-rs' peak RSS, and checks that both
 * tables end with the same rows.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { RowChangeMessage, RowOrigin } from '../events/change.js';
import { PositionBase } from '../events/position.js';
import { formatCount, renderTable } from '../observability/text-table.js';
import { resolveLakeTarget, SINK_DIALECTS } from '../run/registry.js';
import type { TableSchema } from '../schema/table.js';
import { oraclesPython } from '../testing/python-oracles.js';
import { note, secondsSince } from './common.js';

/** Sizes of the Delta benchmark. */
export interface DeltaBenchConfig {
  /** Rows in the table before the changes. */
  readonly tableRows: number;
  /** Row changes applied. */
  readonly changes: number;
  /** Changes per batch (one Delta commit each, for both peers). */
  readonly batch: number;
}

/** One cdc-merge run of the Delta benchmark. */
export interface DeltaBenchRun {
  /** `copy-on-write` or `deletion vectors`. */
  readonly mode: string;
  readonly seconds: number;
  readonly peakRssBytes: number;
  /** The table holds the same rows as delta-rs' at the end. */
  readonly equal: boolean;
}

/** What it measured. */
export interface DeltaBenchResult {
  readonly config: DeltaBenchConfig;
  readonly runs: readonly DeltaBenchRun[];
  readonly deltaRsSeconds: number;
  readonly deltaRsPeakRssBytes: number;
}

const TABLE: TableSchema = {
  id: { schema: 'public', name: 'accounts' },
  columns: [
    { name: 'id', type: 'integer', logicalType: { kind: 'int32' }, nullable: false, toastable: false },
    { name: 'balance', type: 'bigint', logicalType: { kind: 'int64' }, nullable: false, toastable: false },
    { name: 'note', type: 'text', logicalType: { kind: 'text' }, nullable: true, toastable: true },
  ],
  primaryKey: ['id'],
};

const SPACE = 1_200_007;

/** Change `seq` of the stream (see oracles/delta_merge_bench.py, which must agree). */
function change(seq: number, rows: number): { id: number; op: 'I' | 'U' | 'D'; balance: number; note: string } {
  const g = seq % 10 < 3 ? seq - 5 : seq;
  const id = Number((BigInt(g) * 7919n) % BigInt(SPACE));
  const op = id > rows ? 'I' : seq % 20 === 19 ? 'D' : 'U';
  return { id, op, balance: (seq * 13) % 100_000, note: `change ${seq}` };
}

function python(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(oraclesPython(), args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${args[0]}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Runs the Delta benchmark in a temporary directory and removes it. */
export async function benchDelta(config: DeltaBenchConfig): Promise<DeltaBenchResult> {
  const root = mkdtempSync(join(tmpdir(), 'cdc-bench-delta-'));
  const script = fileURLToPath(new URL('../../oracles/delta_merge_bench.py', import.meta.url));
  try {
    note(`delta: delta-rs merge of ${formatCount(config.changes)} changes into ${formatCount(config.tableRows)} rows, batches of ${formatCount(config.batch)}`);
    const theirs = JSON.parse(await python([script, 'merge', join(root, 'delta-rs', 'accounts'), String(config.tableRows), String(config.changes), String(config.batch)])) as {
      seconds: number;
      peakRssBytes: number;
    };
    note(`delta: delta-rs ${theirs.seconds.toFixed(2)} s`);

    const runs: DeltaBenchRun[] = [];
    // BENCH_DELTA_MODES=cow or =dv runs one of them (for profiling).
    const modes = (process.env.BENCH_DELTA_MODES ?? 'cow,dv').split(',');
    for (const [mode, deletionVectors] of [['copy-on-write', false], ['deletion vectors', true]] as const) {
      if (!modes.includes(deletionVectors ? 'dv' : 'cow')) continue;
      const location = join(root, deletionVectors ? 'cdc-dv' : 'cdc');
      const { seconds, peakRssBytes } = await runCdcMerge(location, config, deletionVectors);
      note(`delta: cdc-merge (${mode}) ${seconds.toFixed(2)} s`);
      const compared = JSON.parse(await python([script, 'compare', join(location, 'public', 'accounts'), join(root, 'delta-rs', 'accounts')])) as { equal: boolean };
      runs.push({ mode, seconds, peakRssBytes, equal: compared.equal });
    }
    return { config, runs, deltaRsSeconds: theirs.seconds, deltaRsPeakRssBytes: theirs.peakRssBytes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Writes the initial rows and applies the change stream with cdc-merge's Delta sink; times the changes. */
async function runCdcMerge(location: string, config: DeltaBenchConfig, deletionVectors: boolean): Promise<{ seconds: number; peakRssBytes: number }> {
  const target = { ...(resolveLakeTarget(location, undefined) as Parameters<typeof SINK_DIALECTS.delta.createWriter>[0]), deletionVectors };
  const sink = await SINK_DIALECTS.delta.createWriter(target, { name: 'bench', log: pino({ level: 'silent' }) });
  global.gc?.();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  try {
    await sink.prepare([TABLE]);
    const start = new PositionBase([1n]);
    await sink.beginTableSnapshot(TABLE, start);
    const lines = function* () {
      for (let id = 1; id <= config.tableRows; id += 10_000) {
        let chunk = '';
        for (let i = id; i < Math.min(id + 10_000, config.tableRows + 1); i++) chunk += `${i}\t${i}\trow ${i}\n`;
        yield chunk;
      }
    };
    await sink.finishTableSnapshot(TABLE, start, await sink.loadSnapshotChunk(TABLE, Readable.from(lines())));
    note('delta: cdc-merge initial rows written');
    const started = performance.now();
    for (let first = 10; first < config.changes + 10; first += config.batch) {
      const batch = await sink.openBatch();
      await batch.relation(TABLE);
      const origin: RowOrigin = { position: new PositionBase([BigInt(first)]), commitTime: new Date() };
      const last = Math.min(first + config.batch, config.changes + 10);
      for (let seq = first; seq < last; seq++) {
        const c = change(seq, config.tableRows);
        const id = String(c.id);
        const message: RowChangeMessage =
          c.op === 'D'
            ? { kind: 'delete', table: TABLE.id, origin, ordinal: seq - first, oldRow: [id, null, null] }
            : { kind: c.op === 'I' ? 'insert' : 'update', table: TABLE.id, origin, ordinal: seq - first, row: [id, String(c.balance), c.note] };
        await batch.row(message);
      }
      await batch.commit({ positions: [{ partition: '', position: BigInt(last), text: String(last) }], watermarks: [] }, { transactions: 1, messages: 0 });
    }
    return { seconds: secondsSince(started), peakRssBytes: peak };
  } finally {
    clearInterval(sampler);
    await sink.close();
  }
}

/** The result as text. */
export function renderDeltaResults(r: DeltaBenchResult): string {
  const rate = (s: number) => formatCount(Math.round(r.config.changes / s));
  const mib = (b: number) => `${Math.round(b / 1024 / 1024)} MiB`;
  return [
    `Delta Lake: ${formatCount(r.config.changes)} changes (30 % repeated keys; updates, inserts, deletes) into a ${formatCount(r.config.tableRows)}-row table, batches of ${formatCount(r.config.batch)}, Change Data Feed on`,
    renderTable(
      ['peer', 'seconds', 'changes/s', 'peak RSS', 'ratio', 'equal'],
      [
        ...r.runs.map((run) => [`cdc-merge Delta sink (${run.mode})`, run.seconds.toFixed(2), rate(run.seconds), mib(run.peakRssBytes), `${(r.deltaRsSeconds / run.seconds).toFixed(2)}×`, run.equal ? 'yes' : 'NO']),
        ['delta-rs merge()', r.deltaRsSeconds.toFixed(2), rate(r.deltaRsSeconds), mib(r.deltaRsPeakRssBytes), '1.00×', ''],
      ],
      ['left', 'right', 'right', 'right', 'right', 'left'],
    ),
    'ratio: cdc-merge changes/s / delta-rs changes/s (same batches, same run)',
  ].join('\n');
}
