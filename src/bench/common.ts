/**
 * What both benchmark peers share: the configuration, the shape of a peer's result, progress
 * lines on standard error, polling, and the cluster settings (identical for every cluster).
 */
import type { ThrowawayClusterOptions } from '../testing/throwaway-cluster.js';
import type { TableComparison } from '../verify/compare.js';
import type { PgbenchRun } from './pgbench.js';

/** One benchmark run's parameters. */
export interface BenchConfig {
  /** PostgreSQL binaries (initdb, pgbench, …). */
  readonly bindir: string;
  /** pgbench scale: 100 000 accounts per unit. */
  readonly scale: number;
  /** pgbench transactions made while the replica is stopped (all clients together). */
  readonly transactions: number;
  /** pgbench clients (`-c`). */
  readonly clients: number;
  /** pgbench threads (`-j`). */
  readonly jobs: number;
}

/** What one peer measured. */
export interface PeerResult {
  readonly peer: string;
  /** From an empty target to a full copy, caught up with the source. */
  readonly initialSyncSeconds: number;
  /**
   * Part of the initial sync until every table was copied (native: all tables ready in
   * pg_subscription_rel; cdc-merge: snapshot finished, streaming started).
   */
  readonly initialCopySeconds: number;
  /** Rows copied by the initial sync. */
  readonly initialRows: number;
  /** From restarting the replica to having applied everything pgbench committed. */
  readonly catchUpSeconds: number;
  /**
   * Part of the catch-up until every pgbench transaction was visible on the target (native:
   * polled every 100 ms; cdc-merge: the run ends right after its last merge commits, so this
   * equals {@link catchUpSeconds}).
   */
  readonly catchUpVisibleSeconds: number;
  /** The pgbench run made while the replica was stopped. */
  readonly pgbench: PgbenchRun;
  /** Source row changes of that run (pgbench transactions × 4). */
  readonly changes: number;
  /** Source versus target after catch-up. */
  readonly comparison: readonly TableComparison[];
}

/**
 * Settings of every cluster in the benchmark, source and replica alike: PostgreSQL's defaults
 * (fsync, synchronous_commit and full_page_writes on) plus what the harness always sets
 * (wal_level = logical, worker and slot limits).
 */
export const CLUSTER_OPTIONS: ThrowawayClusterOptions = { durable: true };

const startedAt = Date.now();

/** Writes a progress line to standard error, prefixed with the seconds since the start. */
export function note(line: string): void {
  process.stderr.write(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

/**
 * Polls `check` every `intervalMs` (default 50) until it resolves true.
 * @throws {Error} naming `what` after `timeoutMs`.
 */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Seconds elapsed since `started` (a `performance.now()` value). */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
