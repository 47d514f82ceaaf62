/**
 * Kafka as a transport of Debezium events (Kafka Connect with a Debezium source connector), read
 * through a consumer group with @platformatic/kafka (pure TypeScript; brokers 3.5 and later).
 *
 * Exactly-once comes from the target, not from the group (DESIGN.md §3.2): the offset of the
 * last merged message of every partition is stored with the data, and the pipeline skips what
 * is at or below it. A start reads every partition from right after that offset (from its log
 * start where the target has none: a Debezium topic starts with the snapshot), whatever the
 * group committed. Offsets are committed to the group only after the batch holding the messages
 * committed (auto-commit is off), so the group never runs ahead of the target; they serve the
 * start check, lag monitoring and Kafka's own tools.
 *
 * One `cdc run` per group: partitions of one table must not be merged by two processes.
 * @see https://kafka.apache.org/documentation/#consumerconfigs
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Admin, Consumer, type Message, type MessagesStream, type SASLMechanismValue } from '@platformatic/kafka';
import { CdcError } from '../../errors.js';
import type { TransactionFraming } from './transaction-tracker.js';
import type { MessageTransport, SourceMessage } from './transport.js';
import { ArrivalSignal } from './arrival.js';
import { checkKafkaStart, kafkaStartOffsets, type KafkaPartitionFacts, type KafkaStartOffset } from './kafka-start.js';

/** SASL credentials (`security.protocol=SASL_*`). */
export interface KafkaSasl {
  readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly username: string;
  readonly password: string;
}

/**
 * TLS to the brokers: PEM files of the certificate authorities to trust (default: Node's
 * bundled roots), and of a client certificate and its key for brokers that ask for one
 * (`ssl.client.auth=required`).
 */
export interface KafkaTls {
  /** PEM file of the CA certificate(s) that signed the brokers' certificates. */
  readonly caFile?: string;
  /** PEM file of the client certificate (with `keyFile`). */
  readonly certFile?: string;
  /** PEM file of the client certificate's private key (unencrypted). */
  readonly keyFile?: string;
  /** The name the brokers' certificates must carry, when it is not the broker address's host. */
  readonly serverName?: string;
}

/**
 * Node TLS options of {@link KafkaTls}: the files read.
 * @throws {CdcError} CONFIG_INVALID naming the setting and the file when one cannot be read.
 */
export function kafkaTlsOptions(tls: true | KafkaTls): ConnectionOptions {
  if (tls === true) return {};
  const read = (file: string | undefined, setting: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (cause) {
      throw new CdcError('CONFIG_INVALID', `debezium.kafka.tls.${setting}: cannot read ${file}: ${(cause as Error).message}`, { cause, remedy: 'give the path of a PEM file this user can read' });
    }
  };
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new CdcError('CONFIG_INVALID', 'debezium.kafka.tls: cert_file and key_file go together', { remedy: 'give both (a client certificate and its key), or neither' });
  }
  const ca = read(tls.caFile, 'ca_file');
  const cert = read(tls.certFile, 'cert_file');
  const key = read(tls.keyFile, 'key_file');
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(tls.serverName ? { servername: tls.serverName } : {}) };
}

