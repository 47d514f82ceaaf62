/**
 * The pipeline for message sources (Debezium events on NATS JetStream; Kafka later): broker
 * messages → decoded change records → batches → sink, acknowledging the broker only after the
 * sink committed (DESIGN.md §3.2).
 *
 * Ordering key: the broker position (the JetStream stream sequence), a total order over the
 * stream that follows the connector's own order (DESIGN.md §3.1). With Debezium's transaction
 * metadata on the stream, a batch never ends between a transaction's BEGIN and END events, so
 * the target never shows part of a source transaction (§3.3). Each message becomes one
 * position; the sink stores the last merged one with the data, and messages at or below it are
 * skipped, so a redelivery changes nothing. A message that cannot be decoded is set aside in the
 * sink's dead-letter table with its raw bytes (in the same transaction as the batch), or stops
 * the pipeline, as configured.
 */
import type { Logger } from 'pino';
import { CdcError } from '../errors.js';
import type { DebeziumRecord } from '../events/debezium/index.js';
import type { Metrics } from '../observability/metrics.js';
import { sameShape, tableKey, type TableId, type TableSchema } from '../schema/table.js';
import { changeFromRecord, tableFromRecord } from '../sources/debezium/record-mapping.js';
import { batchFull, DEFAULT_BATCH_POLICY, type BatchPolicy } from './batch-policy.js';
import { CommitSlot } from './commit-slot.js';
import type { ChangeSink, SinkBatch } from './sink.js';

/** One broker message. */
export interface SourceMessage {
  readonly subject: string;
  /** Broker position (stream sequence): strictly increasing. */
  readonly sequence: bigint;
  readonly data: Uint8Array;
  readonly timestampMs: number;
}

/** What the pipeline needs of a broker. */
export interface MessageTransport {
  /** Up to `max` messages in order, waiting at most `waitMs` for the first. */
  fetch(max: number, waitMs: number): Promise<SourceMessage[]>;
  /** Every message up to `sequence` is merged. */
  acknowledge(sequence: bigint): Promise<void>;
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
  /** Broker position merged at the end. */
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
  await sink.prepare([]);
  let merged = (await sink.mergedPosition()) ?? 0n;
  const known = new Map<string, TableSchema>();
  let batch: SinkBatch | null = null;
  let openedAt = 0;
  let pendingMessages = 0;
  let last = merged;
  /**
   * The source transaction whose BEGIN was seen and whose END was not (Debezium transaction
   * metadata, `provide.transaction.metadata=true`): no batch ends inside it (DESIGN.md §3.3).
   */
  let openTransaction: string | undefined;
  const totals = { messages: 0, changes: 0, deadLettered: 0 };

  // At most one batch commits at a time while the next one fills (the sink orders them); a
  // failed commit stops the loop at the next step.
  const commits = new CommitSlot();
  const commit = async (wait: boolean) => {
    if (batch) {
      const b = batch;
      const end = last;
      const count = pendingMessages;
      batch = null;
      pendingMessages = 0;
      await commits.settle();
      if (count === 0) await b.rollback();
      else {
        commits.start(b.commit(end, count), async (stats) => {
          totals.messages += count;
          totals.changes += stats.changes;
          merged = end;
          options.metrics?.batchMerged(stats);
          log.debug({ position: end.toString(), ...stats }, 'batch merged');
          await transport.acknowledge(end);
        });
      }
    }
    if (wait) await commits.settle();
  };

  options.onStreaming?.();
  try {
    for (;;) {
      if (options.signal?.aborted) break;
      commits.check();
      const messages = await transport.fetch(1000, batch ? policy.idleMs : 1000);
      if (messages.length === 0) {
        // Inside a source transaction, wait for its END (unless told to stop when idle).
        if (openTransaction !== undefined && !options.untilIdle) continue;
        await commit(true);
        if (options.untilIdle) break;
        continue;
      }
      for (const m of messages) {
        if (m.sequence <= last) continue;
        if (!batch) {
          batch = await sink.openBatch();
          openedAt = Date.now();
        }
        let record: DebeziumRecord | null = null;
        try {
          record = options.decode(m);
        } catch (error) {
          if (options.onInvalid === 'stop' || !(error instanceof CdcError) || !sink.recordDeadLetter) throw error;
          await sink.recordDeadLetter({ topic: m.subject, brokerPosition: `seq ${m.sequence}`, key: null, value: m.data, error: error.message });
          totals.deadLettered++;
          log.warn({ subject: m.subject, sequence: m.sequence.toString(), error: error.message }, 'message set aside in cdc_management.dead_letter');
        }
        if (record?.kind === 'transaction') {
          openTransaction = record.status === 'BEGIN' ? record.id : undefined;
        } else if (record?.kind === 'change') {
          const id = options.route ? options.route(record.table, m) : record.table;
          const table = tableFromRecord(record, id, options.keyOf?.(record.table));
          const key = tableKey(id);
          const before = known.get(key);
          if (!before || !sameShape(before, table)) {
            await batch.relation(table);
            known.set(key, table);
          }
          const change = changeFromRecord(record, table, `${m.subject} seq ${m.sequence}`);
          if (change.kind === 'truncate') await batch.truncate(change.tables);
          else {
            const writing = batch.row(change, m.sequence, new Date(record.timestampMs ?? m.timestampMs));
            if (writing) await writing;
            options.metrics?.captured(change.table, change.kind);
          }
        }
        last = m.sequence;
        pendingMessages++;
        if (openTransaction === undefined && batchFull(policy, batch.changes, openedAt)) await commit(false);
      }
    }
    await commit(true);
  } catch (error) {
    if (batch) await (batch as SinkBatch).rollback().catch(() => undefined);
    await commits.drain();
    await sink.recordError(error);
    throw error;
  }
  return { ...totals, merged };
}
