/**
 * Decoder for pgoutput's logical replication messages (protocol version 1): one call per
 * XLogData payload, pure and stateless. Strict: a message must fill its buffer exactly, so a
 * truncated or over-long frame is an error rather than a silently wrong row.
 *
 * Protocol version 2+ (streamed in-progress transactions) adds stream-control messages and an
 * Xid before the relation id of most messages inside a stream; it would be added as a new
 * {@link PgoutputProtocolVersion} threaded through to the per-message functions below.
 * @see https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import type {
  OldTuple,
  PgoutputMessage,
  PgoutputProtocolVersion,
  PgoutputRelationColumn,
  TupleData,
  TupleValue,
} from './messages.js';
import { pgMicrosToDate, ProtocolError, WireReader } from './reader.js';

/** Options for {@link decodePgoutputMessage}. */
export interface PgoutputDecodeOptions {
  /** The `proto_version` given to START_REPLICATION; default 1, the only one implemented. */
  readonly protocolVersion?: PgoutputProtocolVersion;
}

// Message type bytes (Byte1) and tuple markers, as char codes.
const B = 0x42, C = 0x43, O = 0x4f, R = 0x52, Y = 0x59, I = 0x49, U = 0x55, D = 0x44, T = 0x54;
const M = 0x4d, K = 0x4b, N = 0x4e;
const COL_NULL = 0x6e, COL_UNCHANGED = 0x75, COL_TEXT = 0x74, COL_BINARY = 0x62;

// Shared, immutable values for the payload-less column kinds: no allocation per NULL.
const NULL_VALUE: TupleValue = Object.freeze({ kind: 'null' });
const UNCHANGED_VALUE: TupleValue = Object.freeze({ kind: 'unchanged' });

