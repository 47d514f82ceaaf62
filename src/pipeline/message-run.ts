/**
 * The pipeline for message sources (Debezium events on NATS JetStream or Kafka): broker
 * messages → decoded change records → batches → sink, acknowledging the broker only after the
 * sink committed (DESIGN.md §3.2).
 *
 * Positions: a broker has source partitions (one for a JetStream stream, `topic/partition` for
 * Kafka), each with a strictly increasing position (stream sequence, partition offset). The sink
 * stores each partition's last merged position with the data; messages at or below it are
 * skipped, so a redelivery changes nothing. A message's position is also the ordering key of its
 * row change: Debezium keeps every key of a table in one partition, in the connector's order
 * (DESIGN.md §3.1).
 *
 * With Debezium's transaction metadata, a batch never ends inside a source transaction, so the
 * target never shows part of one (§3.3, see `TransactionTracker`). A message that cannot be
 * decoded is set aside in the sink's dead-letter table with its raw bytes (in the same
 * transaction as the batch), or stops the pipeline, as configured.
 */
import type { Logger } from 'pino';
import { CdcError } from '../errors.js';
import type { DebeziumRecord } from '../events/debezium/index.js';
import type { Metrics } from '../observability/metrics.js';
import { sameShape, tableKey, type TableId, type TableSchema } from '../schema/table.js';
import { changeFromRecord, tableFromRecord } from '../sources/debezium/record-mapping.js';
import { batchFull, DEFAULT_BATCH_POLICY, type BatchPolicy } from './batch-policy.js';
import { CommitSlot } from './commit-slot.js';
import type { ChangeSink, PartitionPosition, SinkBatch } from './sink.js';
import { isWatermarkPartition, SourceWatermarks } from './source-watermarks.js';
import { TransactionTracker, type TransactionBoundaryMode } from './transaction-tracker.js';

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

/** What the pipeline needs of a broker. */
export interface MessageTransport {
  /** Up to `max` messages, each partition in order, waiting at most `waitMs` for the first. */
  fetch(max: number, waitMs: number): Promise<SourceMessage[]>;
  /** Every message up to the given position of each partition is merged. */
  acknowledge(positions: ReadonlyMap<string, bigint>): Promise<void>;
}

/** `seq 42` (JetStream) or `topic/3 offset 42` (Kafka): a message's position for people. */
export function describePosition(m: Pick<SourceMessage, 'partition' | 'sequence'>): string {
  return m.partition ? `${m.partition} offset ${m.sequence}` : `seq ${m.sequence}`;
}

/** Options for {@link runMessagePipeline}. */
export interface MessagePipelineOptions {
  readonly transport: MessageTransport;
  readonly sink: ChangeSink;
  readonly log: Logger;
  /** Decodes one message. Throws a CdcError for a message that cannot be decoded. */
  readonly decode: (message: SourceMessage) => DebeziumRecord;
  /** The target table of a change record (default: the record's own schema and table). */
  readonly route?: (table: TableId, message: SourceMessage) => TableId;
  /** Primary-key columns of a source table (source names) when the messages carry no record key. */
  readonly keyOf?: (table: TableId) => readonly string[] | undefined;
  /** `dead_letter` (default): set undecodable messages aside and go on; `stop`: fail. */
  readonly onInvalid?: 'dead_letter' | 'stop';
  readonly batchPolicy?: BatchPolicy;
  /**
   * How transaction metadata keeps batches whole (default `stream-order`; Kafka needs
   * `event-count`, see `TransactionTracker`).
   */
  readonly transactionBoundaries?: TransactionBoundaryMode;
  /** `event-count` only: change events of an END event that this pipeline reads. */
  readonly expectedTransactionEvents?: ConstructorParameters<typeof TransactionTracker>[1];
  /**
   * How long a batch waits for the missing events of a source transaction before it ends
   * anyway, with a warning, ms (default 60 000).
   */
  readonly transactionWaitMs?: number;
  /** Return once the broker has nothing more (after merging everything fetched). */
  readonly untilIdle?: boolean;
  readonly signal?: AbortSignal;
  readonly metrics?: Metrics;
  readonly onStreaming?: () => void;
}

/** What a finished run did. */
export interface MessageRunResult {
  readonly messages: number;
  readonly changes: number;
  readonly deadLettered: number;
  /** Change events skipped as copies the connector sent again (see `SourceWatermarks`). */
  readonly replayed: number;
  /** Highest broker position merged at the end (over all partitions; 0 before any). */
  readonly merged: bigint;
}

/**
 * Runs until aborted, until idle (with `untilIdle`), or until an unrecoverable error. The open
 * batch is merged before returning.
 * @throws {CdcError} DEBEZIUM_EVENT_INVALID with `onInvalid: 'stop'`, and the sink's errors.
 */
