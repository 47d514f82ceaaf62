/**
 * The cdc-merge peer: the pipeline in this process, as `cdc run --until-caught-up` runs it, with
 * the default batch policy.
 *
 * Initial sync: one until-caught-up run on an empty target (target tables, slot, snapshot copy,
 * catching up). Catch-up: pgbench runs while no pipeline runs; then a second until-caught-up run.
 */
import type { Logger } from 'pino';
import { parseTablePatterns } from '../config/table-pattern.js';
import { replicate } from '../run/replicate.js';
import { compareDatabases } from '../verify/compare-databases.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../testing/throwaway-cluster.js';
import { CLUSTER_OPTIONS, note, secondsSince, type BenchConfig, type PeerResult } from './common.js';
import { CHANGES_PER_TRANSACTION, PGBENCH_TABLES, pgbenchInit, pgbenchRun } from './pgbench.js';

const DATABASE = 'bench';
const PIPELINE = 'bench';

/** Runs the cdc-merge peer on two fresh clusters and removes them afterwards. */
export async function benchCdc(config: BenchConfig, log: Logger): Promise<PeerResult> {
  const clusters: ThrowawayCluster[] = [];
  try {
    note('cdc-merge: starting source and target clusters');
    const sourceCluster = await startThrowawayCluster({ ...CLUSTER_OPTIONS, label: 'bench-cdc-source' });
    clusters.push(sourceCluster);
    const targetCluster = await startThrowawayCluster({ ...CLUSTER_OPTIONS, label: 'bench-cdc-target' });
    clusters.push(targetCluster);
    const sourceUrl = await sourceCluster.createDatabase(DATABASE);
    const targetUrl = await targetCluster.createDatabase(DATABASE);
    let streamingAt = 0;
    const run = (what: string) => {
      note(`cdc-merge: ${what}`);
      return replicate({ name: PIPELINE, source: { type: 'postgres', url: sourceUrl }, target: { type: 'postgresql', url: targetUrl }, log, untilCaughtUp: true, onStreaming: () => (streamingAt = performance.now()) });
    };

    note(`cdc-merge: pgbench -i -s ${config.scale} on the source`);
    await pgbenchInit(config.bindir, { cluster: sourceCluster, database: DATABASE }, config.scale);

    let started = performance.now();
    const initial = await run('until-caught-up run on the empty target (initial sync)');
    const initialSyncSeconds = secondsSince(started);
    const initialCopySeconds = (streamingAt - started) / 1000;
    note(`cdc-merge: initial sync took ${initialSyncSeconds.toFixed(2)} s (${initial.snapshotRows} rows copied; streaming after ${initialCopySeconds.toFixed(2)} s)`);

    note(`cdc-merge: pipeline stopped; pgbench -t ${config.transactions} total, -c ${config.clients} -j ${config.jobs} on the source`);
    const bench = await pgbenchRun(config.bindir, { cluster: sourceCluster, database: DATABASE }, config);
    note(`cdc-merge: pgbench made ${bench.transactions} transactions in ${bench.seconds.toFixed(1)} s (${bench.tps.toFixed(0)} tps)`);

    started = performance.now();
    const catchUp = await run('until-caught-up run (catch-up)');
    const catchUpSeconds = secondsSince(started);
    note(`cdc-merge: catch-up took ${catchUpSeconds.toFixed(2)} s (${catchUp.transactions} transactions, ${catchUp.changes} changes merged)`);

    note('cdc-merge: comparing source and target');
    const comparison = await compareDatabases(sourceUrl, targetUrl, { patterns: parseTablePatterns(PGBENCH_TABLES.map((t) => `public.${t}`).join(',')) });
    return {
      peer: 'cdc-merge',
      initialSyncSeconds,
      initialCopySeconds,
      initialRows: initial.snapshotRows,
      catchUpSeconds,
      catchUpVisibleSeconds: catchUpSeconds,
      pgbench: bench,
      changes: bench.transactions * CHANGES_PER_TRANSACTION,
      comparison,
    };
  } finally {
    for (const c of clusters.reverse()) await c.stop();
  }
}
