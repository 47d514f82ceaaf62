/**
 * Runs the pipeline in this process, as `cdc run --source … --target … --name …` would, with
 * the CLI's defaults (two snapshot connections, default batch and schema-change policies).
 */
import type { RunOptions, RunResult } from '../pipeline/run.js';
import { runPipeline } from '../pipeline/run.js';
import { PostgresSink } from '../sinks/postgres/sink.js';
import { PostgresSource } from '../sources/postgres/source.js';

/** Options for {@link runInProcess}: those of `runPipeline` with URLs instead of source and sink. */
export interface InProcessOptions extends Omit<RunOptions, 'source' | 'sink'> {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  /** Pipeline name (slot, publication, offsets). */
  readonly name: string;
}

/** Opens source and sink, runs the pipeline, and closes both whatever happens. */
export async function runInProcess(options: InProcessOptions): Promise<RunResult> {
  const { sourceUrl, targetUrl, name, ...run } = options;
  const source = await PostgresSource.open({ url: sourceUrl, name, patterns: [] });
  let sink: PostgresSink | undefined;
  try {
    sink = await PostgresSink.open({ url: targetUrl, pipeline: name, log: run.log, snapshotConnections: 2 });
    return await runPipeline({ snapshotParallelism: 2, ...run, source, sink });
  } finally {
    await sink?.close();
    await source.close();
  }
}
