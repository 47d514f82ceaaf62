/**
 * What the pipeline needs of a sink (DESIGN.md §2, §3): it lands complete source transactions
 * and merges them, storing the checkpoint in the same commit as the data. Implementations live
 * in `src/sinks/<kind>/`; the pipeline sees only this interface and the capability flags.
 */
import type { Readable } from 'node:stream';
import type { DeadLetter, RowChangeMessage } from '../events/change.js';
import type { Checkpoint, CheckpointUpdate, PartitionPosition } from '../events/checkpoint.js';
import type { PositionBase, PositionBytes } from '../events/position.js';
import type { TableId, TableSchema } from '../schema/table.js';

/**
 * What a sink can do, so that callers ask instead of testing its kind (Kysely's adapter flags).
 */
export interface SinkCapabilities {
  /**
   * All tables of a batch commit atomically, in one transaction (PostgreSQL). Without it (Delta,
   * Iceberg) a batch is one commit per table, each carrying the batch's checkpoint (§3.3).
   */
  readonly multiTableAtomicCommit: boolean;
  /** Schema changes commit in the same transaction as the rows that follow them. */
  readonly transactionalDdl: boolean;
  /** External writers may fill the sink's staging and have it merged later (`cdc merge-worker`). */
  readonly deferredMerge: boolean;
  /**
   * The form of snapshot chunks {@link SnapshotTarget.loadSnapshotChunk} reads: PostgreSQL's
   * COPY text format (`copy-text`) or typed rows (`typed-rows`).
   */
  readonly snapshotFormat: 'copy-text' | 'typed-rows';
  /**
   * The form of row values the writer takes: `postgresql-text`, the change model's values as
   * sources send them (the PostgreSQL → PostgreSQL fast path: nothing is decoded), or `typed`,
   * which the writer decodes itself by each column's logical type with the one shared decoder
   * (`typedRowDecoder`, src/events/values/typed-row.ts).
   */
  readonly valueEncoding: 'postgresql-text' | 'typed';
}

/** Snapshot state of one table as the sink recorded it. */
export interface TableSnapshotState {
  /** The table as the source names it. */
  readonly table: TableId;
  readonly state: 'pending' | 'copying' | 'done';
  /**
   * The row position of the snapshot's rows (PostgreSQL: `[consistent point LSN]`): changes
   * that sort below it are in the snapshot already. Null when not recorded.
   */
  readonly snapshotPosition: PositionBytes | null;
  readonly rowsCopied: number;
  /**
   * The source's identity of the table the copy was read from (PostgreSQL: the relation's OID
   * as text), or null when not recorded (copies made before release 0.3). A different identity
   * now means the table was dropped and re-created, or another table took its name: the copy
   * no longer describes it.
   */
  readonly sourceIdentity: string | null;
}

/** The part of a sink that loads an initial copy of tables (a source's snapshot drives it). */
export interface SnapshotTarget {
  readonly capabilities: SinkCapabilities;
  /**
   * Empties the table's target copy and prepares it for snapshot rows at `position` (every row
   * loaded gets that row position). `sourceIdentity` is recorded with the state (see
   * {@link TableSnapshotState.sourceIdentity}).
   */
  beginTableSnapshot(table: TableSchema, position: PositionBase, sourceIdentity?: string): Promise<void>;
  /**
   * Loads one chunk of snapshot rows in the sink's {@link SinkCapabilities.snapshotFormat}, in
   * source column order; resolves to the number of rows loaded. Chunks of one table may load
   * concurrently.
   */
  loadSnapshotChunk(table: TableSchema, rows: Readable): Promise<number>;
  /** Marks the table's snapshot complete. */
  finishTableSnapshot(table: TableSchema, position: PositionBase, rowsCopied: number): Promise<void>;
  /**
   * Marks the table's copy as not done (state `pending`), so that every later start copies it
   * again until a copy finishes. A source calls it before it starts capturing a table again
   * that it stopped capturing for a while (the table left the selection, or was dropped and
   * re-created): a crash in between then still leads to a fresh copy.
   */
  forgetTableSnapshot(table: TableSchema): Promise<void>;
}

