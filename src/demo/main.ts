#!/usr/bin/env node
/**
 * `npm run demo`: the main job end to end on a throwaway PostgreSQL cluster.
 *
 * 1. start a throwaway cluster (wal_level = logical) with databases chinook_source and
 *    chinook_target;
 * 2. load the Chinook sample database into chinook_source;
 * 3. start the pipeline `demo` continuously in this process (snapshot, then streaming);
 * 4. run a shop workload on the source for DEMO_SECONDS (default 15) at DEMO_RATE (default 40)
 *    transactions per second, with schema changes and one large update, printing progress;
 * 5. stop the pipeline, run one until-caught-up pass;
 * 6. print `cdc status` and a source-versus-target comparison.
 *
 * With `DEMO_TARGET=delta` the target is a Delta Lake directory (removed at the end) instead of
 * chinook_target, and the comparison reads every Delta table back with delta-rs (the oracles'
 * Python environment `.ci/run` creates; see README "Development").
 *
 * Exits 0 when every table is equal on both sides, 1 when one differs, 130 on Ctrl-C. The
 * cluster is always removed. Only PostgreSQL's installed binaries are needed.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { collectStatus, formatStatus } from '../run/status.js';
import { Metrics } from '../observability/metrics.js';
import type { ProgressReporter } from '../observability/progress.js';
import { listTables } from '../sources/postgres/catalog.js';
import { quoteTable } from '../sql/quote.js';
import { startThrowawayCluster } from '../testing/throwaway-cluster.js';
import { chinookScriptPath, loadChinook } from './chinook.js';
import { renderComparison } from './compare-report.js';
import { compareDatabases } from '../verify/compare-databases.js';
import { compactLogger } from './console-log.js';
import { replicate } from '../run/replicate.js';
import { resolveLakeTarget, type TargetConfig } from '../run/registry.js';
import { compareWithDelta } from '../testing/delta-compare.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCount } from '../observability/text-table.js';
import { runChinookWorkload } from './workload.js';

const PIPELINE = 'demo';

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (n: number, text: string) => say(`\n[${n}/6] ${text}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A positive number from the environment, or `fallback`. */
function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return n;
}

/** Thrown when the user pressed Ctrl-C. */
class Interrupted extends Error {}

/** Snapshot progress collected quietly, summarised once streaming starts. */
class SnapshotCounter implements ProgressReporter {
  tables = 0;
  copied = 0;
  start(): void {}
  rows(count: number): void {
    this.copied += count;
  }
  tableDone(): void {
    this.tables++;
  }
  stop(): void {}
}

/** Changes and transactions merged so far, read from the pipeline's metrics. */
async function mergedSoFar(metrics: Metrics): Promise<{ changes: number; transactions: number }> {
  const read = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
  return { changes: await read('cdc_changes_merged_total'), transactions: await read('cdc_transactions_merged_total') };
}

