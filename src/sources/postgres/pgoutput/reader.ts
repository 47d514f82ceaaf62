/**
 * Wire primitives shared by the pgoutput message decoder and the replication frame codec: a
 * bounds-checked big-endian reader over one Buffer, the {@link ProtocolError} every decoder
 * throws, and conversions between `Date` and PostgreSQL's timestamp representation.
 *
 * Integers are network byte order (big-endian) as everywhere in the frontend/backend protocol.
 * @see https://www.postgresql.org/docs/current/protocol-message-types.html
 */

/**
 * Why a buffer could not be decoded:
 * - `PGOUTPUT_TRUNCATED`: the buffer ends before the message does (a read past the end).
 * - `PGOUTPUT_TRAILING_BYTES`: the message is complete but bytes follow it.
 * - `PGOUTPUT_UNKNOWN_MESSAGE`: the leading type byte names no message this decoder knows.
 * - `PGOUTPUT_MALFORMED`: a field holds a value the format does not allow (a negative length,
 *   an unknown tuple column kind, an unknown replica identity, ...).
 * - `PGOUTPUT_UNSUPPORTED_VERSION`: decoding was asked for a protocol version not implemented.
 */
export type ProtocolErrorCode =
  | 'PGOUTPUT_TRUNCATED'
  | 'PGOUTPUT_TRAILING_BYTES'
  | 'PGOUTPUT_UNKNOWN_MESSAGE'
  | 'PGOUTPUT_MALFORMED'
  | 'PGOUTPUT_UNSUPPORTED_VERSION';

/**
 * A buffer that is not a well-formed replication protocol message. Never retryable: the same
 * bytes always fail the same way, so the stream is corrupt or speaks another protocol version.
 */
export class ProtocolError extends Error {
  /** Machine-readable reason; see {@link ProtocolErrorCode}. */
  readonly code: ProtocolErrorCode;
  /** Byte offset within the decoded buffer at which the problem was found. */
  readonly offset: number;

  constructor(code: ProtocolErrorCode, message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'ProtocolError';
    this.code = code;
    this.offset = offset;
  }
}

/**
 * Sequential, bounds-checked reader of big-endian fields from one Buffer. Every read either
 * returns a value wholly inside the buffer and advances past it, or throws a
 * {@link ProtocolError} with code `PGOUTPUT_TRUNCATED` and leaves the position unchanged.
 * Reads allocate nothing beyond their result (strings are decoded straight from the buffer).
 */
export class WireReader {
  private pos = 0;

  /** @param buf the whole message; reading starts at byte 0. */
  constructor(private readonly buf: Buffer) {}

  /** Current read position, in bytes from the start of the buffer. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Unsigned 8-bit integer (`Byte1`, `Int8` flags). */
  uint8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  /** Signed 16-bit integer (`Int16`). */
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  /** Signed 32-bit integer (`Int32` lengths, type modifiers). */
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned 32-bit integer (`Int32` carrying an OID or a TransactionId), 0 to 2^32-1. */
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Signed 64-bit integer (`Int64` TimestampTz), as bigint. */
  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned 64-bit integer (`Int64` XLogRecPtr, i.e. an LSN), 0 to 2^64-1, as bigint. */
  uint64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * A NUL-terminated `String`, decoded as UTF-8 (invalid sequences become U+FFFD); the NUL is
   * consumed and not part of the result.
   * @throws {ProtocolError} `PGOUTPUT_TRUNCATED` when no NUL follows before the end.
   */
  cstring(): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0) {
      throw new ProtocolError('PGOUTPUT_TRUNCATED', 'unterminated string', this.pos);
    }
    const s = this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  /** The next `n` bytes decoded as UTF-8 (invalid sequences become U+FFFD). */
  text(n: number): string {
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /**
   * The next `n` bytes as a view sharing memory with the input buffer (no copy): it is only
   * valid as long as the caller does not reuse the input; copy it to keep it longer.
   */
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /**
   * Asserts the whole buffer has been read.
   * @throws {ProtocolError} `PGOUTPUT_TRAILING_BYTES` when bytes remain.
   */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw new ProtocolError(
        'PGOUTPUT_TRAILING_BYTES',
        `${this.buf.length - this.pos} unexpected byte(s) after a complete message`,
        this.pos,
      );
    }
  }

  private need(n: number): void {
    if (this.buf.length - this.pos < n) {
      throw new ProtocolError(
        'PGOUTPUT_TRUNCATED',
        `message truncated: need ${n} byte(s), ${this.buf.length - this.pos} left`,
        this.pos,
      );
    }
  }
}

/** Milliseconds from the Unix epoch (1970-01-01 UTC) to PostgreSQL's epoch (2000-01-01 UTC). */
export const PG_EPOCH_UNIX_MS = 946_684_800_000;

const PG_EPOCH_UNIX_MS_BIG = BigInt(PG_EPOCH_UNIX_MS);

/**
 * Converts a PostgreSQL `TimestampTz` (signed microseconds since 2000-01-01 UTC) to a `Date`.
 * Precision is lost: the result is floored to whole milliseconds, so keep the bigint where
 * microseconds matter. Values outside `Date`'s range (±8.64e15 ms from 1970, which includes
 * PostgreSQL's `infinity`/`-infinity` sentinels) give an Invalid Date rather than throwing.
 */
export function pgMicrosToDate(micros: bigint): Date {
  let ms = micros / 1000n;
  if (micros < 0n && ms * 1000n !== micros) ms -= 1n; // floor, not truncate toward zero
  return new Date(Number(ms + PG_EPOCH_UNIX_MS_BIG));
}

/**
 * Converts a `Date` to a PostgreSQL `TimestampTz`: signed microseconds since 2000-01-01 UTC
 * (exact; a Date has whole milliseconds).
 * @throws {RangeError} for an Invalid Date.
 */
export function dateToPgMicros(date: Date): bigint {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError('cannot convert an Invalid Date to a PostgreSQL timestamp');
  return (BigInt(ms) - PG_EPOCH_UNIX_MS_BIG) * 1000n;
}
