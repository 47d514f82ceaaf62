/**
 * The registry of source kinds and sink dialects: config `type` → factory (DESIGN.md §2,
 * Composition). The only module that names every kind; adding a kind is one folder plus one
 * line here.
 */
import type { z } from 'zod';
import { CdcError, redactUrl } from '../errors.js';
import type { SchemaChangePolicy } from '../schema/schema-change-policy.js';
import type { ChangeSink } from '../sinks/change-sink.js';
import { deltaDialect, resolveDeltaTarget, type deltaTargetSchema } from '../sinks/delta/dialect.js';
import { postgresqlDialect } from '../sinks/postgres/dialect.js';
import type { SinkContext, SinkDialect } from '../sinks/sink-dialect.js';
import type { ChangeSource } from '../sources/change-source.js';
import { debeziumSourceKind, type DebeziumSourceConfig } from '../sources/debezium/kind.js';
import { postgresSourceKind, type PostgresSourceConfig } from '../sources/postgres/kind.js';
import type { SourceContext } from '../sources/source-kind.js';

/** Every source kind's settings, by `type`. */
export type SourceConfig = PostgresSourceConfig | DebeziumSourceConfig;


/** The Delta Lake sink from code (the library API). */
export { DeltaLakeWriter, type DeltaLakeWriterOptions, type DeltaWriterColumn, type DeltaWriterEvent, type DeltaWriterValue } from '../sinks/delta/library.js';

/** Source kinds by `type`. */
export const SOURCE_KINDS = {
  postgres: postgresSourceKind,
  debezium: debeziumSourceKind,
} as const;

/** Sink dialects by `type`: a new sink kind is its folder and one line here. */
export const SINK_DIALECTS = {
  postgresql: postgresqlDialect,
  delta: deltaDialect,
} as const;

type Dialects = typeof SINK_DIALECTS;

/** Every sink dialect's settings (`target: { type: …, … }` resolved), by `type`. */
export type TargetConfig = { [K in keyof Dialects]: Parameters<Dialects[K]['createWriter']>[0] }[keyof Dialects];

/** The cdc.yaml `target` section schema of every dialect, for the discriminated union on `type`. */
export function targetSchemas(): Dialects[keyof Dialects]['configSchema'][] {
  return Object.values(SINK_DIALECTS).map((d) => d.configSchema);
}

/** The dialect of a target's settings. */
export function dialectOf(config: TargetConfig): SinkDialect<TargetConfig> {
  return SINK_DIALECTS[config.type];
}

/**
 * The dialect whose targets a URL names (for commands that take only `--target URL`).
 * @throws {CdcError} CONFIG_INVALID when no dialect takes the URL.
 */
export function dialectForUrl(url: string): SinkDialect<TargetConfig> {
  const found = (Object.values(SINK_DIALECTS) as SinkDialect<TargetConfig>[]).find((d) => d.acceptsUrl(url));
  if (!found) {
    throw new CdcError('CONFIG_INVALID', `no target kind takes ${redactUrl(url)}`, { remedy: 'give a postgres://user:password@host:port/database URL, or an absolute directory for a Delta Lake target' });
  }
  return found;
}

/**
 * The settings of a target that is not PostgreSQL (whose settings `cdc run` resolves itself):
 * from `--target <location>` when given, else from the cdc.yaml `target:` section (validated).
 * `--soft-delete` (or cdc.yaml's top-level `soft_delete`) turns soft delete on; `schemaChanges`
 * holds what cdc.yaml's `schema_changes` sets (the sink's defaults fill the rest). Undefined for a
 * PostgreSQL target.
 * @throws {CdcError} CONFIG_INVALID for a location the kind cannot use.
 */
export function resolveLakeTarget(
  flag: string | undefined,
  section: { readonly type: string } | undefined,
  options: { readonly softDelete?: boolean; readonly schemaChanges?: Partial<SchemaChangePolicy> } = {},
): TargetConfig | undefined {
  const soft = options.softDelete ? { soft_delete: true } : {};
  if (flag !== undefined) return deltaDialect.acceptsUrl(flag) ? resolveDeltaTarget({ location: flag, ...soft }, options.schemaChanges) : undefined;
  if (section?.type === 'delta') return resolveDeltaTarget({ ...(section as z.infer<typeof deltaTargetSchema>), ...soft }, options.schemaChanges);
  return undefined;
}

/** Builds the source `config` names (it connects on `open()`); it skips the schemas of the target's dialect. */
export function createSource(config: SourceConfig, target: TargetConfig, context: Omit<SourceContext, 'reservedSchemas'>): ChangeSource {
  const full = { ...context, reservedSchemas: dialectOf(target).reservedSchemas };
  switch (config.type) {
    case 'postgres':
      return SOURCE_KINDS.postgres.create(config, full);
    case 'debezium':
      return SOURCE_KINDS.debezium.create(config, full);
  }
}

/**
 * Opens the writer of the sink `config` names.
 * @throws {CdcError} the connection errors of the dialect.
 */
export function openSink(config: TargetConfig, context: SinkContext): Promise<ChangeSink> {
  return dialectOf(config).createWriter(config, context);
}