/** `11 tables, 15,607 rows (album 347, …)` for the database at `url`. */
async function describeRows(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, application_name: 'cdc-merge demo' });
  await client.connect();
  try {
    const counts: [string, number][] = [];
    for (const t of await listTables(client, [])) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteTable(t.id)}`);
      counts.push([t.id.name, Number(rows[0]!.n)]);
    }
    const total = counts.reduce((sum, [, n]) => sum + n, 0);
    return `${counts.length} tables, ${formatCount(total)} rows (${counts.map(([t, n]) => `${t} ${formatCount(n)}`).join(', ')})`;
  } finally {
    await client.end();
  }
}

async function demo(log: Logger, interrupt: AbortSignal): Promise<number> {
  const workloadSeconds = envNumber('DEMO_SECONDS', 15);
  const rate = envNumber('DEMO_RATE', 40);
  const check = () => {
    if (interrupt.aborted) throw new Interrupted('interrupted');
  };

  step(1, 'Starting a throwaway PostgreSQL cluster (wal_level = logical)');
  const cluster = await startThrowawayCluster({ label: 'demo' });
  // The continuous pipeline, while it runs: it must finish before the cluster stops.
  let pipeline: Promise<unknown> | undefined;
  let lake: string | undefined;
  const stopPipeline = new AbortController();
  try {
    say(`      127.0.0.1:${cluster.port}, data in ${cluster.dir} (removed at the end)`);
    const sourceUrl = await cluster.createDatabase('chinook_source');
    const delta = process.env.DEMO_TARGET === 'delta';
    if (!delta && process.env.DEMO_TARGET !== undefined && process.env.DEMO_TARGET !== 'postgresql') {
      throw new Error(`DEMO_TARGET=${process.env.DEMO_TARGET}: give postgresql (the default) or delta`);
    }
    lake = delta ? mkdtempSync(join(tmpdir(), 'cdc-demo-delta-')) : undefined;
    const targetUrl = lake ?? (await cluster.createDatabase('chinook_target'));
    const target: TargetConfig = lake ? resolveLakeTarget(lake, undefined)! : { type: 'postgresql', url: targetUrl };
    say(`      source ${sourceUrl}\n      target ${lake ? `Delta Lake tables under ${lake}` : targetUrl}`);
    check();

    step(2, 'Loading the Chinook sample database into chinook_source');
    const script = chinookScriptPath();
    say(`      ${script}`);
    await loadChinook(cluster, 'chinook_source', script);
    say(`      ${await describeRows(sourceUrl)}`);
    check();

    step(3, `Starting the pipeline "${PIPELINE}" (like: cdc run --source … --target … --name ${PIPELINE})`);
    const metrics = new Metrics();
    const progress = new SnapshotCounter();
    const stopWorkload = new AbortController();
    interrupt.addEventListener('abort', () => {
      stopPipeline.abort();
      stopWorkload.abort();
    });
    const started = Date.now();
    let markStreaming = () => {};
    const streaming = new Promise<void>((resolve) => (markStreaming = resolve));
    const running = replicate({ name: PIPELINE, source: { type: 'postgres', url: sourceUrl, heartbeatIntervalMs: 1000 }, target, log, metrics, progress, signal: stopPipeline.signal, onStreaming: markStreaming });
    pipeline = running;
    let pipelineFailed = false;
    running.catch(() => {
      pipelineFailed = true;
      stopWorkload.abort();
    });
    await Promise.race([streaming, running.then(() => Promise.reject(new Error('the pipeline stopped before it started streaming')))]);
    say(`      snapshot: ${progress.tables} tables, ${formatCount(progress.copied)} rows copied; streaming after ${seconds(Date.now() - started)}`);
    check();

    step(4, `Running a shop workload on the source for ${workloadSeconds} s (~${rate} transactions/s)`);
    say('      invoices with lines, e-mail and price changes, corrections and cancellations, schema changes');
    const stats = await runChinookWorkload({
      url: sourceUrl,
      seconds: workloadSeconds,
      ratePerSecond: rate,
      signal: stopWorkload.signal,
      onEvent: (message) => say(`      ↳ ${message}`),
      onTick: async (second, s) => {
        const merged = await mergedSoFar(metrics);
        say(
          `      ${String(second).padStart(3)} s  source: ${formatCount(s.transactions).padStart(6)} txns ${formatCount(s.changes).padStart(7)} row changes` +
            `   merged: ${formatCount(merged.transactions).padStart(6)} txns ${formatCount(merged.changes).padStart(7)} row changes`,
        );
      },
    });
    if (pipelineFailed) await running; // rethrows the pipeline's error
    check();
    say(`      workload done: ${formatCount(stats.transactions)} transactions, ${formatCount(stats.changes)} row changes, ${stats.schemaChanges} schema changes`);

    step(5, 'Stopping the pipeline (it merges its open batch), then one until-caught-up pass (cdc run --until-caught-up)');
    stopPipeline.abort();
    const continuous = await running;
    say(`      continuous run: merged ${formatCount(continuous.changes)} row changes from ${formatCount(continuous.transactions)} transactions`);
    const caughtUpAt = Date.now();
    const final = await replicate({ name: PIPELINE, source: { type: 'postgres', url: sourceUrl }, target, log, untilCaughtUp: true, signal: interrupt });
    say(`      until-caught-up pass: merged ${formatCount(final.changes)} more row changes from ${formatCount(final.transactions)} transactions in ${seconds(Date.now() - caughtUpAt)}`);
    check();

    step(6, 'Status and source-versus-target comparison');
    say(`      $ cdc status --name ${PIPELINE}`);
    say(
      formatStatus(await collectStatus({ sourceUrl, targetUrl, name: PIPELINE }))
        .split('\n')
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    say();
    if (lake) say('      (reading every Delta table back with delta-rs)');
    const results = lake ? await compareWithDelta(sourceUrl, lake) : await compareDatabases(sourceUrl, targetUrl);
    say(
      renderComparison(results)
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );
    const differing = results.filter((r) => !r.equal);
    say();
    if (differing.length === 0) {
      say(`All ${results.length} tables are identical on source and target.`);
      return 0;
    }
    say(`${differing.length} of ${results.length} tables differ: ${differing.map((r) => r.table).join(', ')}`);
    return 1;
  } finally {
    stopPipeline.abort();
    await pipeline?.catch(() => undefined);
    await cluster.stop();
    if (lake) rmSync(lake, { recursive: true, force: true });
    say(`\nThrowaway cluster${lake ? ' and Delta directory' : ''} stopped and removed.`);
  }
}

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130); // the cluster's exit hook still stops it
  say('\nCtrl-C: stopping (press again to exit at once)');
  interrupt.abort();
});
process.on('SIGTERM', () => interrupt.abort());

const log = compactLogger(process.env.CDC_LOG_LEVEL ?? 'warn');
try {
  process.exitCode = await demo(log, interrupt.signal);
} catch (error) {
  if (error instanceof Interrupted || interrupt.signal.aborted) {
    process.exitCode = 130;
  } else {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
