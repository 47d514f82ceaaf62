/**
 * What {@link decodeDebeziumRecord} returns: one decoded Kafka record, as a discriminated union
 * on `kind`, and the options that decide how values read.
 *
 * Values are PostgreSQL text (what the column type's input function and COPY's text format
 * accept), SQL NULL as `null`, and Debezium's unavailable-value placeholder as
 * {@link UNCHANGED}.
 */
import type { ColumnValue } from '../change.js';
import type { TableId } from '../../schema/table.js';
import type { BinaryHandlingMode } from './binary.js';
import type { DecimalHandlingMode, TimePrecisionMode } from './column-types.js';
import type { SourcePosition } from './position.js';

/**
 * A row image: column name → PostgreSQL text, `null` (SQL NULL) or {@link UNCHANGED} (the
 * connector did not send the value: keep the target's). Only the columns the event carried are
 * present (a PostgreSQL `before` under REPLICA IDENTITY DEFAULT holds only the key). The object
 * has no prototype, so any column name is safe as a property.
 */
export type DecodedRow = Readonly<Record<string, ColumnValue>>;

/** A column as the event describes it. */
export interface ColumnInfo {
  /** Column name as the connector wrote it (case preserved). */
  readonly name: string;
  /**
   * The PostgreSQL type, as `format_type()` writes it: from the embedded schema (`integer`,
   * `numeric(10,2)`, `timestamp(6) without time zone`, `text[]`…), or from
   * {@link DecodeOptions.columnTypes}, which wins when given. Undefined when the event has no
   * schema and no column type was supplied.
   */
  readonly type: string | undefined;
  /** From the schema's `optional`; undefined without a schema. */
  readonly nullable: boolean | undefined;
  /** The Kafka Connect logical type name when the schema had one (`io.debezium.time.MicroTimestamp`). */
  readonly logicalType?: string;
  /**
   * The column's default from the schema (`default`), as text like the column's values: the value
   * rows that existed before an ADD COLUMN … DEFAULT have on the source (a constant default;
   * Debezium leaves out defaults it cannot express, such as now()).
   */
  readonly defaultValue?: string;
}

/** The operation of a change event (`op` c, u, d, r, t). `read` is a snapshot row. */
export type DebeziumOp = 'insert' | 'update' | 'delete' | 'read' | 'truncate';

/** Facts from the event's `source` block other than table and position. */
export interface DebeziumSourceInfo {
  /** `postgresql`, `mysql`, `sqlserver`, … (from `connector`, or inferred for old events). */
  readonly connector?: string;
  /** Debezium version that wrote the event. */
  readonly version?: string;
  /** The logical server name / topic prefix (`source.name`). */
  readonly serverName?: string;
  /** The database (`source.db`). */
  readonly database?: string;
  /**
   * Snapshot marker as text: `true`, `first`, `first_in_data_collection`, `last`,
   * `last_in_data_collection`, `incremental`, `false` (old events' booleans become `true`/`false`).
   */
  readonly snapshot?: string;
  /** Source transaction id (`txId` of PostgreSQL). */
  readonly txId?: string;
  /** MySQL GTID of the transaction, when GTIDs are on. */
  readonly gtid?: string;
}

/** A row change (or a TRUNCATE). */
export interface DebeziumChangeRecord {
  readonly kind: 'change';
  /** From the source block (`schema` or, for MySQL, `db`; `table`), else the topic's last two parts. */
  readonly table: TableId;
  readonly op: DebeziumOp;
  /**
   * The row before the change: for update and delete when the source sent it (PostgreSQL sends
   * only the key unless REPLICA IDENTITY FULL, and with Flink-style non-FULL identity may send
   * nothing); null for insert, read and truncate.
   */
  readonly before: DecodedRow | null;
  /** The row after the change: for insert, read and update; null for delete and truncate. */
  readonly after: DecodedRow | null;
  /** The Kafka record key (the table's primary key, or `message.key.columns`), when given. */
  readonly key: DecodedRow | null;
  /** The row's columns in schema order (or, without a schema, in order of first appearance). */
  readonly columns: readonly ColumnInfo[];
  /** The key's columns, in key order; empty without a key. */
  readonly keyColumns: readonly ColumnInfo[];
  /** Where the change sits in its source's order. */
  readonly position: SourcePosition;
  /** The `transaction` block, when the connector provides transaction metadata. */
  readonly transaction?: TransactionBlock;
  /**
   * When the change was made in the source database (`source.ts_ms`, commit time for most
   * connectors), milliseconds since 1970-01-01 UTC. Absent when unknown (old snapshot rows write 0).
   */
  readonly timestampMs?: number;
  /** When the connector processed the event (the envelope's `ts_ms`), milliseconds since 1970-01-01 UTC. */
  readonly processedAtMs?: number;
  readonly source: DebeziumSourceInfo;
  /**
   * For the ExtractNewRecordState (unwrap) form only: the `__` fields the transform added
   * (`__op`, `__table`, `__lsn`, `__source_ts_ms`, `__deleted`…), name without the `__`, value as
   * text; removed from the row itself.
   */
  readonly unwrapFields?: Readonly<Record<string, string | null>>;
}

/** A Kafka tombstone (null value) that follows a delete so log compaction can drop the key. */
export interface DebeziumTombstoneRecord {
  readonly kind: 'tombstone';
  /** The key whose history may be compacted away. */
  readonly key: DecodedRow | null;
  readonly keyColumns: readonly ColumnInfo[];
}

