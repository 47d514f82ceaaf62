/**
 * The composition root of `cdc run`: a PostgreSQL source and a PostgreSQL sink joined by the
 * pipeline. The CLI, the demo, the benchmark and the tests all run the pipeline through it.
 */
import type { TablePattern } from '../config/table-pattern.js';
import { mappedSink, type TableMapping } from '../pipeline/mapped-sink.js';
import { runPipeline, type RunOptions, type RunResult } from '../pipeline/run.js';
import type { SchemaChangePolicy } from '../sinks/postgres/schema-change.js';
import { PostgresSink } from '../sinks/postgres/sink.js';
import type { TableOptions } from '../sinks/postgres/table-ddl.js';
import { PostgresSource } from '../sources/postgres/source.js';

/** Options for {@link replicate}: those of `runPipeline`, with URLs instead of source and sink. */
export interface ReplicateOptions extends Omit<RunOptions, 'source' | 'sink'> {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  /** Pipeline name (slot, publication, offsets). */
  readonly name: string;
  /** Selected tables; all (outside system schemas) when empty or absent. */
  readonly patterns?: readonly TablePattern[];
  readonly tableOptions?: TableOptions;
  readonly schemaPolicy?: SchemaChangePolicy;
  /** Connections loading snapshot chunks, and chunks copied at once (default 2). */
  readonly snapshotParallelism?: number;
  /** Target names and types for source tables (a project's sink rules); identity when absent. */
  readonly tableMapping?: TableMapping;
}

/**
 * Opens source and sink, runs the pipeline, and closes both whatever happens.
 * @throws {CdcError} as `PostgresSource.open`, `PostgresSink.open` and `runPipeline`.
 */
export async function replicate(options: ReplicateOptions): Promise<RunResult> {
  const { sourceUrl, targetUrl, name, patterns, tableOptions, schemaPolicy, tableMapping, ...run } = options;
  const parallelism = options.snapshotParallelism ?? 2;
  const source = await PostgresSource.open({ url: sourceUrl, name, patterns: patterns ?? [] });
  let sink: PostgresSink | undefined;
  try {
    sink = await PostgresSink.open({
      url: targetUrl,
      pipeline: name,
      log: run.log,
      snapshotConnections: parallelism,
      ...(tableOptions ? { tableOptions } : {}),
      ...(schemaPolicy ? { schemaPolicy } : {}),
    });
    return await runPipeline({ ...run, snapshotParallelism: parallelism, source, sink: tableMapping ? mappedSink(sink, tableMapping) : sink });
  } finally {
    await sink?.close();
    await source.close();
  }
}
