/**
 * The `postgres` source kind as the registry (`src/run/registry.ts`) knows it: its settings and
 * how to build it.
 */
import { z } from 'zod';
import type { TablePattern } from '../../config/table-pattern.js';
import type { SourceContext, SourceKind } from '../source-kind.js';
import { connectPostgres } from '../../sql/connect.js';
import { readSlot, type SlotState } from './slot.js';
import { PostgresSource, validatePipelineName } from './source.js';

/** `source: { type: postgres, … }`, resolved. */
export interface PostgresSourceConfig {
  readonly type: 'postgres';
  readonly url: string;
  /** Selected tables; all (outside system schemas) when empty or absent. */
  readonly patterns?: readonly TablePattern[];
  /** Chunks copied at once during a snapshot (default 2). */
  readonly snapshotParallelism?: number;
  /** After this long without data, in ms, write a heartbeat message to WAL (default 10 000). */
  readonly heartbeatIntervalMs?: number;
}

/** `source: { type: postgres, url }` in cdc.yaml (`type` may be left out). */
export const postgresSourceSchema = z.object({ type: z.literal('postgres'), url: z.string().min(1) }).strict();

/**
 * The replication slot of pipeline `name` on the source at `url` (for `cdc status`), or null when
 * it has none.
 * @throws {CdcError} CONFIG_INVALID for a bad pipeline name; the connection errors of `connectPostgres`.
 */
export async function readPipelineSlot(url: string, name: string): Promise<SlotState | null> {
  validatePipelineName(name);
  const client = await connectPostgres(url, { role: 'source', applicationName: 'cdc-merge status' });
  try {
    return await readSlot(client, name);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Builds a PostgreSQL source (it connects on `open()`). */
export const postgresSourceKind = {
  readSlot: readPipelineSlot,
  configSchema: postgresSourceSchema,
  type: 'postgres' as const,
  create(config: PostgresSourceConfig, context: SourceContext): PostgresSource {
    return new PostgresSource({
      url: config.url,
      name: context.name,
      patterns: config.patterns ?? [],
      excludeSchemas: context.reservedSchemas,
      log: context.log,
      ...(config.snapshotParallelism ? { snapshotParallelism: config.snapshotParallelism } : {}),
      ...(config.heartbeatIntervalMs ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
    });
  },
};

/** The kind keeps the `SourceKind` contract (checked here; the object keeps its narrower types). */
export const postgresSourceKindContract: SourceKind<PostgresSourceConfig> = postgresSourceKind;
