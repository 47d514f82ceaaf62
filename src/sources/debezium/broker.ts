/**
 * Where the Debezium events are (NATS JetStream or Kafka), and how to open a consumer there that
 * resumes after a checkpoint: the transport, the decoder settings and the transaction framing of
 * each broker kind.
 */
import type { Checkpoint } from '../../events/checkpoint.js';
import { decodeDebeziumRecord, type BinaryHandlingMode, type TableColumnTypes } from '../../events/debezium/index.js';
import { JetStreamTransport } from './jetstream.js';
import { KafkaTransport, kafkaTransactionBoundaries, parseKafkaPartition, type KafkaSasl, type KafkaTls } from './kafka.js';
import type { BrokerConnection } from './source.js';

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
      /** Consumer-group session timeout, ms (default 30 000; see `KafkaTransportOptions.sessionTimeoutMs`). */
      readonly sessionTimeoutMs?: number;
      readonly tls?: boolean | KafkaTls;
      readonly sasl?: KafkaSasl;
      /** Client id sent to the brokers (default `cdc-merge <group id>`). */
      readonly clientId?: string;
    };

/** How events read (Debezium connector settings the events do not carry). */
export interface DecodeSettings {
  /** PostgreSQL column types per source table, for events without an embedded schema. */
  readonly columnTypes?: readonly TableColumnTypes[];
  readonly binaryHandlingMode?: BinaryHandlingMode;
}

/**
 * A function that opens a consumer on `broker` for pipeline `name` (the durable consumer or the
 * consumer group) resuming after a checkpoint.
 * @returns for `DebeziumSourceOptions.connect`; the returned function throws the connection
 *   errors of `JetStreamTransport.open` and `KafkaTransport.open`.
 */
export function brokerConnector(broker: DebeziumBroker, name: string, settings: DecodeSettings = {}): (checkpoint: Checkpoint) => Promise<BrokerConnection> {
  const options = {
    ...(settings.binaryHandlingMode ? { binaryHandlingMode: settings.binaryHandlingMode } : {}),
    ...(settings.columnTypes && settings.columnTypes.length > 0 ? { columnTypes: settings.columnTypes } : {}),
  };
  if (broker.kind === 'nats') {
    return async (checkpoint) => {
      const after = checkpoint.positions.get('')?.position;
      const stream = await JetStreamTransport.open({
        url: broker.url,
        stream: broker.stream,
        durable: name,
        pipeline: name,
        ...(broker.subjects ? { subjects: broker.subjects } : {}),
        ...(after === undefined ? {} : { after }),
      });
      return {
        transport: stream,
        decode: (m) => decodeDebeziumRecord({ value: m.data, topic: m.subject, offset: m.sequence, options }),
        close: () => stream.close(),
      };
    };
  }
  return async (checkpoint) => {
    const kafka = await KafkaTransport.open({
      brokers: broker.brokers,
      groupId: broker.groupId ?? name,
      pipeline: name,
      after: mergedOffsets(checkpoint),
      ...(broker.topics ? { topics: broker.topics } : {}),
      ...(broker.topicPattern !== undefined ? { topicPattern: broker.topicPattern } : {}),
      ...(broker.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: broker.sessionTimeoutMs } : {}),
      ...(broker.tls ? { tls: broker.tls } : {}),
      ...(broker.sasl ? { sasl: broker.sasl } : {}),
      ...(broker.clientId !== undefined ? { clientId: broker.clientId } : {}),
    });
    const transactions = kafkaTransactionBoundaries(kafka.topics);
    return {
      transport: kafka,
      decode: (m) =>
        decodeDebeziumRecord({
          key: m.key ?? null,
          value: m.data,
          topic: m.subject,
          ...(m.partition ? { partition: parseKafkaPartition(m.partition).partition } : {}),
          offset: m.sequence,
          options,
        }),
      ...(transactions ? { transactions } : {}),
      close: () => kafka.close(),
    };
  };
}

/** The target's merged offset per source partition (`topic/partition` on Kafka), from its checkpoint. */
export function mergedOffsets(checkpoint: Checkpoint): Map<string, bigint> {
  return new Map([...checkpoint.positions].map(([partition, p]) => [partition, p.position]));
}
