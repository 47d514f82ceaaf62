/**
 * The change model: the only thing sources and sinks share besides {@link TableSchema} and the
 * checkpoint (`checkpoint.ts`).
 *
 * A source emits a stream of {@link ChangeMessage}s. Between two `commit` boundaries lie whole
 * source transactions, in commit order (DESIGN.md §3.3); a `begin` says a transaction has
 * started (so nothing may end a batch until the next `commit`). Values are in PostgreSQL's text
 * representation (the output function of the column's type), which is what pgoutput sends and
 * what COPY's text format reads back; every column also has a logical type for sinks that need
 * typed values.
 */
import type { TableId, TableSchema } from '../schema/table.js';
import type { PartitionPosition, Watermark } from './checkpoint.js';
import type { PositionBase } from './position.js';

/**
 * Marks a column whose value did not change and was not sent: pgoutput's 'u' (an unchanged
 * TOASTed value) or Debezium's `__debezium_unavailable_value`. A sink keeps the target's
 * current value for it (DESIGN.md §3.5); it never writes NULL or a placeholder.
 */
export const UNCHANGED: unique symbol = Symbol('cdc.unchanged');

/** One column value: text representation, SQL NULL, or {@link UNCHANGED}. */
export type ColumnValue = string | null | typeof UNCHANGED;

/** A row: one value per column, in the order of the table's {@link TableSchema.columns}. */
export type RowValues = readonly ColumnValue[];

/**
 * What the row changes of one source transaction (or of one broker message) share: where their
 * row positions start and when the source committed them. Sources reuse one object for all the
 * changes it covers, so a sink can cache what it derives from it (the position's text, the time's
 * text) by identity.
 */
export interface RowOrigin {
  /** Row positions of the changes are `[...position.parts, ordinal]` (`src/events/position.ts`). */
  readonly position: PositionBase;
  /** Commit time on the source (Debezium: the event's `ts_ms`, else the broker's timestamp). */
  readonly commitTime: Date;
}

/** A source transaction starts: nothing may end a batch until its `commit`. */
export interface BeginMessage {
  readonly kind: 'begin';
  /** What its row changes share. */
  readonly origin: RowOrigin;
}

/**
 * The table's shape as of this point in the stream. Sent before the first row change of a
 * table and again whenever its columns change (ADD COLUMN etc.), so a sink can apply schema
 * changes before the rows that carry them (DESIGN.md §3.8).
 */
export interface RelationMessage {
  readonly kind: 'relation';
  readonly table: TableSchema;
}

/** An inserted row. */
export interface InsertMessage {
  readonly kind: 'insert';
  readonly table: TableId;
  readonly origin: RowOrigin;
  /** 0-based ordinal within the origin: the last element of the change's row position. */
  readonly ordinal: number;
  /** The new row; never contains {@link UNCHANGED}. */
  readonly row: RowValues;
}

/** An updated row. */
export interface UpdateMessage {
  readonly kind: 'update';
  readonly table: TableId;
  readonly origin: RowOrigin;
  readonly ordinal: number;
  /** The new row; may contain {@link UNCHANGED} for TOASTed values not modified. */
  readonly row: RowValues;
  /**
   * The old key (or the whole old row under REPLICA IDENTITY FULL), in table column order
   * with `null` for columns not part of the identity; present only when the source sent it,
   * which for a table with a primary key means the key changed (DESIGN.md §3.6).
   */
  readonly oldRow?: RowValues;
}

/** A deleted row. */
export interface DeleteMessage {
  readonly kind: 'delete';
  readonly table: TableId;
  readonly origin: RowOrigin;
  readonly ordinal: number;
  /** The old key (key columns set, others null) or the whole old row under REPLICA IDENTITY FULL. */
  readonly oldRow: RowValues;
}

/** Tables emptied by TRUNCATE: a barrier (DESIGN.md §3.7). */
export interface TruncateMessage {
  readonly kind: 'truncate';
  readonly tables: readonly TableId[];
}

/**
 * A boundary: every message before it belongs to complete source transactions, so a batch may
 * end here. It carries what the source's checkpoint moved since the previous boundary; once
 * everything up to it is merged, the pipeline stores those positions with the data and then
 * acknowledges them to the source.
 */
export interface CommitMessage {
  readonly kind: 'commit';
  /** Partitions whose position moved (PostgreSQL: `''` at the LSN just past the commit record). */
  readonly positions: readonly PartitionPosition[];
  /** Source watermarks that moved (Debezium; empty otherwise). */
  readonly watermarks: readonly Watermark[];
  /** Source transactions completed by this boundary (PostgreSQL 1; Debezium: END events, or 0 without transaction metadata). */
  readonly transactions: number;
  /** Source messages consumed since the previous boundary (broker messages; PostgreSQL: 0). */
  readonly messages: number;
  /** Commit time of the transaction it completes, when there is one (for the lag metric). */
  readonly commitTime?: Date;
}

/**
 * The source has nothing before `positions` that is still to come: a sink that has merged
 * everything received may record them and the source may acknowledge them. Sent on keepalives
 * and heartbeats so an idle source still advances (DESIGN.md §3.11).
 */
export interface IdleMessage {
  readonly kind: 'idle';
  readonly positions: readonly PartitionPosition[];
}

/** A source message that could not be decoded: set aside in the sink's dead-letter table with the batch. */
export interface DeadLetterMessage {
  readonly kind: 'dead-letter';
  readonly entry: DeadLetter;
}

/** A message that could not be decoded. */
export interface DeadLetter {
  /** Topic or subject. */
  readonly topic: string;
  /** Where it sits on the broker, for people (`seq 42`, `orders/3 offset 42`). */
  readonly brokerPosition: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** The decoding error, naming the field. */
  readonly error: string;
}

/** Every message a change stream yields. */
export type ChangeMessage =
  | BeginMessage
  | RelationMessage
  | InsertMessage
  | UpdateMessage
  | DeleteMessage
  | TruncateMessage
  | CommitMessage
  | IdleMessage
  | DeadLetterMessage;

/** The row changes among {@link ChangeMessage}s. */
export type RowChangeMessage = InsertMessage | UpdateMessage | DeleteMessage;
