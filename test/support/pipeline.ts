/**
 * Test support: a source and a target database on one throwaway cluster, and a way to run the
 * pipeline in-process until it has caught up.
 */
import pg from 'pg';
import { pino } from 'pino';
import { parseTablePatterns } from '../../src/config/table-pattern.js';
import type { RunResult } from '../../src/pipeline/run.js';
import { replicate as replicatePipeline, type ReplicateOptions as PipelineOptions } from '../../src/run/replicate.js';
import type { PostgresqlTargetConfig } from '../../src/sinks/postgres/dialect.js';
import type { ThrowawayCluster } from '../../src/testing/throwaway-cluster.js';
import type { TableComparison } from '../../src/verify/compare.js';
import { compareDatabases } from '../../src/verify/compare-databases.js';

let counter = 0;

/** A pair of databases and open clients on them. */
export interface Pair {
  readonly name: string;
  readonly sourceUrl: string;
  readonly targetUrl: string;
  readonly source: pg.Client;
  readonly target: pg.Client;
  close(): Promise<void>;
}

/** Creates fresh source and target databases; the pipeline name (slot) is unique per pair. */
export async function createPair(cluster: ThrowawayCluster): Promise<Pair> {
  const n = ++counter;
  const name = `p${process.pid}_${n}`;
  const sourceUrl = await cluster.createDatabase(`src_${name}`);
  const targetUrl = await cluster.createDatabase(`tgt_${name}`);
  const source = new pg.Client(sourceUrl);
  const target = new pg.Client(targetUrl);
  await source.connect();
  await target.connect();
  return {
    name,
    sourceUrl,
    targetUrl,
    source,
    target,
    async close() {
      await source.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [name]).catch(() => undefined);
      await source.end();
      await target.end();
    },
  };
}

/** Options for {@link replicate}: the composition root's, with the PostgreSQL settings flat. */
export interface ReplicateOptions extends Partial<Omit<PipelineOptions, 'source' | 'target' | 'name' | 'log'>> {
  /** `schema.table` patterns, comma-separated (default: every table). */
  readonly tables?: string;
  readonly heartbeatIntervalMs?: number;
  readonly snapshotParallelism?: number;
  readonly tableOptions?: PostgresqlTargetConfig['tableOptions'];
  readonly schemaPolicy?: PostgresqlTargetConfig['schemaPolicy'];
}

/** Runs a PostgreSQL → PostgreSQL pipeline in-process through the composition root, by default until caught up. */
export async function replicate(pair: Pair, options: ReplicateOptions = {}): Promise<RunResult> {
  const { tables, heartbeatIntervalMs, snapshotParallelism, tableOptions, schemaPolicy, ...rest } = options;
  return replicatePipeline({
    untilCaughtUp: true,
    ...rest,
    name: pair.name,
    source: {
      type: 'postgres',
      url: pair.sourceUrl,
      patterns: parseTablePatterns(tables ?? ''),
      heartbeatIntervalMs: heartbeatIntervalMs ?? 200,
      ...(snapshotParallelism ? { snapshotParallelism } : {}),
    },
    target: {
      type: 'postgresql',
      url: pair.targetUrl,
      ...(snapshotParallelism ? { snapshotConnections: snapshotParallelism } : {}),
      ...(tableOptions ? { tableOptions } : {}),
      ...(schemaPolicy ? { schemaPolicy } : {}),
    },
    log: pino({ level: process.env.CDC_TEST_LOG ?? 'silent' }),
  });
}

/** Compares the source tables matching `options.tables` (default: all) with the target. */
export function compare(pair: Pair, options: { ignoreWhereTrue?: string; tables?: string } = {}): Promise<TableComparison[]> {
  return compareDatabases(pair.sourceUrl, pair.targetUrl, {
    patterns: parseTablePatterns(options.tables ?? ''),
    ...(options.ignoreWhereTrue ? { ignoreWhereTrue: options.ignoreWhereTrue } : {}),
  });
}

/** Asserts helper: the tables that differ, with their sample differences. */
export function differing(results: readonly TableComparison[]): TableComparison[] {
  return results.filter((r) => !r.equal);
}
