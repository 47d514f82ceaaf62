/**
 * NATS JetStream as a transport of Debezium events (Debezium Server's NATS JetStream sink):
 * one stream, read through a durable pull consumer named after the pipeline.
 *
 * Exactly-once comes from the target, not from the consumer's redelivery (DESIGN.md §3.2): the
 * stream sequence of the last merged message is stored with the data, and messages at or below it
 * are skipped. Messages are acknowledged (ack policy `all`: acknowledging a message acknowledges
 * every earlier one) only after the batch holding them committed, so a stream with interest or
 * work-queue retention keeps them until then.
 *
 * At start ({@link planJetStreamStart}):
 * - the stream must still hold every message after the target's position: when its first
 *   sequence is past the next one (limits aged them out, a purge, or acknowledged-and-removed
 *   under interest retention), the start stops with BROKER_RETENTION_GAP; when its last sequence
 *   is below the target's position (the stream was re-created), with BROKER_TARGET_AHEAD;
 * - the durable consumer is kept as it is when it has handed out nothing past the target's
 *   position and nothing it handed out waits for an acknowledgement. Deleting it would make an
 *   interest-retention stream drop every message it alone held, the ones published while
 *   cdc-merge was stopped among them. Only when it delivered past
 *   the target's position (messages of a batch that never committed, or a target restored from a
 *   backup), waits for acknowledgements (the server would redeliver them only after the ack
 *   wait), or its settings differ is it re-created to deliver right after the target's
 *   position; on an interest-retention stream a temporary consumer holds the messages meanwhile.
 * @see https://docs.nats.io/nats-concepts/jetstream/consumers
 * @see https://docs.nats.io/nats-concepts/jetstream/streams#retentionpolicy
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, type ConsumerConfig, type ConsumerInfo, type ConsumerMessages, type JetStreamManager, type JsMsg, type StreamInfo } from '@nats-io/jetstream';
import { CdcError, redactUrl } from '../../errors.js';
import { redactText } from '../../redact.js';
import type { MessageTransport, SourceMessage } from './transport.js';
import { ArrivalSignal } from './arrival.js';
import { AckCarriers } from './ack-carriers.js';

/** Options for {@link JetStreamTransport.open}. */
export interface JetStreamTransportOptions {
  /** `nats://host:port` (comma-separated for a cluster). */
  readonly url: string;
  /** The stream Debezium Server publishes to. */
  readonly stream: string;
  /** Durable consumer name (the pipeline name). */
  readonly durable: string;
  /** Subjects to read (default: every subject of the stream). */
  readonly subjects?: readonly string[];
  /**
   * Stream sequence of the last merged message (from the target); delivery starts after it.
   * Absent: from the first message of the stream.
   */
  readonly after?: bigint;
  /** How long a delivered message may stay unacknowledged before redelivery, ms (default 10 min). */
  readonly ackWaitMs?: number;
  /**
   * The most fetched, unacknowledged messages remembered to carry acknowledgements (default
   * 1024, about 100 bytes each; see {@link AckCarriers}): the pending-ack list is bounded.
   */
  readonly ackCarriers?: number;
  /** Pipeline name, for the remedies of start-up errors (default: `durable`). */
  readonly pipeline?: string;
}

/** What {@link planJetStreamStart} needs to know of the stream and the durable consumer. */
export interface JetStreamStartFacts {
  readonly stream: string;
  /** The target's merged stream sequence (0: nothing merged). */
  readonly after: bigint;
  /** The stream's first and last sequence (`state.first_seq`, `state.last_seq`) and message count. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly messages: number;
  /**
   * True when only acknowledgements remove messages (interest or work-queue retention without
   * max_msgs, max_msgs_per_subject, max_bytes or max_age): a consumer then keeps what it has not acknowledged.
   */
  readonly removedOnlyByAcks: boolean;
  /** The durable consumer, when it exists. */
  readonly consumer?: {
    /** Its settings are the ones this transport creates (ack policy, filter subjects). */
    readonly compatible: boolean;
    /** Stream sequence of the last message it delivered (`delivered.stream_seq`). */
    readonly delivered: number;
    /** Stream sequence up to which everything is acknowledged (`ack_floor.stream_seq`). */
    readonly ackFloor: number;
    /** Messages delivered and not acknowledged (`num_ack_pending`): redelivered only after the ack wait. */
    readonly ackPending: number;
  };
  /** Pipeline name, for the remedy. */
  readonly pipeline: string;
}

