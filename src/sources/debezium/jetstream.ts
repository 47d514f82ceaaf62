/**
 * NATS JetStream as a transport of Debezium events (Debezium Server's NATS JetStream sink):
 * one stream, read through a durable pull consumer named after the pipeline.
 *
 * Exactly-once comes from the target, not from the consumer's redelivery (DESIGN.md §3.2): the
 * stream sequence of the last merged message is stored with the data, and at start the durable
 * consumer is re-created to deliver from the next sequence. Messages are acknowledged (ack policy
 * `all`: acknowledging a message acknowledges every earlier one) only after the batch holding them
 * committed, so a stream with interest or work-queue retention keeps them until then.
 * @see https://docs.nats.io/nats-concepts/jetstream/consumers
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { CdcError, redactUrl } from '../../errors.js';
import { redactText } from '../../redact.js';
import type { MessageTransport, SourceMessage } from './transport.js';
import { ArrivalSignal } from './arrival.js';

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
}

const NANOS_PER_MS = 1_000_000;
/** Messages the continuous pull keeps requested from the server. */
const PULL_BATCH = 1000;

/** A connected JetStream consumer. */
export class JetStreamTransport implements MessageTransport {
  /** Fetched messages not acknowledged yet, in stream order (bounded by the open batches). */
  private pending: JsMsg[] = [];
  /** Their stream sequences, in the same order (read once, compared as numbers). */
  private pendingSequences: number[] = [];
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
  ) {
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
   * Connects, checks the stream, and (re-)creates the durable pull consumer to deliver after
   * `options.after`.
   * @throws {CdcError} CONNECTION_FAILED (retryable) when the server is unreachable;
   *   STREAM_NOT_FOUND when the stream does not exist.
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
      await streamInfo(jsm, options.stream, redactUrl(options.url));
      // The target's merged position decides where to start: drop the consumer's own state.
      await jsm.consumers.delete(options.stream, options.durable).catch(() => undefined);
      const created = await jsm.consumers.add(options.stream, {
        durable_name: options.durable,
        ack_policy: AckPolicy.All,
        ack_wait: (options.ackWaitMs ?? 600_000) * NANOS_PER_MS,
        max_ack_pending: -1,
        ...(options.after === undefined || options.after === 0n
          ? { deliver_policy: DeliverPolicy.All }
          : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(options.after + 1n) }),
        ...(options.subjects && options.subjects.length > 0 ? { filter_subjects: [...options.subjects] } : {}),
      });
      const consumer = await jetstream(nc).consumers.get(options.stream, options.durable);
      return new JetStreamTransport(nc, await consumer.consume({ max_messages: PULL_BATCH }), options.stream, created.num_pending, options.url);
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
      this.pending.push(m);
      this.pendingSequences.push(info.streamSequence);
      out[i] = { subject: m.subject, sequence: BigInt(info.streamSequence), data: m.data, timestampMs: Math.floor(info.timestampNanos / NANOS_PER_MS) };
    }
    return out;
  }

  /**
   * Acknowledges every message up to and including the merged stream sequence (call after the
   * batch holding them committed; a stream is one source partition, `''`): the latest fetched
   * message at or below it carries the ack, which under ack policy `all` covers the earlier ones.
   * Best effort: a lost ack only delays the consumer's ack floor; the next start begins after the
   * target's merged position anyway.
   */
  async acknowledge(positions: ReadonlyMap<string, bigint>): Promise<void> {
    const sequence = positions.get('');
    if (sequence === undefined) return;
    // Stream sequences are below 2^53 in practice (the client itself reads them as numbers).
    const limit = Number(sequence);
    const sequences = this.pendingSequences;
    let i = 0;
    while (i < sequences.length && sequences[i]! <= limit) i++;
    if (i === 0) return;
    const carrier = this.pending[i - 1]!;
    this.pending = this.pending.slice(i);
    this.pendingSequences = sequences.slice(i);
    await carrier.ackAck().catch(() => false);
  }

  /** Closes the connection (unacknowledged messages stay with the durable consumer). */
  async close(): Promise<void> {
    this.ended = true;
    this.space?.();
    await this.messages.close().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
  }
}

async function streamInfo(jsm: JetStreamManager, stream: string, url: string): Promise<void> {
  try {
    await jsm.streams.info(stream);
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
