/**
 * What the pipeline needs of a sink. A sink lands complete source transactions and merges
 * them, recording the merged position in the same target transaction (DESIGN.md §3.2–3.3).
 * Implementations live in `src/sinks/<kind>`; the pipeline never names one.
 */
import type { Readable } from 'node:stream';
import type { RowChangeMessage } from '../events/change.js';
import type { TableId, TableSchema } from '../schema/table.js';

/** Snapshot state of one table as the sink recorded it. */
export interface TableSnapshotState {
  readonly table: TableId;
  readonly state: 'pending' | 'copying' | 'done';
  /** Source position the snapshot saw (bytes of WAL); changes committed before it are in it. */
  readonly snapshotLsn: bigint | null;
  readonly rowsCopied: number;
}

/** A sink for one pipeline. */
export interface ChangeSink {
  /**
   * Creates the sink's infrastructure and any missing target tables for `tables`. Existing
   * tables are left as they are: schema changes arrive through the change stream, in order.
   */
  prepare(tables: readonly TableSchema[]): Promise<void>;
  /** The highest source position merged (bytes of WAL, exclusive end), or null before any. */
  mergedPosition(): Promise<bigint | null>;
  /**
   * The positions a message source stored with its batches, by partition name: the highest
   * merged broker position per source partition (`''` for a NATS JetStream stream,
   * `topic/partition` for Kafka), and source watermarks (`source:…`, see `SourceWatermarks`).
   * Empty before any batch committed.
   */
  mergedPartitionPositions(): Promise<ReadonlyMap<string, PartitionPosition>>;
  /** Snapshot state per table (tables never snapshotted are absent). */
  snapshotStates(): Promise<TableSnapshotState[]>;
  /** Empties the table's target copy and prepares it for snapshot rows at `snapshotLsn`. */
  beginTableSnapshot(table: TableSchema, snapshotLsn: bigint): Promise<void>;
  /**
   * Loads one chunk of snapshot rows given as COPY text in source column order; resolves to
   * the number of rows loaded. Chunks of one table may load concurrently.
   */
  loadSnapshotChunk(table: TableSchema, rows: Readable): Promise<number>;
  /** Marks the table's snapshot complete (same transaction as any finishing DDL). */
  finishTableSnapshot(table: TableSchema, snapshotLsn: bigint, rowsCopied: number): Promise<void>;
  /** Forgets all state for a full re-copy (`--resync`). */
  reset(): Promise<void>;
  /** Starts a batch: one target transaction. */
  openBatch(): Promise<SinkBatch>;
  /** Records a position reached without changes (idle source), so status shows it. */
  recordIdlePosition(lsn: bigint): Promise<void>;
  /**
   * Records an error that stopped the pipeline (after its batch was rolled back), for
   * operators reading the target. Best effort: never throws.
   */
  recordError(error: unknown): Promise<void>;
  /**
   * Sets aside a source message that cannot be decoded, with its raw bytes and the error
   * (message sources). Written on the batch's connection, so it commits with the open batch.
   */
  recordDeadLetter?(entry: DeadLetter): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Where a message source stands in one of its partitions. */
export interface PartitionPosition {
  /** `''` (a NATS JetStream stream) or `topic/partition` (Kafka). */
  readonly partition: string;
  /** Broker position of the last merged message: stream sequence or partition offset. */
  readonly position: bigint;
  /** The same for people (`seq 42`, `pg.public.orders/3 offset 42`). */
  readonly text: string;
}

/** A message that could not be decoded. */
export interface DeadLetter {
  /** Topic or subject. */
  readonly topic: string;
  /** Where it sits on the broker, for people (`seq 42`, `partition 3 offset 42`). */
  readonly brokerPosition: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** The decoding error, naming the field. */
  readonly error: string;
}

/** Statistics of one committed batch. */
export interface BatchStats {
  readonly transactions: number;
  readonly changes: number;
  readonly durationMs: number;
}

/**
 * One open batch. Calls arrive in source order; everything becomes visible at {@link commit}
 * or not at all.
 */
export interface SinkBatch {
  /** The table's shape from here on; applies schema changes before later rows (§3.8). */
  relation(table: TableSchema): Promise<void>;
  /**
   * A row change of the source transaction committed at `commitLsn`, at `commitTime`. Returns a
   * promise only when it has to wait (writing to the target); await it when given.
   */
  row(change: RowChangeMessage, commitLsn: bigint, commitTime: Date): Promise<void> | undefined;
  /** TRUNCATE barrier: merges what precedes it, then empties the tables (§3.7). */
  truncate(tables: readonly TableId[]): Promise<void>;
  /**
   * Merges everything, records `endLsn` as merged, commits the target transaction. Message
   * sources pass `positions`: the merged position of each source partition the batch read,
   * recorded instead of `endLsn` (which then only labels the batch in the processing log).
   */
  commit(endLsn: bigint, transactions: number, positions?: readonly PartitionPosition[]): Promise<BatchStats>;
  /** Abandons the batch. */
  rollback(): Promise<void>;
  /** Row changes received so far. */
  readonly changes: number;
}
