/**
 * PostgreSQL logical replication wire format: the streaming replication CopyData frames and
 * the pgoutput (protocol version 1) messages inside them. Pure decoding and encoding only; no
 * I/O, no state between messages.
 * @see https://www.postgresql.org/docs/current/protocol-replication.html
 * @see https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
export { decodePgoutputMessage, type PgoutputDecodeOptions } from './decode.js';
export {
  decodeReplicationFrame,
  encodeStandbyStatusUpdate,
  STANDBY_STATUS_UPDATE_LENGTH,
  type PrimaryKeepaliveFrame,
  type ReplicationFrame,
  type StandbyStatusUpdate,
  type XLogDataFrame,
} from './frames.js';
export type {
  OldTuple,
  PgoutputBegin,
  PgoutputCommit,
  PgoutputDelete,
  PgoutputInsert,
  PgoutputLogicalMessage,
  PgoutputMessage,
  PgoutputOrigin,
  PgoutputProtocolVersion,
  PgoutputRelation,
  PgoutputRelationColumn,
  PgoutputTruncate,
  PgoutputType,
  PgoutputUpdate,
  ReplicaIdentity,
  TupleData,
  TupleValue,
} from './messages.js';
export {
  dateToPgMicros,
  PG_EPOCH_UNIX_MS,
  pgMicrosToDate,
  ProtocolError,
  WireReader,
  type ProtocolErrorCode,
} from './reader.js';