/** What to do with the durable consumer at start. */
export type JetStreamStartPlan = { readonly consumer: 'keep' | 'create' | 'reposition' };

/**
 * Decides how a JetStream consumer starts after the target's position (pure; see the module
 * comment): keep the durable consumer, create it, or re-create it at `after + 1`.
 * @throws {CdcError} BROKER_RETENTION_GAP when the stream no longer holds the messages right
 *   after the target's position (its first sequence is past `after + 1`), naming both sequences;
 *   BROKER_TARGET_AHEAD when the stream ends before the target's position (it was re-created).
 */
export function planJetStreamStart(f: JetStreamStartFacts): JetStreamStartPlan {
  const next = f.after + 1n;
  if (f.after > BigInt(f.lastSeq)) {
    throw new CdcError(
      'BROKER_TARGET_AHEAD',
      `the target has merged JetStream stream ${JSON.stringify(f.stream)} up to seq ${f.after}, but the stream ends at seq ${f.lastSeq}: it was deleted and re-created (or the target belongs to another stream); its new messages would all be skipped`,
      {
        remedy: `resync into a fresh target (a new target database, or drop the tables and the rows of pipeline ${f.pipeline} in cdc_management.offsets and cdc_management.watermarks), or point debezium.nats.stream at the stream the target came from`,
        context: { stream: f.stream, merged: f.after.toString(), last: f.lastSeq },
      },
    );
  }
  // Our own unacknowledged messages cannot have been removed: whatever is missing below the first
  // sequence was someone else's (another subject acknowledged by its consumers).
  const heldByUs = f.removedOnlyByAcks && f.consumer !== undefined && f.consumer.compatible && BigInt(f.consumer.ackFloor) <= f.after;
  if (f.after > 0n && next < BigInt(f.firstSeq) && !heldByUs) {
    const lost = BigInt(f.firstSeq) - 1n === next ? `seq ${next}` : `seq ${next} to ${f.firstSeq - 1}`;
    throw new CdcError(
      'BROKER_RETENTION_GAP',
      `JetStream stream ${JSON.stringify(f.stream)} no longer holds the messages after the target's position: the target merged up to seq ${f.after}, the first message the stream holds is seq ${f.firstSeq}; ${lost} were removed (limits, a purge, or acknowledged under interest retention) and were never merged`,
      {
        remedy:
          `resync: replay every event into a fresh target (a new target database, or drop the tables and the rows of pipeline ${f.pipeline} in cdc_management.offsets and cdc_management.watermarks) from a stream that holds them, e.g. after a new Debezium snapshot; ` +
          `or accept the gap knowingly: UPDATE cdc_management.offsets SET position = ${f.firstSeq - 1} WHERE pipeline = '${f.pipeline}' AND source_partition = ''`,
        context: { stream: f.stream, merged: f.after.toString(), first: f.firstSeq },
      },
    );
  }
  if (!f.consumer) return { consumer: 'create' };
  if (!f.consumer.compatible || BigInt(f.consumer.delivered) > f.after || f.consumer.ackPending > 0) return { consumer: 'reposition' };
  return { consumer: 'keep' };
}

const NANOS_PER_MS = 1_000_000;
const ACK = new TextEncoder().encode('+ACK');
const ACK_TIMEOUT_MS = 5000;
/** Messages the continuous pull keeps requested from the server. */
const PULL_BATCH = 1000;

