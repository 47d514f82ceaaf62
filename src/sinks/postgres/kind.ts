/**
 * The `postgresql` sink kind as the registry (`src/run/registry.ts`) knows it: its settings,
 * capabilities and how to open it.
 */
import { z } from 'zod';
import type { SinkContext, SinkKind } from '../sink-kind.js';
import type { SchemaChangePolicy } from './schema-change.js';
import { POSTGRES_CAPABILITIES, PostgresSink } from './sink.js';
import type { TableOptions } from './table-ddl.js';

/** `target: { type: postgresql, … }`, resolved. */
export interface PostgresqlTargetConfig {
  readonly type: 'postgresql';
  readonly url: string;
  readonly tableOptions?: TableOptions;
  /** What to do with dropped columns and type changes (ADD COLUMN is always applied). */
  readonly schemaPolicy?: SchemaChangePolicy;
  /** Connections loading snapshot chunks (default 2). */
  readonly snapshotConnections?: number;
}

/** `target: { type: postgresql, url }` in cdc.yaml (`type` may be left out). */
export const postgresqlTargetSchema = z.object({ type: z.literal('postgresql'), url: z.string().min(1) }).strict();

/** Opens a PostgreSQL sink. */
export const postgresqlSinkKind: SinkKind<PostgresqlTargetConfig> = {
  type: 'postgresql',
  capabilities: POSTGRES_CAPABILITIES,
  open(config: PostgresqlTargetConfig, context: SinkContext) {
    return PostgresSink.open({
      url: config.url,
      pipeline: context.name,
      log: context.log,
      ...(config.tableOptions ? { tableOptions: config.tableOptions } : {}),
      ...(config.schemaPolicy ? { schemaPolicy: config.schemaPolicy } : {}),
      ...(config.snapshotConnections ? { snapshotConnections: config.snapshotConnections } : {}),
    });
  },
};
