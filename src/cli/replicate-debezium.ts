/**
 * The composition root of `cdc run` with a `debezium` source: Debezium events on NATS JetStream
 * into the PostgreSQL sink, through `runMessagePipeline`.
 */
import type { Logger } from 'pino';
import { decodeDebeziumRecord, type BinaryHandlingMode, type TableColumnTypes } from '../events/debezium/index.js';
import type { Metrics } from '../observability/metrics.js';
import type { BatchPolicy } from '../pipeline/batch-policy.js';
import { mappedSink, type TableMapping } from '../pipeline/mapped-sink.js';
import { runMessagePipeline, type MessageRunResult } from '../pipeline/message-run.js';
import type { SchemaChangePolicy } from '../sinks/postgres/schema-change.js';
import { PostgresSink } from '../sinks/postgres/sink.js';
import type { TableOptions } from '../sinks/postgres/table-ddl.js';
import { JetStreamTransport } from '../sources/debezium/jetstream.js';
import { compileRoutes } from '../sources/debezium/routing.js';

/** Options for {@link replicateDebezium}. */
export interface ReplicateDebeziumOptions {
  readonly natsUrl: string;
  readonly stream: string;
  readonly subjects?: readonly string[];
  readonly targetUrl: string;
  /** Pipeline name: the durable consumer and the target's offsets row. */
  readonly name: string;
  readonly log: Logger;
  readonly onInvalid?: 'dead_letter' | 'stop';
  /** Primary keys by `schema.table` (source names) when messages carry no record key. */
  readonly keys?: Readonly<Record<string, readonly string[]>>;
  /** PostgreSQL column types per source table, for events without an embedded schema. */
  readonly columnTypes?: readonly TableColumnTypes[];
  /** Subject pattern → target `schema.table` (see `compileRoutes`). */
  readonly routes?: Readonly<Record<string, string>>;
  /** More primary keys (a project's table definitions), asked after `keys`. */
  readonly keyOf?: (table: { schema: string; name: string }) => readonly string[] | undefined;
  readonly binaryHandlingMode?: BinaryHandlingMode;
  readonly untilIdle?: boolean;
  readonly signal?: AbortSignal;
  readonly metrics?: Metrics;
  readonly batchPolicy?: BatchPolicy;
  readonly tableOptions?: TableOptions;
  readonly schemaPolicy?: SchemaChangePolicy;
  readonly tableMapping?: TableMapping;
  readonly onStreaming?: () => void;
}

/**
 * Opens the sink, reads its merged position, opens the JetStream consumer after it, runs the
 * pipeline, and closes both whatever happens.
 * @throws {CdcError} as `PostgresSink.open`, `JetStreamTransport.open` and `runMessagePipeline`.
 */
export async function replicateDebezium(options: ReplicateDebeziumOptions): Promise<MessageRunResult> {
  const sink = await PostgresSink.open({
    url: options.targetUrl,
    pipeline: options.name,
    log: options.log,
    ...(options.tableOptions ? { tableOptions: options.tableOptions } : {}),
    ...(options.schemaPolicy ? { schemaPolicy: options.schemaPolicy } : {}),
  });
  let transport: JetStreamTransport | undefined;
  try {
    await sink.prepare([]);
    const after = (await sink.mergedPosition()) ?? undefined;
    transport = await JetStreamTransport.open({
      url: options.natsUrl,
      stream: options.stream,
      durable: options.name,
      ...(options.subjects ? { subjects: options.subjects } : {}),
      ...(after === undefined ? {} : { after }),
    });
    const decodeOptions = {
      ...(options.binaryHandlingMode ? { binaryHandlingMode: options.binaryHandlingMode } : {}),
      ...(options.columnTypes && options.columnTypes.length > 0 ? { columnTypes: options.columnTypes } : {}),
    };
    const stream = transport;
    return await runMessagePipeline({
      // One stream: one partition, ''.
      transport: { fetch: (max, waitMs) => stream.fetch(max, waitMs), acknowledge: async (positions) => stream.acknowledge(positions.get('') ?? 0n) },
      sink: options.tableMapping ? mappedSink(sink, options.tableMapping) : sink,
      log: options.log,
      decode: (m) => decodeDebeziumRecord({ value: m.data, topic: m.subject, offset: m.sequence, options: decodeOptions }),
      ...(options.onInvalid ? { onInvalid: options.onInvalid } : {}),
      ...(options.keys || options.keyOf ? { keyOf: (t: { schema: string; name: string }) => options.keys?.[`${t.schema}.${t.name}`] ?? options.keyOf?.(t) } : {}),
      ...(options.routes ? { route: ((route) => (t: { schema: string; name: string }, m: { subject: string }) => route(t, m.subject))(compileRoutes(options.routes)) } : {}),
      ...(options.untilIdle ? { untilIdle: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.batchPolicy ? { batchPolicy: options.batchPolicy } : {}),
      ...(options.onStreaming ? { onStreaming: options.onStreaming } : {}),
    });
  } finally {
    await transport?.close();
    await sink.close();
  }
}
