/**
 * Checkpoints: where a source stands, as a sink stores it with the data it merged
 * (DESIGN.md §3.1–3.2).
 *
 * A source has one or more *partitions*, each with a totally ordered position of its own:
 *
 * | source                  | partition name     | position                                  |
 * | ----------------------- | ------------------ | ----------------------------------------- |
 * | PostgreSQL slot         | `''`               | LSN just past the last merged commit      |
 * | NATS JetStream stream   | `''`               | stream sequence of the last merged message |
 * | Kafka                   | `topic/partition`  | offset of the last merged record          |
 *
 * Positions of different partitions are never compared. A checkpoint may also carry
 * *watermarks*: per partition and origin (a Debezium connector, server and database), the highest
 * source position read, which a source uses to recognise events its connector sent twice.
 */
import type { PositionBytes } from './position.js';

/** The merged position of one source partition. */
export interface PartitionPosition {
  /** Partition name (see the module comment). */
  readonly partition: string;
  /** Position within the partition: LSN in bytes, stream sequence or offset. */
  readonly position: bigint;
  /** The same for people (`16/B374D848`, `seq 42`, `orders/3 offset 42`). */
  readonly text: string;
}

/** The highest source position read from one partition for one origin. */
export interface Watermark {
  /** The partition it was read from. */
  readonly partition: string;
  /** Whose log the position is in, e.g. `postgresql|dbserver1|inventory` (connector, server, database). */
  readonly origin: string;
  /** The source position, encoded as a row position (`src/events/position.ts`). */
  readonly position: PositionBytes;
  /** The same for people (`lsn 0/16E8B58 (last commit 0/16E8B20)`). */
  readonly text: string;
}

/** What a sink stored with the data it merged: the last merged position of each partition. */
export interface Checkpoint {
  /** By partition name. */
  readonly positions: ReadonlyMap<string, PartitionPosition>;
  /** By `partition` and `origin` joined with a NUL character (see {@link watermarkKey}). */
  readonly watermarks: ReadonlyMap<string, Watermark>;
}

/** A checkpoint with nothing merged yet. */
export const EMPTY_CHECKPOINT: Checkpoint = { positions: new Map(), watermarks: new Map() };

/** The map key of a watermark in {@link Checkpoint.watermarks}. */
export function watermarkKey(w: Pick<Watermark, 'partition' | 'origin'>): string {
  return `${w.partition}\u0000${w.origin}`;
}

/** The partitions and watermarks a batch moved, to store with it. */
export interface CheckpointUpdate {
  readonly positions: readonly PartitionPosition[];
  readonly watermarks: readonly Watermark[];
}