/** A connected JetStream consumer. */
export class JetStreamTransport implements MessageTransport {
  /** Ack carriers of the fetched messages not acknowledged yet: bounded, payloads not kept. */
  private readonly carriers: AckCarriers;
  /** Messages received from the server and not yet handed out (at most one pull's worth). */
  private readonly buffer: JsMsg[] = [];
  private readonly arrival = new ArrivalSignal();
  private space: (() => void) | undefined;
  private failure: unknown;
  private ended = false;
  /**
   * True when the server had nothing more for the consumer after the last message it delivered
   * (that message's `num_pending` was 0), or, before any message, when the consumer was created
   * with nothing pending. See {@link fetch}.
   */
  private drained: boolean;
  /** Whether {@link fetch} has already returned early for a drained consumer (it does so once). */
  private drainReported = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly messages: ConsumerMessages,
    /** The stream's name. */
    readonly stream: string,
    /** Messages the consumer had to deliver when it was created (its `num_pending`). */
    pendingAtOpen: number,
    url: string,
    ackCarriers: number,
  ) {
    this.carriers = new AckCarriers(ackCarriers);
    this.drained = pendingAtOpen === 0;
    // A lost connection ends this consumer (issue 11 item 14): messages the server sent while
    // the client was away are delivered again only after the ack wait, and a later
    // acknowledgement (ack policy `all`) would cover them unseen. The pipeline's retry opens a new
    // consumer after the merged position instead, so nothing is skipped.
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type !== 'disconnect' && s.type !== 'staleConnection') continue;
        this.failure ??= new CdcError('CONNECTION_LOST', `lost the connection to NATS at ${redactUrl(url)} (${s.type})`, {
          retryable: true,
          remedy: 'cdc-merge reconnects with backoff and resumes after the merged position; if it persists, check the NATS server',
        });
        this.ended = true;
        this.space?.();
        this.arrival.notify();
        return;
      }
    })().catch(() => undefined);
    // One continuous pull (the client keeps up to `PULL_BATCH` messages requested); the
    // pipeline takes them from the buffer at its own pace.
    void (async () => {
      try {
        for await (const m of messages) {
          this.buffer.push(m);
          this.drained = m.info.pending === 0;
          this.arrival.notify();
          // Backpressure: stop taking from the client while the pipeline is behind.
          while (this.buffer.length >= 2 * PULL_BATCH && !this.ended) await new Promise<void>((resolve) => (this.space = resolve));
        }
      } catch (error) {
        this.failure ??= error;
      } finally {
        this.ended = true;
        this.arrival.notify();
      }
    })();
  }

  /**
   * Connects, checks that the stream still holds everything after `options.after`, and keeps,
   * creates or re-creates the durable pull consumer to deliver after it (see the module comment).
   * @throws {CdcError} CONNECTION_FAILED (retryable) when the server is unreachable;
   *   STREAM_NOT_FOUND when the stream does not exist; BROKER_RETENTION_GAP and
   *   BROKER_TARGET_AHEAD as {@link planJetStreamStart}.
   */
  static async open(options: JetStreamTransportOptions): Promise<JetStreamTransport> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.url.split(','), name: `cdc-merge ${options.durable}`, reconnect: true, maxReconnectAttempts: -1 });
    } catch (cause) {
      throw new CdcError('CONNECTION_FAILED', `cannot connect to NATS at ${redactUrl(options.url)}: ${redactText((cause as Error).message)}`, {
        cause,
        retryable: true,
        remedy: 'check that nats-server runs with JetStream (-js) and that the URL is right',
      });
    }
    try {
      const jsm = await jetstreamManager(nc);
      const info = await streamInfo(jsm, options.stream, redactUrl(options.url));
      const existing = await consumerInfo(jsm, options.stream, options.durable);
      const after = options.after ?? 0n;
      const subjects = options.subjects && options.subjects.length > 0 ? [...options.subjects] : undefined;
      const limits = info.config;
      const plan = planJetStreamStart({
        stream: options.stream,
        after,
        firstSeq: info.state.first_seq,
        lastSeq: info.state.last_seq,
        messages: info.state.messages,
        removedOnlyByAcks:
          limits.retention !== RetentionPolicy.Limits && !(limits.max_msgs > 0) && !(limits.max_bytes > 0) && !(limits.max_age > 0) && !(limits.max_msgs_per_subject > 0),
        ...(existing
          ? { consumer: { compatible: compatible(existing.config, subjects), delivered: existing.delivered.stream_seq, ackFloor: existing.ack_floor.stream_seq, ackPending: existing.num_ack_pending } }
          : {}),
        pipeline: options.pipeline ?? options.durable,
      });
      const config: Partial<ConsumerConfig> = {
        durable_name: options.durable,
        ack_policy: AckPolicy.All,
        ack_wait: (options.ackWaitMs ?? 600_000) * NANOS_PER_MS,
        max_ack_pending: -1,
        ...(after === 0n ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(after + 1n) }),
        ...(subjects ? { filter_subjects: subjects } : {}),
      };
      let pending: number;
      if (plan.consumer === 'keep') pending = existing!.num_pending;
      else if (plan.consumer === 'create') pending = (await jsm.consumers.add(options.stream, config)).num_pending;
      else pending = await reposition(jsm, options.stream, config, limits.retention === RetentionPolicy.Interest);
      const consumer = await jetstream(nc).consumers.get(options.stream, options.durable);
      return new JetStreamTransport(nc, await consumer.consume({ max_messages: PULL_BATCH }), options.stream, pending, options.url, options.ackCarriers ?? 1024);
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Up to `max` messages in stream order, waiting at most `waitMs` for the first; an empty array
   * when none came.
   *
   * The first time everything the server held for the consumer has been handed out (the last
   * message delivered said nothing was pending after it, or the consumer started with nothing
   * pending), the call returns the empty array at once instead of waiting: nothing is on its
   * way. So a catch-up (`untilIdle`) ends as soon as the backlog is merged, as the PostgreSQL
   * source's `--until-caught-up` does, rather than after one more full wait. Only the first time:
   * later, a caller that waits for messages keeps its own rhythm (a short wait groups messages
   * that trickle in into one batch).
   * @throws {CdcError} CONNECTION_LOST (retryable) once the connection to the server was lost,
   *   also with messages still buffered (they are delivered again after the merged position);
   *   CONNECTION_FAILED (retryable) when the consumer stopped.
   */
  async fetch(max: number, waitMs: number): Promise<SourceMessage[]> {
    if (this.buffer.length === 0 && this.drained && !this.drainReported && !this.ended) {
      this.drainReported = true;
      return [];
    }
    if (this.buffer.length === 0 && !this.ended) await this.arrival.wait(waitMs);
    // Let the rest of a delivery that just arrived reach the buffer.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failure instanceof CdcError && this.failure.code === 'CONNECTION_LOST') throw this.failure;
    if (this.buffer.length === 0 && this.ended) {
      throw new CdcError('CONNECTION_FAILED', `the JetStream consumer of stream ${this.stream} stopped: ${(this.failure as Error | undefined)?.message ?? 'closed'}`, {
        cause: this.failure,
        retryable: true,
        remedy: 'check the NATS server; the pipeline resumes after the merged position',
      });
    }
    const taken = this.buffer.splice(0, max);
    this.space?.();
    this.space = undefined;
    const out = new Array<SourceMessage>(taken.length);
    for (let i = 0; i < taken.length; i++) {
      const m = taken[i]!;
      const info = m.info;
      this.carriers.add(info.streamSequence, replyOf(m));
      out[i] = { subject: m.subject, sequence: BigInt(info.streamSequence), data: m.data, timestampMs: Math.floor(info.timestampNanos / NANOS_PER_MS) };
    }
    return out;
  }

  /**
   * Acknowledges every message up to and including the merged stream sequence (call after the
   * batch holding them committed; a stream is one source partition, `''`): the newest kept ack
   * carrier at or below it carries the ack, which under ack policy `all` covers the earlier ones.
   * Best effort: a lost ack only delays the consumer's ack floor; the next start begins after the
   * target's merged position anyway.
   */
  async acknowledge(positions: ReadonlyMap<string, bigint>): Promise<void> {
    const sequence = positions.get('');
    if (sequence === undefined) return;
    // Stream sequences are below 2^53 in practice (the client itself reads them as numbers).
    const carrier = this.carriers.take(Number(sequence));
    if (carrier === undefined) return;
    // What JsMsg.ackAck sends: +ACK to the message's reply subject, answered by the server.
    await this.nc.request(carrier.reply, ACK, { timeout: ACK_TIMEOUT_MS }).catch(() => undefined);
  }

  /** Ack carriers held now (at most `ackCarriers`; see {@link AckCarriers}). */
  get unacknowledgedCarriers(): number {
    return this.carriers.size;
  }

  /** Closes the connection (unacknowledged messages stay with the durable consumer). */
  async close(): Promise<void> {
    this.ended = true;
    this.space?.();
    await this.messages.close().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
  }
}