/**
 * Decodes one pgoutput message: the payload of an XLogData frame, starting with its type byte.
 * The result may share memory with `buf` (binary column values, logical message content) and
 * reuses frozen objects for `null`/`unchanged` column values; treat it as immutable.
 * @throws {ProtocolError} `PGOUTPUT_TRUNCATED` when `buf` ends mid-message,
 *   `PGOUTPUT_TRAILING_BYTES` when bytes follow a complete message,
 *   `PGOUTPUT_UNKNOWN_MESSAGE` for a type byte that is not a version-1 message,
 *   `PGOUTPUT_MALFORMED` for an impossible field value, `PGOUTPUT_UNSUPPORTED_VERSION` when
 *   `options.protocolVersion` is not 1.
 * @see https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
export function decodePgoutputMessage(buf: Buffer, options?: PgoutputDecodeOptions): PgoutputMessage {
  const version = options?.protocolVersion ?? 1;
  if (version !== 1) {
    throw new ProtocolError('PGOUTPUT_UNSUPPORTED_VERSION', `pgoutput protocol version ${String(version)}`, 0);
  }
  const r = new WireReader(buf);
  const msg = decodeBody(r.uint8(), r);
  r.end();
  return msg;
}

function decodeBody(type: number, r: WireReader): PgoutputMessage {
  switch (type) {
    case B: {
      const finalLsn = r.uint64();
      const commitTimeMicros = r.int64();
      const xid = r.uint32();
      return { kind: 'begin', finalLsn, commitTime: pgMicrosToDate(commitTimeMicros), commitTimeMicros, xid };
    }
    case C: {
      const flags = r.uint8();
      const commitLsn = r.uint64();
      const endLsn = r.uint64();
      const commitTimeMicros = r.int64();
      const commitTime = pgMicrosToDate(commitTimeMicros);
      return { kind: 'commit', flags, commitLsn, endLsn, commitTime, commitTimeMicros };
    }
    case O: {
      const originLsn = r.uint64();
      return { kind: 'origin', originLsn, name: r.cstring() };
    }
    case R:
      return decodeRelation(r);
    case Y: {
      const typeOid = r.uint32();
      const namespace = r.cstring();
      return { kind: 'type', typeOid, namespace, name: r.cstring() };
    }
    case I: {
      const relationId = r.uint32();
      expectByte(r, N, "'N' (new tuple)");
      return { kind: 'insert', relationId, newTuple: decodeTuple(r) };
    }
    case U: {
      const relationId = r.uint32();
      const marker = r.uint8();
      if (marker === N) return { kind: 'update', relationId, newTuple: decodeTuple(r) };
      if (marker !== K && marker !== O) throw badByte(r, marker, "'K', 'O' or 'N'");
      const oldTuple: OldTuple = { kind: marker === K ? 'K' : 'O', values: decodeTuple(r) };
      expectByte(r, N, "'N' (new tuple)");
      return { kind: 'update', relationId, oldTuple, newTuple: decodeTuple(r) };
    }
    case D: {
      const relationId = r.uint32();
      const marker = r.uint8();
      if (marker !== K && marker !== O) throw badByte(r, marker, "'K' or 'O'");
      return { kind: 'delete', relationId, oldTuple: { kind: marker === K ? 'K' : 'O', values: decodeTuple(r) } };
    }
    case T:
      return decodeTruncate(r);
    case M: {
      const flags = r.uint8();
      const lsn = r.uint64();
      const prefix = r.cstring();
      const content = r.bytes(length(r));
      return { kind: 'message', flags, transactional: (flags & 1) !== 0, lsn, prefix, content };
    }
    default:
      throw new ProtocolError(
        'PGOUTPUT_UNKNOWN_MESSAGE',
        `unknown pgoutput message type ${describeByte(type)}`,
        r.offset - 1,
      );
  }
}

function decodeRelation(r: WireReader): PgoutputMessage {
  const relationId = r.uint32();
  const namespace = r.cstring();
  const name = r.cstring();
  const ident = r.uint8();
  const replicaIdentity = String.fromCharCode(ident);
  if (replicaIdentity !== 'd' && replicaIdentity !== 'n' && replicaIdentity !== 'f' && replicaIdentity !== 'i') {
    throw badByte(r, ident, "replica identity 'd', 'n', 'f' or 'i'");
  }
  const count = count16(r);
  const columns: PgoutputRelationColumn[] = [];
  for (let i = 0; i < count; i++) {
    const flags = r.uint8();
    const colName = r.cstring();
    const typeOid = r.uint32();
    const typeMod = r.int32();
    columns.push({ flags, isKey: (flags & 1) !== 0, name: colName, typeOid, typeMod });
  }
  return { kind: 'relation', relationId, namespace, name, replicaIdentity, columns };
}

function decodeTruncate(r: WireReader): PgoutputMessage {
  const count = r.int32();
  if (count < 0) throw new ProtocolError('PGOUTPUT_MALFORMED', `negative relation count ${count}`, r.offset - 4);
  const options = r.uint8();
  const relationIds: number[] = [];
  for (let i = 0; i < count; i++) relationIds.push(r.uint32());
  return {
    kind: 'truncate',
    options,
    cascade: (options & 1) !== 0,
    restartIdentity: (options & 2) !== 0,
    relationIds,
  };
}

/** TupleData: Int16 column count, then per column a kind byte and, for 't'/'b', Int32 length + bytes. */
function decodeTuple(r: WireReader): TupleData {
  const count = count16(r);
  const values: TupleValue[] = [];
  for (let i = 0; i < count; i++) {
    const kind = r.uint8();
    switch (kind) {
      case COL_NULL:
        values.push(NULL_VALUE);
        break;
      case COL_UNCHANGED:
        values.push(UNCHANGED_VALUE);
        break;
      case COL_TEXT:
        values.push({ kind: 'text', value: r.text(length(r)) });
        break;
      case COL_BINARY:
        values.push({ kind: 'binary', value: r.bytes(length(r)) });
        break;
      default:
        throw badByte(r, kind, "column kind 'n', 'u', 't' or 'b'");
    }
  }
  return values;
}

/** An Int16 count that must not be negative. */
function count16(r: WireReader): number {
  const n = r.int16();
  if (n < 0) throw new ProtocolError('PGOUTPUT_MALFORMED', `negative column count ${n}`, r.offset - 2);
  return n;
}

/** An Int32 byte length that must not be negative. */
function length(r: WireReader): number {
  const n = r.int32();
  if (n < 0) throw new ProtocolError('PGOUTPUT_MALFORMED', `negative length ${n}`, r.offset - 4);
  return n;
}

function expectByte(r: WireReader, expected: number, what: string): void {
  const b = r.uint8();
  if (b !== expected) throw badByte(r, b, what);
}

/** The error for an unexpected byte just read. */
function badByte(r: WireReader, byte: number, expected: string): ProtocolError {
  return new ProtocolError('PGOUTPUT_MALFORMED', `expected ${expected}, got ${describeByte(byte)}`, r.offset - 1);
}

function describeByte(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hex})` : hex;
}
