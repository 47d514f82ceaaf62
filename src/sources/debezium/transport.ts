/**
 * What the Debezium source needs of a broker (NATS JetStream, Kafka): messages in order per
 * source partition, and acknowledgement of what is merged.
 */

/** One broker message. */
export interface SourceMessage {
  /** Subject (NATS) or topic (Kafka). */
  readonly subject: string;
  /** Source partition: `''` for a JetStream stream, `topic/partition` for Kafka. Default `''`. */
  readonly partition?: string;
  /** Broker position (stream sequence, partition offset): strictly increasing in its partition. */
  readonly sequence: bigint;
  /** The record key, when the broker carries one (Kafka). */
  readonly key?: Uint8Array | null;
  /** The record value; null for a Kafka tombstone. */
  readonly data: Uint8Array | null;
  /** When the broker received it, ms since epoch. */
  readonly timestampMs: number;
}

/** A broker consumer. */
export interface MessageTransport {
  /** Up to `max` messages, each partition in order, waiting at most `waitMs` ms for the first. */
  fetch(max: number, waitMs: number): Promise<SourceMessage[]>;
  /** Every message up to the given position of each partition is merged. */
  acknowledge(positions: ReadonlyMap<string, bigint>): Promise<void>;
}

/** `seq 42` (JetStream) or `topic/3 offset 42` (Kafka): a message's position for people. */
export function describePosition(m: Pick<SourceMessage, 'partition' | 'sequence'>): string {
  return m.partition ? `${m.partition} offset ${m.sequence}` : `seq ${m.sequence}`;
}