/**
 * The ack subject of a delivered message. The client's message object has it (`JsMsg.ackAck`
 * answers to it) but its published type does not; the nats tests acknowledge through it.
 */
function replyOf(m: JsMsg): string {
  const reply = (m as JsMsg & { readonly reply?: unknown }).reply;
  if (typeof reply !== 'string' || reply === '') throw new Error(`JetStream message seq ${m.info.streamSequence} has no ack subject`);
  return reply;
}

/** True when an existing consumer has the settings this transport gives it (a pull consumer, ack policy `all`, the same subjects; delivery start aside). */
function compatible(config: ConsumerConfig, subjects: readonly string[] | undefined): boolean {
  if (config.ack_policy !== AckPolicy.All || config.deliver_subject) return false;
  const have = [...(config.filter_subjects ?? []), ...(config.filter_subject ? [config.filter_subject] : [])].sort();
  const want = [...(subjects ?? [])].sort();
  return have.length === want.length && have.every((s, i) => s === want[i]);
}

/** The durable consumer's state, or undefined when it does not exist. */
async function consumerInfo(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

/**
 * Re-creates the durable consumer with `config` (it delivers right after the target's position).
 * On an interest-retention stream a temporary consumer with the same subjects and start holds
 * the messages while the durable is away (a stream drops the messages no consumer is interested
 * in); it is removed at once, and by the server after 60 s should this process die first.
 * @returns the new consumer's pending messages.
 */
async function reposition(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>, interest: boolean): Promise<number> {
  let holder: string | undefined;
  if (interest) {
    const { durable_name: _name, ...rest } = config;
    holder = (await jsm.consumers.add(stream, { ...rest, inactive_threshold: 60_000 * NANOS_PER_MS })).name;
  }
  try {
    await jsm.consumers.delete(stream, config.durable_name!);
    return (await jsm.consumers.add(stream, config)).num_pending;
  } finally {
    if (holder !== undefined) await jsm.consumers.delete(stream, holder).catch(() => undefined);
  }
}

async function streamInfo(jsm: JetStreamManager, stream: string, url: string): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(stream);
  } catch (cause) {
    const message = (cause as Error).message;
    if (/not found/i.test(message)) {
      throw new CdcError('STREAM_NOT_FOUND', `NATS at ${url} has no JetStream stream ${JSON.stringify(stream)}`, {
        cause,
        remedy: 'create it (Debezium Server creates it when debezium.sink.nats-jetstream.create-stream=true), or fix the stream name',
      });
    }
    throw cause;
  }
}
