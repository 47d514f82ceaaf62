/**
 * cdc-merge library entry. Importing it has no side effects; the CLI lives in `src/cli`.
 *
 * The seams (docs/architecture.md): the change model and checkpoints, the `ChangeSource` and
 * `ChangeSink` / `SinkDialect` interfaces, the pipeline loop, and the composition root that
 * builds a run from settings.
 */
export * from './schema/table.js';
export * from './events/lsn.js';
export * from './events/position.js';
export * from './events/checkpoint.js';
export * from './events/change.js';
export * from './events/debezium/index.js';
export * from './schema/logical-type.js';
export { logicalTypeOf } from './schema/type-map.js';
export * from './events/values/typed-value.js';
export * from './events/values/typed-row.js';
export type * from './sources/change-source.js';
export type * from './sinks/change-sink.js';
export type * from './sinks/sink-dialect.js';
export { runPipeline, type RunOptions, type RunResult } from './pipeline/run.js';
export { replicate, type ReplicateOptions } from './run/replicate.js';
export { SINK_DIALECTS, SOURCE_KINDS, type SourceConfig, type TargetConfig } from './run/registry.js';
export { DeltaLakeWriter, type DeltaLakeWriterOptions, type DeltaWriterColumn, type DeltaWriterEvent, type DeltaWriterValue } from './run/registry.js';
export * from './sql/quote.js';
