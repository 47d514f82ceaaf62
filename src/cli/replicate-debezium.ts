/**
 * The composition root of `cdc run` with a `debezium` source: Debezium events on NATS JetStream
 * or Kafka into the PostgreSQL sink, through `runMessagePipeline` (one code path above the
 * transport).
 */
import type { Logger } from 'pino';
import { decodeDebeziumRecord, type BinaryHandlingMode, type TableColumnTypes } from '../events/debezium/index.js';
import type { Metrics } from '../observability/metrics.js';
import type { BatchPolicy } from '../pipeline/batch-policy.js';
import { mappedSink, type TableMapping } from '../pipeline/mapped-sink.js';
import { runMessagePipeline, type MessagePipelineOptions, type MessageRunResult, type MessageTransport } from '../pipeline/message-run.js';
import type { SchemaChangePolicy } from '../sinks/postgres/schema-change.js';
import { PostgresSink } from '../sinks/postgres/sink.js';
import type { TableOptions } from '../sinks/postgres/table-ddl.js';
import { JetStreamTransport } from '../sources/debezium/jetstream.js';
import { KafkaTransport, kafkaTransactionBoundaries, parseKafkaPartition, type KafkaSasl } from '../sources/debezium/kafka.js';
import { compileRoutes } from '../sources/debezium/routing.js';

/** Where the Debezium events are. */
export type DebeziumBroker =
  | {
      readonly kind: 'nats';
      readonly url: string;
      readonly stream: string;
      readonly subjects?: readonly string[];
    }
  | {
      readonly kind: 'kafka';
      readonly brokers: readonly string[];
      readonly topics?: readonly string[];
      readonly topicPattern?: string;
      /** Consumer group (default: the pipeline name). */
      readonly groupId?: string;
      readonly tls?: boolean;
      readonly sasl?: KafkaSasl;
    };

/** Options for {@link replicateDebezium}. */
export interface ReplicateDebeziumOptions {
  readonly broker: DebeziumBroker;
  readonly targetUrl: string;
  /** Pipeline name: the durable consumer or consumer group, and the target's offsets rows. */
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
 * Opens the sink, reads its merged positions, opens the broker's consumer, runs the pipeline,
 * and closes both whatever happens.
 * @throws {CdcError} as `PostgresSink.open`, `JetStreamTransport.open`, `KafkaTransport.open` and
 *   `runMessagePipeline`.
 */
export async function replicateDebezium(options: ReplicateDebeziumOptions): Promise<MessageRunResult> {
  const sink = await PostgresSink.open({
    url: options.targetUrl,
    pipeline: options.name,
    log: options.log,
    ...(options.tableOptions ? { tableOptions: options.tableOptions } : {}),
    ...(options.schemaPolicy ? { schemaPolicy: options.schemaPolicy } : {}),
  });
  let close: (() => Promise<void>) | undefined;
  try {
    await sink.prepare([]);
    const decodeOptions = {
      ...(options.binaryHandlingMode ? { binaryHandlingMode: options.binaryHandlingMode } : {}),
      ...(options.columnTypes && options.columnTypes.length > 0 ? { columnTypes: options.columnTypes } : {}),
    };
    let transport: MessageTransport;
    let transactions: Pick<MessagePipelineOptions, 'transactionBoundaries' | 'expectedTransactionEvents'> = {};
    let decode: MessagePipelineOptions['decode'];
    const broker = options.broker;
    if (broker.kind === 'nats') {
      const after = (await sink.mergedPartitionPositions()).get('')?.position;
      const stream = await JetStreamTransport.open({
        url: broker.url,
        stream: broker.stream,
        durable: options.name,
        ...(broker.subjects ? { subjects: broker.subjects } : {}),
        ...(after === undefined ? {} : { after }),
      });
      close = () => stream.close();
      transport = stream;
      decode = (m) => decodeDebeziumRecord({ value: m.data, topic: m.subject, offset: m.sequence, options: decodeOptions });
    } else {
      const kafka = await KafkaTransport.open({
        brokers: broker.brokers,
        groupId: broker.groupId ?? options.name,
        ...(broker.topics ? { topics: broker.topics } : {}),
        ...(broker.topicPattern !== undefined ? { topicPattern: broker.topicPattern } : {}),
        ...(broker.tls ? { tls: true } : {}),
        ...(broker.sasl ? { sasl: broker.sasl } : {}),
      });
      close = () => kafka.close();
      transport = kafka;
      transactions = kafkaTransactionBoundaries(kafka.topics);
      decode = (m) =>
        decodeDebeziumRecord({
          key: m.key ?? null,
          value: m.data,
          topic: m.subject,
          ...(m.partition ? { partition: parseKafkaPartition(m.partition).partition } : {}),
          offset: m.sequence,
          options: decodeOptions,
        });
    }
    options.log.info({ broker: broker.kind }, 'reading Debezium events');
    return await runMessagePipeline({
      transport,
      sink: options.tableMapping ? mappedSink(sink, options.tableMapping) : sink,
      log: options.log,
      decode,
      ...transactions,
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
    await close?.();
    await sink.close();
  }
}
