/**
 * Debezium decoding: Kafka Connect JSON records of Debezium connectors (PostgreSQL, MySQL,
 * SQL Server, …) into row images in PostgreSQL text form, with source positions and
 * transaction metadata. Start with {@link decodeDebeziumRecord}.
 * @see https://debezium.io/documentation/reference/stable/
 */
export { decodeDebeziumRecord } from './decode.js';
export type {
  ColumnInfo,
  DebeziumChangeRecord,
  DebeziumHeartbeatRecord,
  DebeziumMessageRecord,
  DebeziumOp,
  DebeziumRecord,
  DebeziumRecordInput,
  DebeziumSchemaChangeRecord,
  DebeziumSourceInfo,
  DebeziumTombstoneRecord,
  DebeziumTransactionRecord,
  DecodedRow,
  DecodeOptions,
  TableColumnTypes,
  TransactionBlock,
  TransactionDataCollection,
} from './record.js';
export { DebeziumDecodeError } from './errors.js';
export { binlogFileNumber, compareSourcePositions, parseSqlServerLsn, type KnownConnector, type SourcePosition } from './position.js';
export type { BinaryHandlingMode } from './binary.js';
export type { DecimalHandlingMode, TimePrecisionMode } from './column-types.js';
export { DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER } from './unavailable-value.js';
