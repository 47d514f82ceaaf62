/**
 * The PostgreSQL sink as a dialect (`src/sinks/sink-dialect.ts`): its cdc.yaml settings, capability
 * flags, reserved schemas, and the factories of its writer, status reader and merge worker.
 */
import { z } from 'zod';
import type { SinkContext, SinkDialect } from '../sink-dialect.js';
import { postgresMigrations } from './ddl.js';
import { DEFAULT_STUCK_AFTER_SECONDS, DEFAULT_WINDOW_SECONDS } from './deferred-merge.js';
import { runMergeWorker } from './merge-worker.js';
import { MANAGEMENT_SCHEMA, STAGING_SCHEMA } from './naming.js';
import { openPostgresStatusReader } from './status.js';
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

/** The PostgreSQL sink (DESIGN.md §4). */
export const postgresqlDialect = {
  type: 'postgresql',
  configSchema: postgresqlTargetSchema,
  capabilities: POSTGRES_CAPABILITIES,
  reservedSchemas: [MANAGEMENT_SCHEMA, STAGING_SCHEMA],
  acceptsUrl: (url) => /^postgres(ql)?:\/\//i.test(url),
  createWriter(config: PostgresqlTargetConfig, context: SinkContext) {
    return PostgresSink.open({
      url: config.url,
      pipeline: context.name,
      log: context.log,
      ...(config.tableOptions ? { tableOptions: config.tableOptions } : {}),
      ...(config.schemaPolicy ? { schemaPolicy: config.schemaPolicy } : {}),
      ...(config.snapshotConnections ? { snapshotConnections: config.snapshotConnections } : {}),
    });
  },
  createStatusReader: (url) => openPostgresStatusReader(url),
  migrations: postgresMigrations,
  deferredMerge: {
    defaultWindowSeconds: DEFAULT_WINDOW_SECONDS,
    defaultStuckAfterSeconds: DEFAULT_STUCK_AFTER_SECONDS,
    runWorker: (settings) => runMergeWorker(settings),
  },
} satisfies SinkDialect<PostgresqlTargetConfig>;