/** Options for {@link KafkaTransport.open}. */
export interface KafkaTransportOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** Consumer group id (the pipeline name). */
  readonly groupId: string;
  /** Topics to read. At least one of `topics` and `topicPattern`. */
  readonly topics?: readonly string[];
  /**
   * A regular expression over topic names (e.g. `^dbserver1\.inventory\.`), matched once at
   * start against the cluster's topics (internal topics excluded).
   */
  readonly topicPattern?: string;
  /** TLS to the brokers (`security.protocol=SSL`, or `SASL_SSL` with `sasl`): true for the default trust, or files. */
  readonly tls?: boolean | KafkaTls;
  readonly sasl?: KafkaSasl;
  /**
   * Group session timeout, ms (default 30 000): how long the broker waits for a silent member
   * before it gives its partitions to others. A `cdc run` that crashed, or lost a broker for
   * longer than the client's retries (about 12 s), could not leave the group; the next consumer
   * is assigned the partitions only once that old member's session ran out, so a smaller value
   * resumes sooner, at the cost of rebalances on a slow network. The broker accepts
   * `group.min.session.timeout.ms` to `group.max.session.timeout.ms` (6 000 to 300 000 by default).
   */
  readonly sessionTimeoutMs?: number;
  /** Client id sent to the brokers (default `cdc-merge <groupId>`). */
  readonly clientId?: string;
  /**
   * The target's merged offset per source partition (`topic/partition`): checked at start
   * against the brokers' log start and end offsets and the group's committed offsets
   * ({@link checkKafkaStart}). Omitted: no check.
   */
  readonly after?: ReadonlyMap<string, bigint>;
  /** Pipeline name, for the remedies of start-up errors (default: `groupId`). */
  readonly pipeline?: string;
}

/** Messages buffered from the consumer stream before it is paused. */
const BUFFER_HIGH = 2000;

/** `topic/partition`: the source partition name the pipeline and the target's offsets use. */
export function kafkaPartition(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/**
 * Splits a source partition name back into topic and partition.
 * @throws {Error} when `name` is not `topic/<integer>`.
 */
export function parseKafkaPartition(name: string): { topic: string; partition: number } {
  const slash = name.lastIndexOf('/');
  const partition = Number(name.slice(slash + 1));
  if (slash <= 0 || !Number.isInteger(partition) || partition < 0) throw new Error(`not a Kafka source partition: ${JSON.stringify(name)}`);
  return { topic: name.slice(0, slash), partition };
}

/**
 * The topics to read: `topics` plus every topic of `available` that `pattern` matches, sorted
 * and without duplicates.
 * @throws {CdcError} CONFIG_INVALID when the pattern is not a regular expression;
 *   TOPIC_NOT_FOUND when no topic is left.
 */
export function selectTopics(options: Pick<KafkaTransportOptions, 'topics' | 'topicPattern' | 'brokers'>, available: readonly string[]): string[] {
  const selected = new Set(options.topics ?? []);
  if (options.topicPattern !== undefined) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(options.topicPattern);
    } catch (cause) {
      throw new CdcError('CONFIG_INVALID', `debezium.kafka.topic_pattern ${JSON.stringify(options.topicPattern)} is not a regular expression: ${(cause as Error).message}`, {
        cause,
        remedy: 'write a JavaScript regular expression, e.g. ^dbserver1\\.inventory\\.',
      });
    }
    for (const t of available) if (pattern.test(t)) selected.add(t);
  }
  if (selected.size === 0) {
    throw new CdcError('TOPIC_NOT_FOUND', `no Kafka topic to read at ${options.brokers.join(',')}${options.topicPattern === undefined ? '' : `: none matches ${JSON.stringify(options.topicPattern)}`}`, {
      remedy: 'list the topics under debezium.kafka.topics, or fix topic_pattern (Debezium names topics <topic.prefix>.<schema>.<table>)',
    });
  }
  return [...selected].sort();
}

/** A consumer-group member reading Debezium topics. */
export class KafkaTransport implements MessageTransport {
  private readonly buffer: Message[] = [];
  private readonly arrival = new ArrivalSignal();
  private failure: unknown;
  private ended = false;
  private paused = false;

  private constructor(
    private readonly consumer: Consumer,
    private readonly stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
    /** The topics read. */
    readonly topics: readonly string[],
  ) {
    stream.on('data', (m: Message) => {
      this.buffer.push(m);
      this.arrival.notify();
      // Backpressure: stop fetching while the pipeline is behind.
      if (this.buffer.length >= BUFFER_HIGH && !this.paused) {
        this.paused = true;
        stream.pause();
      }
    });
    stream.on('error', (error: unknown) => {
      this.failure = error;
      this.ended = true;
      this.arrival.notify();
    });
    stream.on('close', () => {
      this.ended = true;
      this.arrival.notify();
    });
  }

