#!/usr/bin/env node
/**
 * `npm run bench` (DESIGN.md §8): cdc-merge against PostgreSQL's own publication/subscription
 * on the same pgbench workload, in one run on this machine.
 *
 * For each peer, on two fresh throwaway clusters with identical (default, durable) settings:
 * `pgbench -i -s BENCH_SCALE` (default 10) on the source, then the initial sync is timed; the
 * replica is stopped while pgbench makes BENCH_TRANSACTIONS (default 100 000) TPC-B-like
 * transactions with BENCH_CLIENTS (4) clients and BENCH_JOBS (2) threads; then the catch-up is
 * timed. Both targets are compared with their source. BENCH_ONLY=native|cdc runs one peer.
 *
 * Then the deferred-merge benchmark (`merge.ts`): a set-based merge of BENCH_MERGE_CHANGES
 * (1,000,000) staged changes into a BENCH_MERGE_ROWS (1,000,000)-row table against per-row
 * upserts (BENCH_MERGE_ROWWISE, 200,000 changes). Then the Debezium benchmark (`debezium.ts`):
 * BENCH_DBZ_CHANGES (100,000) changes through the PostgreSQL slot and as Debezium events on NATS
 * JetStream. Then the Delta Lake benchmark (`delta.ts`): BENCH_DELTA_CHANGES (1,000,000) changes
 * into a BENCH_DELTA_ROWS (1,000,000)-row Delta table in batches of BENCH_DELTA_BATCH (100,000),
 * by cdc-merge and by delta-rs `merge()`. BENCH_SUITE=replication|merge|debezium|delta runs one part.
 *
 * Results go to standard output, progress to standard error. Exits 1 when a target differs
 * from its source or a step fails.
 */
import { findPostgresBinDir } from '../testing/throwaway-cluster.js';
import { compactLogger } from '../demo/console-log.js';
import { renderComparison } from '../demo/compare-report.js';
import { benchCdc } from './cdc.js';
import { note, type BenchConfig, type PeerResult } from './common.js';
import { describeMachine, formatMachine } from './machine.js';
import { benchNative } from './native.js';
import { benchMerge, renderMergeResults } from './merge.js';
import { benchDebezium, renderDebeziumResults } from './debezium.js';
import { benchDelta, renderDeltaResults } from './delta.js';
import { renderResults } from './report.js';

/** A positive integer from the environment, or `fallback`. */
function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${raw} is not a positive integer`);
  return n;
}

async function main(): Promise<number> {
  const config: BenchConfig = {
    bindir: findPostgresBinDir(),
    scale: envInteger('BENCH_SCALE', 10),
    transactions: envInteger('BENCH_TRANSACTIONS', 100_000),
    clients: envInteger('BENCH_CLIENTS', 4),
    jobs: envInteger('BENCH_JOBS', 2),
  };
  const only = process.env.BENCH_ONLY;
  if (only && only !== 'native' && only !== 'cdc') throw new Error(`BENCH_ONLY=${only}: use native or cdc`);
  const machine = describeMachine(config.bindir);
  note(`machine: ${formatMachine(machine)}`);
  note(`pgbench scale ${config.scale}, ${config.transactions} transactions, ${config.clients} clients, ${config.jobs} threads`);

  const suite = process.env.BENCH_SUITE ?? 'all';
  if (!['all', 'replication', 'merge', 'debezium', 'delta'].includes(suite)) throw new Error(`BENCH_SUITE=${suite}: use replication, merge, debezium, delta or all`);
  const log = compactLogger(process.env.CDC_LOG_LEVEL ?? 'warn');
  const replication = suite === 'all' || suite === 'replication';
  const native: PeerResult | undefined = only === 'cdc' || !replication ? undefined : await benchNative(config);
  const cdc: PeerResult | undefined = only === 'native' || !replication ? undefined : await benchCdc(config, log);
  const merge =
    suite !== 'all' && suite !== 'merge'
      ? undefined
      : await benchMerge({
          tableRows: envInteger('BENCH_MERGE_ROWS', 1_000_000),
          changes: envInteger('BENCH_MERGE_CHANGES', 1_000_000),
          rowwiseChanges: envInteger('BENCH_MERGE_ROWWISE', 200_000),
          rowwiseBatch: 1000,
          loopChanges: envInteger('BENCH_MERGE_LOOP', 50_000),
        });

  const debezium =
    suite !== 'all' && suite !== 'debezium'
      ? undefined
      : await benchDebezium({ changes: envInteger('BENCH_DBZ_CHANGES', 100_000), transactionSize: envInteger('BENCH_DBZ_TXN', 10) }, log);

  const delta =
    suite !== 'all' && suite !== 'delta'
      ? undefined
      : await benchDelta({ tableRows: envInteger('BENCH_DELTA_ROWS', 1_000_000), changes: envInteger('BENCH_DELTA_CHANGES', 1_000_000), batch: envInteger('BENCH_DELTA_BATCH', 100_000) });

  const out = (s = '') => process.stdout.write(`${s}\n`);
  out(`cdc-merge benchmark, ${new Date().toISOString()}`);
  out(`machine: ${formatMachine(machine)}`);
  if (replication) out(renderResults(config, native, cdc));
  if (merge) out(`${replication ? '\n' : ''}${renderMergeResults(merge)}`);
  if (debezium) out(`\n${renderDebeziumResults(debezium)}`);
  if (delta) out(`\n${renderDeltaResults(delta)}`);
  let ok = (merge?.equal ?? true) && (debezium?.equal ?? true) && (delta?.runs.every((run) => run.equal) ?? true);
  for (const r of [native, cdc]) {
    if (!r) continue;
    if (r.comparison.every((c) => c.equal)) continue;
    ok = false;
    out(`\n${r.peer}: target differs from its source`);
    out(renderComparison(r.comparison));
  }
  return ok ? 0 : 1;
}

// Ctrl-C: exit at once; the throwaway clusters' exit hook stops and removes them.
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
