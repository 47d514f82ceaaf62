/**
 * What the pipeline needs of a source (DESIGN.md §2): start from a checkpoint, optionally copy a
 * snapshot first, yield change messages in source order, take acknowledgements of what is
 * merged, stop. Each kind (`src/sources/<kind>/`) owns its start-up (slots and publications,
 * consumers), its snapshot and its transaction framing; the pipeline sees only this interface.
 */
import type { Logger } from 'pino';
import type { ChangeMessage } from '../events/change.js';
import type { Checkpoint, PartitionPosition } from '../events/checkpoint.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProgressReporter } from '../observability/progress.js';
import type { TableSchema } from '../schema/table.js';
import type { SnapshotTarget, TableSnapshotState } from '../sinks/change-sink.js';

/** What {@link ChangeSource.start} is given. */
export interface SourceStartOptions {
  /** What the sink has merged: the stream resumes after it. */
  readonly checkpoint: Checkpoint;
  /**
   * The target's tables as the sink stored them (`ChangeSink.tables`): a source whose tables
   * arrive with its events starts from these shapes.
   */
  readonly targetTables?: readonly TableSchema[];
  /** The sink's snapshot state per table (a source that snapshots copies what is not done). */
  readonly snapshots: readonly TableSnapshotState[];
  /** Where snapshot rows go. */
  readonly snapshotTarget: SnapshotTarget;
  /**
   * The run ends once everything the source held at start is merged: the stream then reports
   * {@link ChangeStream.caughtUp}.
   */
  readonly untilCaughtUp: boolean;
  readonly log: Logger;
  readonly metrics?: Metrics;
  readonly progress?: ProgressReporter;
  /** Aborting interrupts a snapshot (CdcError INTERRUPTED) and the waits of the stream. */
  readonly signal?: AbortSignal;
}

/** What {@link ChangeSource.start} did before streaming. */
export interface SourceStarted {
  /** Rows copied by a snapshot (0 without one). */
  readonly snapshotRows: number;
  readonly stream: ChangeStream;
}

/** A source of change messages for one pipeline. */
export interface ChangeSource {
  /** For logs: `postgres`, `debezium over kafka`, … */
  readonly description: string;
  /**
   * Connects, checks the source and selects the tables known before streaming (PostgreSQL: the
   * selection, with its publication kept up to date; Debezium: none, tables arrive with the
   * events).
   * @throws {CdcError} for an unreachable or unsuitable source.
   */
  open(): Promise<readonly TableSchema[]>;
  /**
   * Drops the source-side state of the pipeline for a full re-copy (PostgreSQL: the slot). The
   * pipeline resets the sink first, so a crash in between leaves nothing half-forgotten.
   * Absent when the source cannot re-copy.
   */
  reset?(): Promise<void>;
  /**
   * Makes sure the stream can resume from `checkpoint`, copies a snapshot where the source takes
   * one, and starts streaming.
   * @throws {CdcError} when the source cannot resume from the checkpoint (a gap), and on
   *   interruption (INTERRUPTED).
   */
  start(options: SourceStartOptions): Promise<SourceStarted>;
  /** Releases connections (after the stream stopped). */
  close(): Promise<void>;
}

/** A running stream of change messages. */
export interface ChangeStream {
  /**
   * The next message if one is ready without waiting, else undefined (then call {@link next}).
   * Saves a promise per message on the hot path.
   */
  poll(): ChangeMessage | undefined;
  /**
   * The next message, or `'timeout'` when none arrived within `timeoutMs` ms.
   * @throws {CdcError} when the source fails (retryable ones are marked so).
   */
  next(timeoutMs: number): Promise<ChangeMessage | 'timeout'>;
  /** Everything up to these positions is durably merged: the source may let it go. */
  acknowledge(positions: readonly PartitionPosition[]): Promise<void>;
  /**
   * With `untilCaughtUp`: true once everything the source held at start is acknowledged. Asked
   * between transactions, after the pipeline has merged what it read.
   */
  caughtUp(): boolean;
  /** Stops streaming. */
  stop(): Promise<void>;
}
