/**
 * The Delta Lake sink as a dialect (`src/sinks/sink-dialect.ts`): its cdc.yaml settings,
 * capability flags and writer factory.
 */
import { z } from 'zod';
import { isLakeLocation, lakeLocation, lakeStorageSchema, openLakeStorage, type LakeStorageConfig } from '../lake/open-lake-storage.js';
import type { SinkContext, SinkDialect } from '../sink-dialect.js';
import { DEFAULT_CHECKPOINT_INTERVAL } from './checkpoint.js';
import { DEFAULT_COMPACT_AFTER_FILES } from './delta-table.js';
import { BOOKKEEPING, DELTA_CAPABILITIES, DeltaSink } from './sink.js';
import { deltaMaintenance } from './maintenance.js';
import { openDeltaStatusReader } from './status.js';

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
}

/** One table's settings under `target.tables` (cdc.yaml), over the target's defaults. */
export interface DeltaTableSettings {
  readonly partitionBy?: readonly string[];
  readonly changeDataFeed?: boolean;
  readonly softDelete?: boolean;
}

const tableSettingsSchema = z
  .object({
    partition_by: z.array(z.string().min(1)).min(1).optional(),
    change_data_feed: z.boolean().optional(),
    soft_delete: z.boolean().optional(),
  })
  .strict();

/** `target: { type: delta, location, storage, change_data_feed, file_rows, soft_delete, tables, checkpoint_interval }` in cdc.yaml. */
export const deltaTargetSchema = z
  .object({
    type: z.literal('delta'),
    location: z.string().min(1),
    storage: lakeStorageSchema.optional(),
    change_data_feed: z.boolean().optional(),
    file_rows: z.number().int().min(1).optional(),
    soft_delete: z.boolean().optional(),
    tables: z.record(z.string().regex(/^[^.]+\.[^.]+$/, 'name a table as schema.table'), tableSettingsSchema).optional(),
    checkpoint_interval: z.number().int().min(1).optional(),
    compact_after_files: z.number().int().min(0).optional(),
  })
  .strict();

/**
 * The directory or `s3://` URL a Delta location names.
 * @throws {CdcError} CONFIG_INVALID for a relative path or another scheme.
 */
export function deltaLocation(location: string): string {
  return lakeLocation(location);
}

/** The Delta settings of a cdc.yaml section or of `--target <location>`. */
export function resolveDeltaTarget(section: Partial<z.infer<typeof deltaTargetSchema>> & { location: string }): DeltaTargetConfig {
  return {
    type: 'delta',
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
        },
      ]),
    ),
    checkpointInterval: section.checkpoint_interval ?? DEFAULT_CHECKPOINT_INTERVAL,
    compactAfterFiles: section.compact_after_files ?? DEFAULT_COMPACT_AFTER_FILES,
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
      tableDefaults: { changeDataFeed: config.changeDataFeed, maxRowsPerFile: config.fileRows, softDelete: config.softDelete, checkpointInterval: config.checkpointInterval, compactAfterFiles: config.compactAfterFiles },
    });
  },
  createStatusReader: (url, config?: DeltaTargetConfig) => openDeltaStatusReader(config ? openLakeStorage(config.location, config.storage) : openLakeStorage(url)),
  maintenance: deltaMaintenance,
} satisfies SinkDialect<DeltaTargetConfig>;
