/**
 * The composition root of a pipeline run: a source and a sink built from their settings through
 * the registry, joined by the pipeline. The CLI, the demo, the benchmark and the tests all run
 * pipelines through it.
 */
import { mappedSink, type TableMapping } from '../pipeline/mapped-sink.js';
import { runPipeline, type RunOptions, type RunResult } from '../pipeline/run.js';
import { createSource, openSink, type SourceConfig, type TargetConfig } from './registry.js';

/** Options for {@link replicate}: those of `runPipeline`, with settings instead of source and sink. */
export interface ReplicateOptions extends Omit<RunOptions, 'source' | 'sink'> {
  /** Pipeline name (slot, publication, consumer group, checkpoint rows). */
  readonly name: string;
  readonly source: SourceConfig;
  readonly target: TargetConfig;
  /** Target names and types for source tables (a project's sink rules); identity when absent. */
  readonly tableMapping?: TableMapping;
}

/**
 * Builds source and sink, runs the pipeline, and closes both whatever happens.
 * @throws {CdcError} as the source and sink kinds and `runPipeline`.
 */
export async function replicate(options: ReplicateOptions): Promise<RunResult> {
  const { name, source: sourceConfig, target, tableMapping, ...run } = options;
  const context = { name, log: run.log };
  const source = createSource(sourceConfig, target, context);
  try {
    const sink = await openSink(target, context);
    try {
      return await runPipeline({ ...run, source, sink: tableMapping ? mappedSink(sink, tableMapping) : sink });
    } finally {
      await sink.close();
    }
  } finally {
    await source.close();
  }
}
