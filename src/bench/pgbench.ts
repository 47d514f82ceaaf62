/**
 * pgbench from the same PostgreSQL installation as the throwaway clusters: initialising the
 * TPC-B-like schema and running the default script.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ThrowawayCluster } from '../testing/throwaway-cluster.js';

const run = promisify(execFile);

/** The four tables pgbench creates; the benchmark replicates and verifies exactly these. */
export const PGBENCH_TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers'] as const;

/** Row changes one default (TPC-B-like) pgbench transaction makes: 3 updates and 1 insert. */
export const CHANGES_PER_TRANSACTION = 4;

/** Where pgbench connects. */
export interface PgbenchTarget {
  readonly cluster: ThrowawayCluster;
  readonly database: string;
}

/** What a pgbench run reported. */
export interface PgbenchRun {
  /** Transactions actually processed (from pgbench's report). */
  readonly transactions: number;
  /** Transactions that failed (PostgreSQL 15 reports them; 0 expected). */
  readonly failed: number;
  /** pgbench's tps figure (without initial connection time). */
  readonly tps: number;
  /** Wall-clock seconds of the run. */
  readonly seconds: number;
}

function connectionArgs(t: PgbenchTarget): string[] {
  return ['-h', '127.0.0.1', '-p', String(t.cluster.port), '-U', 'postgres'];
}

async function pgbench(bindir: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(join(bindir, 'pgbench'), args, { maxBuffer: 64 * 1024 * 1024 });
    return `${stdout}\n${stderr}`;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`pgbench ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: error });
  }
}

/**
 * `pgbench -i -s <scale>`: creates and fills the four tables. With `steps` (pgbench's `-I`), runs
 * only those steps, e.g. `dtp` for empty tables with primary keys.
 */
export async function pgbenchInit(bindir: string, target: PgbenchTarget, scale: number, steps?: string): Promise<void> {
  await pgbench(bindir, ['-i', '-q', '-s', String(scale), ...(steps ? ['-I', steps] : []), ...connectionArgs(target), target.database]);
}

/**
 * Runs the default TPC-B-like script: `pgbench -n -t <transactions/clients> -c <clients> -j <jobs>`.
 * `transactions` is rounded up to a multiple of `clients`.
 * @throws {Error} when pgbench fails or reports failed transactions.
 */
export async function pgbenchRun(bindir: string, target: PgbenchTarget, o: { transactions: number; clients: number; jobs: number }): Promise<PgbenchRun> {
  const perClient = Math.ceil(o.transactions / o.clients);
  const started = Date.now();
  const out = await pgbench(bindir, ['-n', '-t', String(perClient), '-c', String(o.clients), '-j', String(o.jobs), ...connectionArgs(target), target.database]);
  const seconds = (Date.now() - started) / 1000;
  const processed = /number of transactions actually processed:\s*(\d+)/.exec(out);
  const failed = /number of failed transactions:\s*(\d+)/.exec(out);
  const tps = /tps = ([\d.]+)/.exec(out);
  if (!processed) throw new Error(`cannot read pgbench's report:\n${out}`);
  const result = { transactions: Number(processed[1]), failed: failed ? Number(failed[1]) : 0, tps: tps ? Number(tps[1]) : NaN, seconds };
  if (result.failed > 0) throw new Error(`pgbench reported ${result.failed} failed transactions`);
  return result;
}
