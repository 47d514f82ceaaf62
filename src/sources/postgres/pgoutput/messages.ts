/**
 * The logical replication messages pgoutput sends, protocol version 1, as decoded by
 * `decodePgoutputMessage` (`decode.ts`). Each is the payload of one XLogData frame
 * (`frames.ts`).
 *
 * These mirror the wire format one to one; turning them into the project's change model
 * (`events/change.ts`) is the source's job. Numbers that are OIDs or transaction ids are
 * unsigned 32-bit; LSNs are unsigned 64-bit bigints in bytes of WAL; times are kept both as a
 * `Date` (millisecond precision) and as the exact `TimestampTz` microseconds since 2000-01-01.
 * Strings are decoded as UTF-8, which is what the server sends with `client_encoding=UTF8`.
 * @see https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
/** Protocol versions this decoder implements (`proto_version` of START_REPLICATION). */
export type PgoutputProtocolVersion = 1;

/** Start of a transaction ('B'). Row changes follow until the matching {@link PgoutputCommit}. */
export interface PgoutputBegin {
  readonly kind: 'begin';
  /** LSN of the transaction's commit record (equals the commit's `commitLsn`). */
  readonly finalLsn: bigint;
  /** Commit time, floored to milliseconds. */
  readonly commitTime: Date;
  /** Commit time, exact: microseconds since 2000-01-01 UTC. */
  readonly commitTimeMicros: bigint;
  /** Transaction id, unsigned 32-bit. */
  readonly xid: number;
}

/** End of a transaction ('C'). */
export interface PgoutputCommit {
  readonly kind: 'commit';
  /** Flags byte; unused (0) as of PostgreSQL 17. */
  readonly flags: number;
  /** LSN of the commit record. */
  readonly commitLsn: bigint;
  /** LSN just past the commit record: the position to acknowledge once it is applied. */
  readonly endLsn: bigint;
  /** Commit time, floored to milliseconds. */
  readonly commitTime: Date;
  /** Commit time, exact: microseconds since 2000-01-01 UTC. */
  readonly commitTimeMicros: bigint;
}

/** The transaction was replicated from another node ('O'); may occur several times. */
export interface PgoutputOrigin {
  readonly kind: 'origin';
  /** LSN of the commit on the origin server. */
  readonly originLsn: bigint;
  /** Replication origin name. */
  readonly name: string;
}

/**
 * A table's replica identity (`pg_class.relreplident`): `d` default (primary key), `n` nothing,
 * `f` full (all columns), `i` a chosen unique index.
 */
export type ReplicaIdentity = 'd' | 'n' | 'f' | 'i';

/** One column of a {@link PgoutputRelation}, in table order (generated columns omitted). */
export interface PgoutputRelationColumn {
  /** Flags byte: bit value 1 marks the column as part of the replica identity key. */
  readonly flags: number;
  /** True when `flags & 1`: the column is sent in 'K' old tuples. */
  readonly isKey: boolean;
  /** Column name. */
  readonly name: string;
  /** OID of the column's type, unsigned 32-bit. */
  readonly typeOid: number;
  /** Type modifier (`pg_attribute.atttypmod`), signed; -1 when the type has none. */
  readonly typeMod: number;
}

/**
 * A table's shape ('R'), sent before the first change of the table in a session and again
 * whenever it may have changed. Later tuples of `relationId` have one value per column here.
 */
export interface PgoutputRelation {
  readonly kind: 'relation';
  /** OID of the table, unsigned 32-bit: the key tuple messages refer to. */
  readonly relationId: number;
  /** Schema name; the empty string stands for `pg_catalog`. */
  readonly namespace: string;
  /** Table name. */
  readonly name: string;
  readonly replicaIdentity: ReplicaIdentity;
  readonly columns: readonly PgoutputRelationColumn[];
}

/** A non-built-in data type used by a following relation ('Y'). */
export interface PgoutputType {
  readonly kind: 'type';
  /** OID of the type, unsigned 32-bit. */
  readonly typeOid: number;
  /** Schema name; the empty string stands for `pg_catalog`. */
  readonly namespace: string;
  /** Type name. */
  readonly name: string;
}

/**
 * One column value in a {@link TupleData}:
 * - `null`: SQL NULL ('n');
 * - `unchanged`: an unchanged TOASTed value that was not sent ('u'); only in update tuples;
 * - `text`: the type output function's text, UTF-8 decoded ('t'); may be the empty string;
 * - `binary`: the type send function's bytes ('b', only with the `binary` option), a view into
 *   the decoded buffer (copy it to keep it after the buffer is reused).
 */
export type TupleValue =
  | { readonly kind: 'null' }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'binary'; readonly value: Buffer };

/** A row: one {@link TupleValue} per column of the relation, in relation column order. */
export type TupleData = readonly TupleValue[];

/**
 * An old row image: `K` carries the replica identity key columns (others are `null`), `O` the
 * whole old row (REPLICA IDENTITY FULL).
 */
export interface OldTuple {
  readonly kind: 'K' | 'O';
  readonly values: TupleData;
}

/** An inserted row ('I'). */
export interface PgoutputInsert {
  readonly kind: 'insert';
  /** OID of the table; see the preceding {@link PgoutputRelation}. */
  readonly relationId: number;
  readonly newTuple: TupleData;
}

/** An updated row ('U'). */
export interface PgoutputUpdate {
  readonly kind: 'update';
  readonly relationId: number;
  /** Present when the key changed ('K') or under REPLICA IDENTITY FULL ('O'). */
  readonly oldTuple?: OldTuple;
  /** The new row; may contain `unchanged` values. */
  readonly newTuple: TupleData;
}

/** A deleted row ('D'). */
export interface PgoutputDelete {
  readonly kind: 'delete';
  readonly relationId: number;
  readonly oldTuple: OldTuple;
}

/** One TRUNCATE statement over one or more tables ('T'). */
export interface PgoutputTruncate {
  readonly kind: 'truncate';
  /** Option bits: 1 = CASCADE, 2 = RESTART IDENTITY. */
  readonly options: number;
  readonly cascade: boolean;
  readonly restartIdentity: boolean;
  /** OIDs of the truncated tables, unsigned 32-bit. */
  readonly relationIds: readonly number[];
}

/** A logical decoding message written by `pg_logical_emit_message` ('M'). */
export interface PgoutputLogicalMessage {
  readonly kind: 'message';
  /** Flags byte: 1 = transactional. */
  readonly flags: number;
  /** True when emitted as part of a transaction (arrives between begin and commit). */
  readonly transactional: boolean;
  /** LSN of the message. */
  readonly lsn: bigint;
  /** The prefix given to `pg_logical_emit_message`. */
  readonly prefix: string;
  /** The content: a view into the decoded buffer (copy it to keep it after reuse). */
  readonly content: Buffer;
}

/** Every message `decodePgoutputMessage` returns, discriminated by `kind`. */
export type PgoutputMessage =
  | PgoutputBegin
  | PgoutputCommit
  | PgoutputOrigin
  | PgoutputRelation
  | PgoutputType
  | PgoutputInsert
  | PgoutputUpdate
  | PgoutputDelete
  | PgoutputTruncate
  | PgoutputLogicalMessage;