/** A PostgreSQL logical decoding message (`op: m`, from `pg_logical_emit_message`). */
export interface DebeziumMessageRecord {
  readonly kind: 'message';
  readonly prefix: string;
  /** The message body. */
  readonly content: Uint8Array;
  /** True when emitted inside a transaction (the source block has a `txId`). */
  readonly transactional: boolean;
  readonly position: SourcePosition;
  readonly transaction?: TransactionBlock;
  readonly timestampMs?: number;
  readonly source: DebeziumSourceInfo;
}

/** A schema change event (`include.schema.changes`): DDL and the tables it changed. */
export interface DebeziumSchemaChangeRecord {
  readonly kind: 'schema-change';
  readonly database?: string;
  readonly schemaName?: string;
  /** The DDL statement, when the connector records it (SQL Server does not). */
  readonly ddl?: string;
  /** Debezium's `tableChanges` array, as `JSON.parse` would give it (integers past 2^53 as strings). */
  readonly tableChanges: readonly unknown[];
  readonly position: SourcePosition;
  readonly timestampMs?: number;
  readonly source: DebeziumSourceInfo;
}

/** A heartbeat (`heartbeat.interval.ms`): the connector is alive; carries only a time. */
export interface DebeziumHeartbeatRecord {
  readonly kind: 'heartbeat';
  readonly timestampMs: number;
}

/** One table's share of a transaction (END events only). */
export interface TransactionDataCollection {
  /** The table, as Debezium names it: `schema.table` (PostgreSQL), `db.table` (MySQL), `db.schema.table` (SQL Server). */
  readonly dataCollection: string;
  /** Change events the transaction produced for that table. */
  readonly eventCount: number;
}

/** A transaction boundary event. */
export interface DebeziumTransactionRecord {
  readonly kind: 'transaction';
  readonly status: 'BEGIN' | 'END';
  /**
   * The transaction's id, as the connector forms it: `txId:LSN` (PostgreSQL, with the LSN of
   * each event, so BEGIN, END and the change events differ after the colon), a GTID or
   * `file:pos` (MySQL), the commit LSN (SQL Server). Change events carry the same id (PostgreSQL:
   * the same `txId`); `transactionKey` in src/sources/debezium/transaction-tracker.ts matches them.
   */
  readonly id: string;
  /** Total change events in the transaction (END only). */
  readonly eventCount?: number;
  /** Per-table counts (END only). */
  readonly dataCollections?: readonly TransactionDataCollection[];
  /** When the connector processed the event, milliseconds since 1970-01-01 UTC. */
  readonly timestampMs?: number;
}

/** The `transaction` block of a change event. */
export interface TransactionBlock {
  /** The id of the source transaction, matching its BEGIN / END events. */
  readonly id: string;
  /** 1-based position of the event among all events of the transaction. */
  readonly totalOrder: number;
  /** 1-based position of the event among the transaction's events for the same table. */
  readonly dataCollectionOrder: number;
}

/** One decoded Debezium record. */
export type DebeziumRecord = DebeziumChangeRecord | DebeziumTombstoneRecord | DebeziumTransactionRecord | DebeziumMessageRecord | DebeziumSchemaChangeRecord | DebeziumHeartbeatRecord;

/** Column types for one table, for events without an embedded schema. A {@link TableSchema} fits. */
export interface TableColumnTypes {
  readonly id: TableId;
  /** PostgreSQL types as `format_type()` writes them (`numeric(10,2)`, `timestamp(3) without time zone`, `bytea`, `text[]`). */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

/**
 * How the connector was configured, where the JSON does not say. Every field is optional and
 * defaults to Debezium's own default.
 */
export interface DecodeOptions {
  /**
   * Debezium's `binary.handling.mode` (default `bytes`). With `bytes`, binary columns are Connect
   * `bytes` (base64 in JSON). With `base64`, `base64-url-safe` or `hex` the connector declares them
   * `string`, so only columns typed `bytea` in {@link columnTypes} are decoded as binary.
   */
  readonly binaryHandlingMode?: BinaryHandlingMode;
  /** Debezium's `time.precision.mode` (default `adaptive`); only for schemaless temporal integers. */
  readonly timePrecisionMode?: TimePrecisionMode;
  /** Debezium's `decimal.handling.mode` (default `precise`); only for schemaless numeric strings. */
  readonly decimalHandlingMode?: DecimalHandlingMode;
  /**
   * PostgreSQL column types per table, used to read values of events without a schema (and to
   * name column types); with a schema they only override the reported type and mark binary
   * string columns.
   */
  readonly columnTypes?: readonly TableColumnTypes[];
  /** Debezium's `unavailable.value.placeholder` (default `__debezium_unavailable_value`; `hex:` prefix for bytes). */
  readonly unavailableValuePlaceholder?: string;
}

/** One Kafka (or other broker) record to decode. */
export interface DebeziumRecordInput {
  /** The record key: JSON bytes or text; null or absent when the record has none. */
  readonly key?: Uint8Array | string | null;
  /** The record value: JSON bytes or text; null for a tombstone. */
  readonly value: Uint8Array | string | null;
  /** The topic, for messages and for the table name when the source block lacks it (`<prefix>.<schema>.<table>`). */
  readonly topic: string;
  readonly partition?: number;
  /** Offset within the partition. */
  readonly offset?: bigint;
  readonly options?: DecodeOptions;
}