/** A sink for one pipeline. */
export interface ChangeSink extends SnapshotTarget {
  /**
   * Creates the sink's infrastructure and any missing target tables for `tables`, and upgrades
   * what an older release created. Existing tables are left as they are: schema changes arrive
   * through the change stream, in order.
   */
  prepare(tables: readonly TableSchema[]): Promise<void>;
  /** The checkpoint stored with the merged data (empty before any batch committed). */
  checkpoint(): Promise<Checkpoint>;
  /**
   * The target tables as the sink last stored their definitions (after {@link prepare}), for
   * sources whose tables arrive with the events. Optional: a sink without it gives none.
   */
  tables?(): Promise<readonly TableSchema[]>;
  /** Snapshot state per table (tables never snapshotted are absent). */
  snapshotStates(): Promise<TableSnapshotState[]>;
  /** Forgets the stored checkpoint and snapshot states, for a full re-copy (`--resync`). */
  reset(): Promise<void>;
  /**
   * Starts a batch. Without `isolateRows`, a row the target rejects fails the batch (its
   * commit, or the write that hit it) with CdcError `ROW_REJECTED`.
   */
  openBatch(options?: BatchOptions): Promise<SinkBatch>;
  /** Stores positions reached without changes (an idle source), so that restarts and status see them. */
  recordPositions(positions: readonly PartitionPosition[]): Promise<void>;
  /**
   * Records an error that stopped the pipeline (after its batch was rolled back), or that
   * stopped it at start-up, for operators reading the target. Best effort: never throws; a
   * target without its management tables yet records nothing.
   */
  recordError(error: unknown): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Statistics of one committed batch. */
export interface BatchStats {
  /** Source transactions completed in the batch. */
  readonly transactions: number;
  /** Source messages consumed (broker messages; 0 for a PostgreSQL slot). */
  readonly messages: number;
  /** Row changes landed (before dedup). */
  readonly changes: number;
  readonly durationMs: number;
  /** Row changes the target rejected and the batch set aside in its dead-letter table (isolated batches only). */
  readonly rejectedRows?: number;
}

/** How a batch is opened (see {@link ChangeSink.openBatch}). */
export interface BatchOptions {
  /**
   * Writes each row change on its own (a savepoint per row) and sets a row the target rejects
   * (a value out of range, a NUL byte, a constraint) aside in the dead-letter table with its
   * table, position and error, instead of failing the batch. Slow: the pipeline asks for it only
   * over the span where a batch failed with `ROW_REJECTED`.
   */
  readonly isolateRows?: boolean;
}

/** What {@link SinkBatch.commit} is told besides the checkpoint. */
export interface BatchCounts {
  readonly transactions: number;
  readonly messages: number;
}

/**
 * One open batch. Calls arrive in source order; everything becomes visible at {@link commit}
 * or not at all.
 */
export interface SinkBatch {
  /** The table's shape from here on; applies schema changes before later rows (§3.8). */
  relation(table: TableSchema): Promise<void>;
  /**
   * A row change. Returns a promise only when it has to wait (writing to the target); await it
   * when given.
   */
  row(change: RowChangeMessage): Promise<void> | undefined;
  /** TRUNCATE barrier: merges what precedes it, then empties the tables (§3.7). */
  truncate(tables: readonly TableId[]): Promise<void>;
  /** Sets a message that could not be decoded aside, committed with the batch. */
  deadLetter(entry: DeadLetter): Promise<void>;
  /** Merges everything, stores `checkpoint` with it, and commits. */
  commit(checkpoint: CheckpointUpdate, counts: BatchCounts): Promise<BatchStats>;
  /** Abandons the batch. */
  rollback(): Promise<void>;
  /** Row changes received so far. */
  readonly changes: number;
}
