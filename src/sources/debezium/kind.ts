/**
 * The `debezium` source kind as the registry (`src/run/registry.ts`) knows it: its settings and
 * how to build it.
 */
import { z } from 'zod';
import type { BinaryHandlingMode, TableColumnTypes } from '../../events/debezium/index.js';
import type { TableId } from '../../schema/table.js';
import { redactUrl } from '../../errors.js';
import type { SourceContext, SourceKind } from '../source-kind.js';
import { brokerConnector, type DebeziumBroker } from './broker.js';
import { compileRoutes } from './routing.js';
import { DebeziumSource } from './source.js';

/** `source: { type: debezium, … }`, resolved. */
export interface DebeziumSourceConfig {
  readonly type: 'debezium';
  readonly broker: DebeziumBroker;
  /** `dead_letter` (default): set undecodable events aside; `stop`. */
  readonly onInvalid?: 'dead_letter' | 'stop';
  /** Primary keys by `schema.table` (source names) when messages carry no record key. */
  readonly keys?: Readonly<Record<string, readonly string[]>>;
  /** More primary keys (a project's table definitions), asked after `keys`. */
  readonly keyOf?: (table: TableId) => readonly string[] | undefined;
  /** Subject pattern → target `schema.table` (see `compileRoutes`). */
  readonly routes?: Readonly<Record<string, string>>;
  /** PostgreSQL column types per source table, for events without an embedded schema. */
  readonly columnTypes?: readonly TableColumnTypes[];
  readonly binaryHandlingMode?: BinaryHandlingMode;
  /** How long a batch waits for the rest of a source transaction, ms (default 60 000). */
  readonly transactionWaitMs?: number;
}

function isRegExp(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}

