/**
 * The Delta Lake sink as a dialect (`src/sinks/sink-dialect.ts`): its cdc.yaml settings,
 * capability flags and writer factory.
 */
import type { z } from 'zod';
import { isLakeLocation, lakeLocation, openLakeStorage, type LakeStorageConfig } from '../lake/open-lake-storage.js';
import type { SchemaChangePolicy } from '../../schema/schema-change-policy.js';
import type { SinkContext, SinkDialect } from '../sink-dialect.js';
import { DEFAULT_CHECKPOINT_INTERVAL } from './checkpoint.js';
import { DEFAULT_COMPACT_AFTER_FILES, DEFAULT_DELTA_SCHEMA_POLICY } from './delta-table.js';
import { BOOKKEEPING, DELTA_CAPABILITIES, DeltaSink } from './sink.js';
import { deltaMaintenance } from './maintenance.js';
import { openDeltaStatusReader } from './status.js';
import { deltaTargetSchema } from './target-schema.js';
import { deltaMigrations } from './migrations.js';

export { deltaTargetSchema } from './target-schema.js';

/** Rows per data file by default (a target file size: copy-on-write rewrites a whole file per changed key). */
export const DEFAULT_FILE_ROWS = 100_000;

/** `target: { type: delta, … }`, resolved. */
export interface DeltaTargetConfig {
  readonly type: 'delta';
  /** The location, as given (an absolute path, a `file://` or an `s3://bucket/prefix` URL). */
  readonly url: string;
  /** The absolute directory the tables live under, or the `s3://` URL. */
  readonly location: string;
  /** How to reach an `s3://` location (`src/sinks/lake/open-lake-storage.ts`). */
  readonly storage?: LakeStorageConfig;
  /** Write the Change Data Feed (default true). */
  readonly changeDataFeed: boolean;
  /** Rows per data file at most. */
  readonly fileRows: number;
  /** Keep deleted rows, flagged `_cdc_deleted` (default false; a table definition may override it). */
  readonly softDelete: boolean;
  /** Compact a table after a batch once this many of its files are small (0: only by `cdc compact`). */
  readonly compactAfterFiles: number;
  /** Per-table settings by `schema.table` (cdc.yaml `tables:`), over the defaults above. */
  readonly tables: Readonly<Record<string, DeltaTableSettings>>;
  /** A Delta log checkpoint every this many versions of a table (a table's `delta.checkpointInterval` wins). */
  readonly checkpointInterval: number;
  /** Merge with deletion vectors instead of rewriting files (default false; see DeltaTableOptions.deletionVectors). */
  readonly deletionVectors: boolean;
  /** cdc.yaml `schema_changes` (drops, renames, type changes) over DEFAULT_DELTA_SCHEMA_POLICY. */
  readonly schemaPolicy?: SchemaChangePolicy;
}

/** One table's settings under `target.tables` (cdc.yaml), over the target's defaults. */
export interface DeltaTableSettings {
  readonly partitionBy?: readonly string[];
  readonly changeDataFeed?: boolean;
  readonly softDelete?: boolean;
  readonly deletionVectors?: boolean;
}

/**
 * The directory or `s3://` URL a Delta location names.
 * @throws {CdcError} CONFIG_INVALID for a relative path or another scheme.
 */
export function deltaLocation(location: string): string {
  return lakeLocation(location);
}

/** The Delta settings of a cdc.yaml section or of `--target <location>`. */
export function resolveDeltaTarget(section: Partial<z.infer<typeof deltaTargetSchema>> & { location: string }, schemaChanges: Partial<SchemaChangePolicy> = {}): DeltaTargetConfig {
  return {
    type: 'delta',
    schemaPolicy: { ...DEFAULT_DELTA_SCHEMA_POLICY, ...schemaChanges },
    url: section.location,
    location: deltaLocation(section.location),
    changeDataFeed: section.change_data_feed ?? true,
    fileRows: section.file_rows ?? DEFAULT_FILE_ROWS,
    softDelete: section.soft_delete ?? false,
    tables: Object.fromEntries(
      Object.entries(section.tables ?? {}).map(([name, t]) => [
        name,
        {
          ...(t.partition_by ? { partitionBy: t.partition_by } : {}),
          ...(t.change_data_feed === undefined ? {} : { changeDataFeed: t.change_data_feed }),
          ...(t.soft_delete === undefined ? {} : { softDelete: t.soft_delete }),
          ...(t.deletion_vectors === undefined ? {} : { deletionVectors: t.deletion_vectors }),
        },
      ]),
    ),
    checkpointInterval: section.checkpoint_interval ?? DEFAULT_CHECKPOINT_INTERVAL,
    compactAfterFiles: section.compact_after_files ?? DEFAULT_COMPACT_AFTER_FILES,
    deletionVectors: section.deletion_vectors ?? false,
    ...(section.storage ? { storage: section.storage } : {}),
  };
}

/** The Delta Lake sink (DESIGN.md §6.1). */
export const deltaDialect = {
  type: 'delta',
  configSchema: deltaTargetSchema,
  capabilities: DELTA_CAPABILITIES,
  reservedSchemas: [BOOKKEEPING],
  acceptsUrl: isLakeLocation,
  createWriter(config: DeltaTargetConfig, context: SinkContext) {
    return DeltaSink.open({
      storage: openLakeStorage(config.location, config.storage),
      pipeline: context.name,
      log: context.log,
      tableSettings: (id) => config.tables[`${id.schema}.${id.name}`] ?? {},
      tableDefaults: { changeDataFeed: config.changeDataFeed, maxRowsPerFile: config.fileRows, softDelete: config.softDelete, checkpointInterval: config.checkpointInterval, compactAfterFiles: config.compactAfterFiles, deletionVectors: config.deletionVectors, ...(config.schemaPolicy ? { schemaPolicy: config.schemaPolicy } : {}) },
    });
  },
  createStatusReader: (url, config?: DeltaTargetConfig) => openDeltaStatusReader(config ? openLakeStorage(config.location, config.storage) : openLakeStorage(url)),
  maintenance: deltaMaintenance,
  lakeMigrations: deltaMigrations,
} satisfies SinkDialect<DeltaTargetConfig>;