export async function runMessagePipeline(options: MessagePipelineOptions): Promise<MessageRunResult> {
  const { transport, sink, log } = options;
  const policy = options.batchPolicy ?? DEFAULT_BATCH_POLICY;
  const waitMs = options.transactionWaitMs ?? 60_000;
  await sink.prepare([]);
  const stored = await sink.mergedPartitionPositions();
  /** Per partition: the last position read (into the open or a committed batch). */
  const last = new Map([...stored.values()].filter((p) => !isWatermarkPartition(p.partition)).map((p) => [p.partition, p.position]));
  /** Drops the events a connector sent twice (after its own restart). */
  const watermarks = new SourceWatermarks(stored.values());
  let merged = [...last.values()].reduce((a, b) => (b > a ? b : a), 0n);
  const known = new Map<string, TableSchema>();
  let batch: SinkBatch | null = null;
  let openedAt = 0;
  let pendingMessages = 0;
  /** Partitions read into the open batch, with their last message (position text made at commit). */
  let touched = new Map<string, SourceMessage>();
  /** The commit time of the last row, reused while it repeats (the sink formats each new Date once). */
  let eventMs = Number.NaN;
  let eventTime = new Date(0);
  const transactions = new TransactionTracker(options.transactionBoundaries ?? 'stream-order', options.expectedTransactionEvents);
  const totals = { messages: 0, changes: 0, deadLettered: 0, replayed: 0 };

  // At most one batch commits at a time while the next one fills (the sink orders them); a
  // failed commit stops the loop at the next step.
  const commits = new CommitSlot();
  const commit = async (wait: boolean) => {
    if (batch) {
      const b = batch;
      const positions: PartitionPosition[] = [...touched].map(([partition, m]) => ({ partition, position: m.sequence, text: describePosition(m) }));
      const moved = watermarks.takeMoved();
      const count = pendingMessages;
      batch = null;
      pendingMessages = 0;
      touched = new Map();
      await commits.settle();
      if (count === 0) await b.rollback();
      else {
        const end = positions.reduce((a, p) => (p.position > a ? p.position : a), 0n);
        commits.start(b.commit(end, count, [...positions, ...moved]), async (stats) => {
          totals.messages += count;
          totals.changes += stats.changes;
          if (end > merged) merged = end;
          options.metrics?.batchMerged(stats);
          log.debug({ positions: positions.map((p) => p.text), ...stats }, 'batch merged');
          await transport.acknowledge(new Map(positions.map((p) => [p.partition, p.position])));
        });
      }
    }
    if (wait) await commits.settle();
  };

  /**
   * True when no source transaction holds the batch open. One that stayed incomplete past the
   * wait limit is let go first, with a warning.
   */
  const settled = (): boolean => {
    const oldest = transactions.oldest();
    if (!oldest) return true;
    if (Date.now() - oldest.sinceMs < waitMs) return false;
    log.warn(
      { transaction: oldest.id, seen: oldest.seen, expected: oldest.expected, waitedMs: Date.now() - oldest.sinceMs },
      'a source transaction stayed incomplete past the wait limit: ending the batch without its missing events (are all its tables and the transaction topic consumed?)',
    );
    transactions.abandon(oldest.id);
    return transactions.settled;
  };

  options.onStreaming?.();
  try {
    for (;;) {
      if (options.signal?.aborted) break;
      commits.check();
      const messages = await transport.fetch(1000, batch ? policy.idleMs : 1000);
      if (messages.length === 0) {
        // Inside a source transaction, wait for the rest of it (unless told to stop when idle).
        if (!options.untilIdle && !settled()) continue;
        await commit(true);
        if (options.untilIdle) break;
        continue;
      }
      for (const m of messages) {
        const partition = m.partition ?? '';
        const previous = last.get(partition);
        if (previous !== undefined && m.sequence <= previous) continue;
        if (!batch) {
          batch = await sink.openBatch();
          openedAt = Date.now();
        }
        let record: DebeziumRecord | null = null;
        try {
          record = options.decode(m);
        } catch (error) {
          if (options.onInvalid === 'stop' || !(error instanceof CdcError) || !sink.recordDeadLetter) throw error;
          await sink.recordDeadLetter({ topic: m.subject, brokerPosition: describePosition(m), key: m.key ?? null, value: m.data, error: error.message });
          totals.deadLettered++;
          options.metrics?.deadLetteredTotal.inc();
          log.warn({ subject: m.subject, position: describePosition(m), error: error.message }, 'message set aside in cdc_management.dead_letter');
        }
        if (record?.kind === 'transaction') {
          if (record.status === 'BEGIN') transactions.begin(record.id, Date.now());
          else transactions.end(record, Date.now());
        } else if (record?.kind === 'change') {
          if (record.transaction) transactions.change(record.transaction.id, Date.now());
          if (watermarks.isReplay(partition, record)) {
            totals.replayed++;
            options.metrics?.replayedTotal.inc();
            log.debug({ subject: m.subject, position: describePosition(m), source: record.position.text }, 'skipped a change the connector sent again');
            record = null;
          }
        }
        if (record?.kind === 'change') {
          const id = options.route ? options.route(record.table, m) : record.table;
          const table = tableFromRecord(record, id, options.keyOf?.(record.table));
          const key = tableKey(id);
          const before = known.get(key);
          if (!before || !sameShape(before, table)) {
            await batch.relation(table);
            known.set(key, table);
          }
          const change = changeFromRecord(record, table, () => `${m.subject} ${describePosition(m)}`);
          if (change.kind === 'truncate') await batch.truncate(change.tables);
          else {
            const ms = record.timestampMs ?? m.timestampMs;
            if (ms !== eventMs) {
              eventMs = ms;
              eventTime = new Date(ms);
            }
            const writing = batch.row(change, m.sequence, eventTime);
            if (writing) await writing;
            options.metrics?.captured(change.table, change.kind);
          }
        }
        last.set(partition, m.sequence);
        touched.set(partition, m);
        pendingMessages++;
        if (batchFull(policy, batch.changes, openedAt) && settled()) await commit(false);
      }
    }
    await commit(true);
  } catch (error) {
    if (batch) await batch.rollback().catch(() => undefined);
    await commits.drain();
    await sink.recordError(error);
    throw error;
  }
  return { ...totals, merged };
}