  /**
   * Connects, resolves the topics, checks the partitions against the target's offsets
   * (`options.after`), joins the group and starts fetching each partition right after the
   * target's offset ({@link kafkaStartOffsets}); without `options.after`, from the group's
   * committed offsets (earliest where there are none).
   * @throws {CdcError} CONNECTION_FAILED (retryable) when no broker answers; TOPIC_NOT_FOUND and
   *   CONFIG_INVALID as {@link selectTopics}; BROKER_RETENTION_GAP, BROKER_TARGET_AHEAD and
   *   KAFKA_GROUP_AHEAD as {@link checkKafkaStart}.
   */
  static async open(options: KafkaTransportOptions): Promise<KafkaTransport> {
    const base = {
      clientId: options.clientId ?? `cdc-merge ${options.groupId}`,
      bootstrapBrokers: [...options.brokers],
      ...(options.tls ? { tls: kafkaTlsOptions(options.tls) } : {}),
      ...(options.sasl ? { sasl: { mechanism: options.sasl.mechanism as SASLMechanismValue, username: options.sasl.username, password: options.sasl.password } } : {}),
    };
    const where = options.brokers.join(',');
    let topics: string[];
    try {
      let available: string[] = [];
      if (options.topicPattern !== undefined) {
        const admin = new Admin(base);
        try {
          available = await admin.listTopics();
        } finally {
          await admin.close().catch(() => undefined);
        }
      }
      topics = selectTopics(options, available);
    } catch (error) {
      throw error instanceof CdcError ? error : connectionFailed(where, error);
    }
    let start: KafkaStartOffset[] = [];
    if (options.after !== undefined) {
      let facts: KafkaPartitionFacts[];
      try {
        facts = await readStartFacts(base, options.groupId, topics, options.after);
      } catch (error) {
        throw connectionFailed(where, error);
      }
      checkKafkaStart(facts, { groupId: options.groupId, brokers: options.brokers, pipeline: options.pipeline ?? options.groupId });
      start = kafkaStartOffsets(facts);
    }
    const consumer = new Consumer({ ...base, groupId: options.groupId });
    try {
      const stream = await consumer.consume({
        topics,
        // Each checked partition starts after the target's offset; any other (a topic created
        // since, a partition added) at its earliest offset.
        ...(start.length > 0 ? { mode: 'manual' as const, offsets: start.map((o) => ({ ...o })) } : { mode: 'committed' as const }),
        fallbackMode: 'earliest',
        autocommit: false,
        sessionTimeout: options.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: Math.max(1000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10)),
        maxWaitTime: 500,
      });
      return new KafkaTransport(consumer, stream, topics);
    } catch (error) {
      await closeConsumer(consumer);
      throw connectionFailed(where, error);
    }
  }

  /**
   * Up to `max` messages (each partition in offset order), waiting at most `waitMs` for the
   * first; an empty array when none came.
   * @throws {CdcError} CONNECTION_FAILED (retryable) when the consumer stopped.
   */
  async fetch(max: number, waitMs: number): Promise<SourceMessage[]> {
    if (this.buffer.length === 0 && !this.ended) await this.arrival.wait(waitMs);
    if (this.buffer.length === 0 && this.ended) {
      throw new CdcError('CONNECTION_FAILED', `the Kafka consumer of group ${JSON.stringify(this.consumer.groupId)} stopped: ${this.failure === undefined ? 'closed' : describeKafkaError(this.failure)}`, {
        cause: this.failure,
        retryable: true,
        remedy: 'check the brokers; the pipeline resumes after the merged offsets',
      });
    }
    const taken = this.buffer.splice(0, max);
    if (this.paused && this.buffer.length < BUFFER_HIGH / 2) {
      this.paused = false;
      this.stream.resume();
    }
    return taken.map(toSourceMessage);
  }

  /**
   * Commits, for every partition, the offset after its last merged message to the group (call
   * after the batch committed). Best effort: a lost commit changes nothing at the next start,
   * which reads from the target's offsets.
   */
  async acknowledge(positions: ReadonlyMap<string, bigint>): Promise<void> {
    const offsets = [...positions].map(([name, position]) => ({ ...parseKafkaPartition(name), offset: position + 1n, leaderEpoch: -1 }));
    if (offsets.length === 0) return;
    await this.consumer.commit({ offsets }).catch(() => undefined);
  }

  /** Leaves the group and closes the connections (uncommitted messages are read again). */
  async close(): Promise<void> {
    this.ended = true;
    await this.stream.close().catch(() => undefined);
    await closeConsumer(this.consumer);
  }
}

