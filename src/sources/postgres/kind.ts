/**
 * The `postgres` source kind as the registry (`src/run/registry.ts`) knows it: its settings and
 * how to build it.
 */
import { z } from 'zod';
import type { TablePattern } from '../../config/table-pattern.js';
import type { SourceContext, SourceKind } from '../source-kind.js';
import { PostgresSource } from './source.js';

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

/** Builds a PostgreSQL source (it connects on `open()`). */
export const postgresSourceKind: SourceKind<PostgresSourceConfig> = {
  type: 'postgres',
  create(config: PostgresSourceConfig, context: SourceContext) {
    return new PostgresSource({
      url: config.url,
      name: context.name,
      patterns: config.patterns ?? [],
      log: context.log,
      ...(config.snapshotParallelism ? { snapshotParallelism: config.snapshotParallelism } : {}),
      ...(config.heartbeatIntervalMs ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
    });
  },
};
