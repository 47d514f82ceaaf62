/**
 * The change model: the only thing sources and sinks share besides {@link TableSchema}.
 *
 * A source emits a stream of {@link ChangeMessage}s. Row changes arrive only between a `begin`
 * and its `commit`; transactions arrive whole and in commit order (DESIGN.md §3.3). Values are
 * in PostgreSQL's text representation (the output function of the column's type), which is
 * what pgoutput sends and what COPY's text format reads back.
 */
import type { TableId, TableSchema } from '../schema/table.js';

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

/** A source transaction starts. */
export interface BeginMessage {
  readonly kind: 'begin';
  /** Source transaction id. */
  readonly xid: number;
  /** LSN of the transaction's commit record: every change in it has this as `position.lsn`. */
  readonly commitLsn: bigint;
  /** Commit time on the source. */
  readonly commitTime: Date;
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
  /** 0-based ordinal within the transaction. */
  readonly ordinal: number;
  /** The new row; never contains {@link UNCHANGED}. */
  readonly row: RowValues;
}

/** An updated row. */
export interface UpdateMessage {
  readonly kind: 'update';
  readonly table: TableId;
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
  readonly ordinal: number;
  /** The old key (key columns set, others null) or the whole old row under REPLICA IDENTITY FULL. */
  readonly oldRow: RowValues;
}

/** Tables emptied by TRUNCATE: a barrier (DESIGN.md §3.7). */
export interface TruncateMessage {
  readonly kind: 'truncate';
  readonly tables: readonly TableId[];
  readonly ordinal: number;
}

/** A source transaction ends; everything since its `begin` is now complete. */
export interface CommitMessage {
  readonly kind: 'commit';
  /** LSN of the commit record (equals the begin's `commitLsn`). */
  readonly commitLsn: bigint;
  /** LSN just past the commit record: the position to acknowledge once this is merged. */
  readonly endLsn: bigint;
  readonly commitTime: Date;
}

/**
 * The source has nothing before `lsn` that is still to come: a sink that has merged everything
 * received may record `lsn` and the source may acknowledge it. Sent on keepalives and
 * heartbeats so an idle source still advances (DESIGN.md §3.11).
 */
export interface IdleMessage {
  readonly kind: 'idle';
  /** WAL position, in bytes, up to which the stream is known to be complete. */
  readonly lsn: bigint;
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
  | IdleMessage;

/** The row changes among {@link ChangeMessage}s. */
export type RowChangeMessage = InsertMessage | UpdateMessage | DeleteMessage;
