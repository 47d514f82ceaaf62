/**
 * The registry of source and sink kinds: config `type` → factory (DESIGN.md §2, Composition).
 * The only module that names every kind; adding a kind is one folder plus one line here.
 */
import type { ChangeSink } from '../sinks/change-sink.js';
import { postgresqlSinkKind, type PostgresqlTargetConfig } from '../sinks/postgres/kind.js';
import type { SinkContext } from '../sinks/sink-kind.js';
import type { ChangeSource } from '../sources/change-source.js';
import { debeziumSourceKind, type DebeziumSourceConfig } from '../sources/debezium/kind.js';
import { postgresSourceKind, type PostgresSourceConfig } from '../sources/postgres/kind.js';
import type { SourceContext } from '../sources/source-kind.js';

/** Every source kind's settings, by `type`. */
export type SourceConfig = PostgresSourceConfig | DebeziumSourceConfig;

/** Every sink kind's settings, by `type`. */
export type TargetConfig = PostgresqlTargetConfig;

/** Source kinds by `type`. */
export const SOURCE_KINDS = {
  postgres: postgresSourceKind,
  debezium: debeziumSourceKind,
} as const;

/** Sink kinds by `type`. */
export const SINK_KINDS = {
  postgresql: postgresqlSinkKind,
} as const;

/** Builds the source `config` names (it connects on `open()`). */
export function createSource(config: SourceConfig, context: SourceContext): ChangeSource {
  switch (config.type) {
    case 'postgres':
      return SOURCE_KINDS.postgres.create(config, context);
    case 'debezium':
      return SOURCE_KINDS.debezium.create(config, context);
  }
}

/**
 * Opens the sink `config` names.
 * @throws {CdcError} the connection errors of the kind.
 */
export function openSink(config: TargetConfig, context: SinkContext): Promise<ChangeSink> {
  return SINK_KINDS[config.type].open(config, context);
}