/** The settings of a `debezium` source in cdc.yaml, without `type` (also the legacy top-level `debezium:` section). */
export const debeziumSettingsSchema = z
  .object({
    nats: z.object({ url: z.string().min(1), stream: z.string().min(1), subjects: z.array(z.string().min(1)).optional() }).strict().optional(),
    kafka: z
      .object({
        /** Bootstrap brokers, `host:port`. */
        brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1),
        /** Topics to read; and/or `topic_pattern`. */
        topics: z.array(z.string().min(1)).optional(),
        /** Regular expression over topic names, matched at start. */
        topic_pattern: z
          .string()
          .min(1)
          .refine(isRegExp, { message: 'not a regular expression (JavaScript syntax, e.g. ^dbserver1\\.inventory\\.)' })
          .optional(),
        /** Consumer group (default: the pipeline name). */
        group_id: z.string().min(1).optional(),
        /**
         * Consumer-group session timeout, ms (default 30 000; the broker allows
         * group.min.session.timeout.ms to group.max.session.timeout.ms, 6 000 to 300 000 by default).
         */
        session_timeout_ms: z.number().int().min(1000).optional(),
        /** TLS to the brokers: true (Node's trusted roots), or PEM files. */
        tls: z
          .union([
            z.boolean(),
            z.object({ ca_file: z.string().min(1).optional(), cert_file: z.string().min(1).optional(), key_file: z.string().min(1).optional(), server_name: z.string().min(1).optional() }).strict(),
          ])
          .optional(),
        /** SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); write the password as ${VAR}. */
        sasl: z.object({ mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']), username: z.string(), password: z.string() }).strict().optional(),
        /** Client id sent to the brokers (default `cdc-merge <group id>`). */
        client_id: z.string().min(1).optional(),
      })
      .strict()
      .refine((k) => k.topics !== undefined || k.topic_pattern !== undefined, { message: 'give topics or topic_pattern' })
      .optional(),
    /** `dead_letter` (default): set undecodable events aside in the dead-letter table; `stop`. */
    on_invalid: z.enum(['dead_letter', 'stop']).optional(),
    /** Subject pattern (NATS wildcards) → target `schema.table` ({schema}, {table} placeholders). */
    routes: z.record(z.string().min(1), z.string().min(3)).optional(),
    /** Primary keys by `schema.table`, for transports that carry no record key (NATS). */
    keys: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional(),
    /** How the connector wrote bytes (`binary.handling.mode`). */
    binary_handling_mode: z.enum(['bytes', 'base64', 'base64-url-safe', 'hex']).optional(),
  })
  .strict();

const exactlyOneBroker = (d: { nats?: unknown; kafka?: unknown }) => (d.nats === undefined) !== (d.kafka === undefined);
const oneBrokerMessage = { message: 'give exactly one of nats and kafka' };

/** The legacy top-level `debezium:` section of cdc.yaml (the same settings as `source: { type: debezium }`). */
export const debeziumSectionSchema = debeziumSettingsSchema.refine(exactlyOneBroker, oneBrokerMessage);

/** `source: { type: debezium, nats | kafka, … }` in cdc.yaml. */
export const debeziumSourceSchema = debeziumSettingsSchema.extend({ type: z.literal('debezium') }).refine(exactlyOneBroker, oneBrokerMessage);

/** The settings as cdc.yaml spells them. */
export type DebeziumSettings = z.infer<typeof debeziumSettingsSchema>;

/** Resolves cdc.yaml's Debezium settings into the source's settings. */
export function debeziumConfigFromYaml(settings: DebeziumSettings): DebeziumSourceConfig {
  let broker: DebeziumBroker;
  if (settings.nats) broker = { kind: 'nats', ...settings.nats };
  else {
    const k = settings.kafka!;
    broker = {
      kind: 'kafka',
      brokers: k.brokers,
      ...(k.topics ? { topics: k.topics } : {}),
      ...(k.topic_pattern !== undefined ? { topicPattern: k.topic_pattern } : {}),
      ...(k.group_id !== undefined ? { groupId: k.group_id } : {}),
      ...(k.session_timeout_ms !== undefined ? { sessionTimeoutMs: k.session_timeout_ms } : {}),
      ...(k.tls === true
        ? { tls: true }
        : k.tls
          ? {
              tls: {
                ...(k.tls.ca_file ? { caFile: k.tls.ca_file } : {}),
                ...(k.tls.cert_file ? { certFile: k.tls.cert_file } : {}),
                ...(k.tls.key_file ? { keyFile: k.tls.key_file } : {}),
                ...(k.tls.server_name ? { serverName: k.tls.server_name } : {}),
              },
            }
          : {}),
      ...(k.sasl ? { sasl: k.sasl } : {}),
      ...(k.client_id !== undefined ? { clientId: k.client_id } : {}),
    };
  }
  return {
    type: 'debezium',
    broker,
    ...(settings.on_invalid ? { onInvalid: settings.on_invalid } : {}),
    ...(settings.keys ? { keys: settings.keys } : {}),
    ...(settings.routes ? { routes: settings.routes } : {}),
    ...(settings.binary_handling_mode ? { binaryHandlingMode: settings.binary_handling_mode } : {}),
  };
}

/** Where a Debezium source reads, for messages: `nats://h:4222` or `k1:9092,k2:9092` (credentials hidden, `redactUrl`). */
export function debeziumAddress(config: DebeziumSourceConfig): string {
  return redactUrl(config.broker.kind === 'nats' ? config.broker.url : config.broker.brokers.join(','));
}

/** Builds a Debezium source (it connects to the broker on `start()`). */
export const debeziumSourceKind = {
  type: 'debezium' as const,
  configSchema: debeziumSourceSchema,
  /** The older top-level `debezium:` section of cdc.yaml (the same settings without `type`). */
  legacySectionSchema: debeziumSectionSchema,
  fromYaml: debeziumConfigFromYaml,
  create(config: DebeziumSourceConfig, context: SourceContext) {
    const route = config.routes ? compileRoutes(config.routes) : undefined;
    const { keys, keyOf } = config;
    return new DebeziumSource({
      description: `debezium over ${config.broker.kind}`,
      connect: brokerConnector(config.broker, context.name, {
        ...(config.columnTypes ? { columnTypes: config.columnTypes } : {}),
        ...(config.binaryHandlingMode ? { binaryHandlingMode: config.binaryHandlingMode } : {}),
      }),
      log: context.log,
      ...(config.onInvalid ? { onInvalid: config.onInvalid } : {}),
      ...(keys || keyOf ? { keyOf: (t: TableId) => keys?.[`${t.schema}.${t.name}`] ?? keyOf?.(t) } : {}),
      ...(route ? { route: (t: TableId, m: { subject: string }) => route(t, m.subject) } : {}),
      ...(config.transactionWaitMs ? { transactionWaitMs: config.transactionWaitMs } : {}),
    });
  },
};

/** The kind keeps the `SourceKind` contract (checked here; the object keeps its narrower types). */
export const debeziumSourceKindContract: SourceKind<DebeziumSourceConfig> = debeziumSourceKind;