/**
 * Reads, for every partition of `topics`, its log start and end offsets and the group's
 * committed offset, with the target's merged offset from `after`.
 */
async function readStartFacts(base: ConstructorParameters<typeof Admin>[0], groupId: string, topics: readonly string[], after: ReadonlyMap<string, bigint>): Promise<KafkaPartitionFacts[]> {
  const admin = new Admin(base);
  try {
    // Partition counts; a topic that does not exist (yet) has nothing to check here.
    const counts = new Map<string, number>();
    for (const name of topics) {
      try {
        counts.set(name, (await admin.metadata({ topics: [name] })).topics.get(name)?.partitionsCount ?? 0);
      } catch (error) {
        if (!/unknown topic/i.test((error as Error).message)) throw error;
      }
    }
    const present = [...counts.keys()];
    if (present.length === 0) return [];
    const requests = (timestamp: bigint) => present.map((name) => ({ name, partitions: Array.from({ length: counts.get(name)! }, (_, partitionIndex) => ({ partitionIndex, timestamp })) }));
    const offsetsAt = async (timestamp: bigint) => {
      const byName = new Map<string, bigint>();
      for (const t of await admin.listOffsets({ topics: requests(timestamp) })) for (const p of t.partitions) byName.set(kafkaPartition(t.name, p.partitionIndex), p.offset);
      return byName;
    };
    const earliest = await offsetsAt(EARLIEST);
    const latest = await offsetsAt(LATEST);
    const committed = new Map<string, bigint>();
    for (const g of await admin.listConsumerGroupOffsets({ groups: [groupId] })) {
      for (const t of g.topics) for (const p of t.partitions) if (p.committedOffset >= 0n) committed.set(kafkaPartition(t.name, p.partitionIndex), p.committedOffset);
    }
    return [...earliest].map(([name, logStart]) => {
      const { topic, partition } = parseKafkaPartition(name);
      const merged = after.get(name);
      const group = committed.get(name);
      return { topic, partition, logStart, logEnd: latest.get(name) ?? logStart, ...(merged === undefined ? {} : { merged }), ...(group === undefined ? {} : { committed: group }) };
    });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** ListOffsets timestamps: the log start offset, and the log end offset. */
const EARLIEST = -2n;
const LATEST = -1n;

/** Closes a consumer (leaving its group), ignoring errors. */
function closeConsumer(consumer: Consumer): Promise<void> {
  return new Promise((resolve) => consumer.close(true, () => resolve()));
}

function toSourceMessage(m: Message): SourceMessage {
  return {
    subject: m.topic,
    partition: kafkaPartition(m.topic, m.partition),
    sequence: m.offset,
    key: m.key && m.key.length > 0 ? m.key : null,
    data: m.value && m.value.length > 0 ? m.value : null,
    timestampMs: Number(m.timestamp),
  };
}

/**
 * A client error's message with the messages of the errors it carries (@platformatic/kafka's
 * `ResponseError` says only which API failed; its `errors` name the broker's error codes and
 * the partitions).
 */
function describeKafkaError(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = ((cause as { errors?: unknown[] }).errors ?? []).map((e) => (e instanceof Error ? `${e.message}${describeProtocolError(e)}` : String(e)));
  return [cause.message, ...inner].join('; ');
}

/** ` [<broker error code>] (at <path>)` for a protocol error, e.g. ` [OFFSET_OUT_OF_RANGE] (at /responses/0/partitions/0)`. */
function describeProtocolError(error: Error): string {
  const { apiId, path } = error as { apiId?: unknown; path?: unknown };
  return (typeof apiId === 'string' ? ` [${apiId}]` : '') + (typeof path === 'string' && path !== '' ? ` (at ${path})` : '');
}

/** Errors in `cause`'s chain (its `cause`s and the `errors` it aggregates), depth first. */
function errorChain(cause: unknown, seen = new Set<unknown>()): Error[] {
  if (!(cause instanceof Error) || seen.has(cause)) return [];
  seen.add(cause);
  const nested = [(cause as { cause?: unknown }).cause, ...((cause as { errors?: unknown[] }).errors ?? [])];
  return [cause, ...nested.flatMap((c) => errorChain(c, seen))];
}

/** Node's codes for a certificate the client does not trust or that does not name the broker. */
const TLS_TRUST_CODES = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

function connectionFailed(where: string, cause: unknown): CdcError {
  const detail = describeKafkaError(cause);
  const chain = errorChain(cause);
  // Credentials and certificates do not get better by retrying: say so and stop.
  if (chain.some((e) => (e as { code?: unknown }).code === 'PLT_KFK_AUTHENTICATION')) {
    return new CdcError('AUTHENTICATION_FAILED', `the Kafka brokers at ${where} refused the SASL login: ${detail}`, {
      cause,
      remedy: 'check debezium.kafka.sasl: the mechanism the listener takes (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), the user and the password (write it as ${VAR})',
    });
  }
  const tls = chain.find((e) => TLS_TRUST_CODES.has(String((e as { code?: unknown }).code)));
  if (tls) {
    return new CdcError('TLS_UNTRUSTED', `the Kafka brokers at ${where} sent a certificate this client does not trust: ${tls.message} [${String((tls as { code?: unknown }).code)}]`, {
      cause,
      remedy: 'give the CA that signed the brokers\' certificates in debezium.kafka.tls.ca_file (PEM), or tls.server_name when the certificate names another host',
    });
  }
  return new CdcError('CONNECTION_FAILED', `cannot consume from Kafka at ${where}: ${detail}`, {
    cause,
    retryable: true,
    remedy: 'check that the brokers run (Kafka 3.5 or later), that the addresses are right, and TLS/SASL settings',
  });
}

/**
 * Transaction boundaries on Kafka: when the topics include Debezium's transaction topic
 * (`<topic.prefix>.transaction`), a transaction is complete once its END event and, for each
 * consumed table it names, that many change events of the table (by the table in their source
 * block) arrived; without it, no boundary can be kept and none is waited for. A table is consumed
 * when its topic `<topic.prefix>.<data_collection>` is among the topics, or once one of its
 * events was read (topics renamed by a router, such as Debezium's topic routing SMT).
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-transaction-metadata
 * @see https://debezium.io/documentation/reference/stable/transformations/topic-routing.html
 */
export function kafkaTransactionBoundaries(topics: readonly string[]): TransactionFraming | undefined {
  const transactionTopic = topics.find((t) => t.endsWith('.transaction'));
  if (transactionTopic === undefined) return undefined;
  const prefix = transactionTopic.slice(0, -'.transaction'.length);
  const consumed = new Set(topics);
  return { mode: 'event-count', consumes: (collection) => consumed.has(`${prefix}.${collection}`) };
}
