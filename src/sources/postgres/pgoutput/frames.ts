/**
 * The streaming replication protocol's CopyData sub-messages: what the walsender sends during
 * START_REPLICATION (XLogData, primary keepalive) and the standby status update the client
 * sends back. Input and output are CopyData *payloads*: the bytes after the CopyData message's
 * 'd' type byte and Int32 length, which the connection layer strips or adds.
 *
 * Times are `TimestampTz`: signed bigint microseconds since 2000-01-01 UTC, kept as bigint so
 * nothing is allocated per frame; convert with {@link pgMicrosToDate} / {@link dateToPgMicros}.
 * @see https://www.postgresql.org/docs/current/protocol-replication.html
 */
import { dateToPgMicros, pgMicrosToDate, ProtocolError, WireReader } from './reader.js';

/** Re-exported here because frame times need them; defined in `reader.ts`. */
export { dateToPgMicros, pgMicrosToDate };

/** WAL data ('w'): one pgoutput message (decode `data` with `decodePgoutputMessage`). */
export interface XLogDataFrame {
  readonly kind: 'xlogdata';
  /** LSN of the start of the data in WAL (0 for messages that are not tied to one). */
  readonly walStart: bigint;
  /** Current end of WAL on the server. */
  readonly walEnd: bigint;
  /** Server clock at the time of transmission, microseconds since 2000-01-01 UTC. */
  readonly sendTimeMicros: bigint;
  /** The payload: a view sharing memory with the decoded buffer (no copy). */
  readonly data: Buffer;
}

/** Primary keepalive ('k'): the server's WAL end and whether it wants a status update now. */
export interface PrimaryKeepaliveFrame {
  readonly kind: 'keepalive';
  /** Current end of WAL on the server. */
  readonly walEnd: bigint;
  /** Server clock at the time of transmission, microseconds since 2000-01-01 UTC. */
  readonly sendTimeMicros: bigint;
  /** True when the client should send a standby status update at once (or be timed out). */
  readonly replyRequested: boolean;
}

/** Every frame {@link decodeReplicationFrame} returns, discriminated by `kind`. */
export type ReplicationFrame = XLogDataFrame | PrimaryKeepaliveFrame;

const XLOG_DATA = 0x77; // 'w'
const KEEPALIVE = 0x6b; // 'k'
const STATUS_UPDATE = 0x72; // 'r'

/** Bytes of an encoded standby status update: Byte1 + 4 × Int64 + Byte1. */
export const STANDBY_STATUS_UPDATE_LENGTH = 34;

/**
 * Decodes one CopyData payload sent by the walsender during START_REPLICATION.
 * Layout: 'w' Int64 walStart, Int64 walEnd, Int64 sendTime, Byte n data; or
 * 'k' Int64 walEnd, Int64 sendTime, Byte1 replyRequested (1 = reply now).
 * @throws {ProtocolError} `PGOUTPUT_TRUNCATED` when `buf` ends mid-frame,
 *   `PGOUTPUT_TRAILING_BYTES` when bytes follow a complete keepalive,
 *   `PGOUTPUT_UNKNOWN_MESSAGE` for any other type byte.
 * @see https://www.postgresql.org/docs/current/protocol-replication.html
 */
export function decodeReplicationFrame(buf: Buffer): ReplicationFrame {
  const r = new WireReader(buf);
  const type = r.uint8();
  if (type === XLOG_DATA) {
    const walStart = r.uint64();
    const walEnd = r.uint64();
    const sendTimeMicros = r.int64();
    return { kind: 'xlogdata', walStart, walEnd, sendTimeMicros, data: r.bytes(r.remaining) };
  }
  if (type === KEEPALIVE) {
    const walEnd = r.uint64();
    const sendTimeMicros = r.int64();
    const replyRequested = r.uint8() !== 0;
    r.end();
    return { kind: 'keepalive', walEnd, sendTimeMicros, replyRequested };
  }
  throw new ProtocolError('PGOUTPUT_UNKNOWN_MESSAGE', `unknown replication frame type 0x${type.toString(16)}`, 0);
}

/**
 * What the client reports to the server ('r'). Each LSN is the position just past the last
 * WAL byte so handled (end LSN, "last byte + 1"); 0 means unknown. For logical replication the
 * server advances the slot's `confirmed_flush_lsn` from `flushed`.
 */
export interface StandbyStatusUpdate {
  /** Everything before this LSN has been received and written. */
  readonly written: bigint;
  /** Everything before this LSN is durable at the destination: the slot may free WAL up to it. */
  readonly flushed: bigint;
  /** Everything before this LSN has been applied. */
  readonly applied: bigint;
  /** Client clock at the time of transmission, microseconds since 2000-01-01 UTC. */
  readonly clientTimeMicros: bigint;
  /** Ask the server to answer with a keepalive at once (e.g. to probe the connection). */
  readonly replyRequested: boolean;
}

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Encodes a standby status update as a CopyData payload of
 * {@link STANDBY_STATUS_UPDATE_LENGTH} bytes: 'r', Int64 written, Int64 flushed,
 * Int64 applied, Int64 clientTime, Byte1 replyRequested.
 * @throws {RangeError} when an LSN is outside 0..2^64-1 or the time outside signed 64 bits.
 * @see https://www.postgresql.org/docs/current/protocol-replication.html
 */
export function encodeStandbyStatusUpdate(update: StandbyStatusUpdate): Buffer {
  const buf = Buffer.allocUnsafe(STANDBY_STATUS_UPDATE_LENGTH);
  buf[0] = STATUS_UPDATE;
  buf.writeBigUInt64BE(checkLsn('written', update.written), 1);
  buf.writeBigUInt64BE(checkLsn('flushed', update.flushed), 9);
  buf.writeBigUInt64BE(checkLsn('applied', update.applied), 17);
  const t = update.clientTimeMicros;
  if (t < INT64_MIN || t > INT64_MAX) throw new RangeError(`clientTimeMicros out of int64 range: ${t}`);
  buf.writeBigInt64BE(t, 25);
  buf[33] = update.replyRequested ? 1 : 0;
  return buf;
}

function checkLsn(field: string, lsn: bigint): bigint {
  if (lsn < 0n || lsn > UINT64_MAX) throw new RangeError(`${field} LSN out of range 0..2^64-1: ${lsn}`);
  return lsn;
}
