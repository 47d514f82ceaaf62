/**
 * Test support: a source and a target database on one throwaway cluster, and a way to run the
 * pipeline in-process until it has caught up.
 */
import pg from 'pg';
import { pino } from 'pino';
import { parseTablePatterns } from '../../src/config/table-pattern.js';
import { runPipeline, type RunOptions, type RunResult } from '../../src/pipeline/run.js';
import { PostgresSink } from '../../src/sinks/postgres/sink.js';
import { PostgresSource } from '../../src/sources/postgres/source.js';
import type { TableOptions } from '../../src/sinks/postgres/table-ddl.js';
import type { ThrowawayCluster } from '../../src/testing/throwaway-cluster.js';
import { compareTables, type TableComparison } from '../../src/verify/compare.js';
import { describeTables, listTables } from '../../src/sources/postgres/catalog.js';

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

/** Options for {@link replicate}. */
export interface ReplicateOptions extends Partial<Omit<RunOptions, 'source' | 'sink' | 'log'>> {
  readonly tables?: string;
  readonly tableOptions?: TableOptions;
  readonly schemaPolicy?: { drop: 'apply' | 'ignore' | 'stop'; typeChange: 'apply' | 'ignore' | 'stop' };
}

/** Runs the pipeline in-process, by default until caught up. */
export async function replicate(pair: Pair, options: ReplicateOptions = {}): Promise<RunResult> {
  const log = pino({ level: process.env.CDC_TEST_LOG ?? 'silent' });
  const source = await PostgresSource.open({ url: pair.sourceUrl, name: pair.name, patterns: parseTablePatterns(options.tables ?? '') });
  const sink = await PostgresSink.open({
    url: pair.targetUrl,
    pipeline: pair.name,
    log,
    ...(options.tableOptions ? { tableOptions: options.tableOptions } : {}),
    ...(options.schemaPolicy ? { schemaPolicy: options.schemaPolicy } : {}),
  });
  try {
    return await runPipeline({ untilCaughtUp: true, heartbeatIntervalMs: 200, ...options, source, sink, log });
  } finally {
    await sink.close();
    await source.close();
  }
}

/** Compares the source tables matching `options.tables` (default: all) with the target. */
export async function compare(pair: Pair, options: { ignoreWhereTrue?: string; tables?: string } = {}): Promise<TableComparison[]> {
  const tables = await describeTables(pair.source, await listTables(pair.source, parseTablePatterns(options.tables ?? '')));
  return compareTables(pair.source, pair.target, tables, options);
}

/** Asserts helper: the tables that differ, with their sample differences. */
export function differing(results: readonly TableComparison[]): TableComparison[] {
  return results.filter((r) => !r.equal);
}
