/**
 * The cdc.yaml settings of a Delta Lake target: the `target: { type: delta, … }` section of
 * `cdc run`, and the same block without `type` as a project sink's `target:` (`sinks.<name>`
 * with `type: delta`), which `cdc migrations` reads.
 */
import { z } from 'zod';
import { lakeStorageSchema } from '../lake/open-lake-storage.js';

/** One table's settings under `tables:` (keyed `schema.table`, target names). */
export const tableSettingsSchema = z
  .object({
    partition_by: z.array(z.string().min(1)).min(1).optional(),
    change_data_feed: z.boolean().optional(),
    soft_delete: z.boolean().optional(),
    deletion_vectors: z.boolean().optional(),
  })
  .strict();

/** `target: { type: delta, location, storage, change_data_feed, file_rows, soft_delete, deletion_vectors, tables, checkpoint_interval, compact_after_files }` in cdc.yaml. */
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
    deletion_vectors: z.boolean().optional(),
  })
  .strict();

/**
 * `sinks.<name>.target` of a project sink of type delta: the `target:` section above without
 * `type` (`location` is required; `storage`, `change_data_feed`, `tables` with `partition_by`, …
 * as there).
 */
export const deltaProjectTargetSchema = deltaTargetSchema.omit({ type: true });

/** A project sink's Delta `target:` block, as parsed. */
export type DeltaProjectTarget = z.infer<typeof deltaProjectTargetSchema>;
