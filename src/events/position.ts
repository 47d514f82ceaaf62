/**
 * Row positions: the order of the changes of one key, whatever source they came from
 * (DESIGN.md §3.1).
 *
 * A row position is a list of unsigned integers compared element by element, a shorter list that
 * is a prefix of a longer one sorting first. Each source kind fills it with its own log
 * coordinates:
 *
 * | source                         | elements                                                        |
 * | ------------------------------ | --------------------------------------------------------------- |
 * | PostgreSQL slot                | commit LSN of the transaction, ordinal of the change in it       |
 * | PostgreSQL snapshot row        | LSN of the snapshot's consistent point (no ordinal: sorts first) |
 * | Debezium, PostgreSQL connector | last commit LSN, LSN (`sequence`), broker position, 0            |
 * | Debezium, SQL Server connector | commit_lsn, change_lsn, event_serial_no, broker position, 0      |
 * | Debezium, MySQL connector      | binlog file number, pos, row, broker position, 0                 |
 * | rows written by other means    | (empty: every captured change sorts after)                       |
 *
 * Stored and compared as bytes ({@link encodePosition}): each element becomes one length byte
 * followed by its big-endian bytes without leading zeros (0 is the single byte `00`). A longer
 * number has a longer length byte, so unsigned lexicographic byte order (PostgreSQL's `bytea`
 * comparison, Parquet's binary statistics) is the element-wise numeric order of the lists.
 * Values are `bigint` inside the program; the bytes as `\x…` hexadecimal appear only at the edges
 * (COPY text, SQL, logs).
 */

/** Bytes of a row position (see the module comment); compare with {@link comparePositions}. */
export type PositionBytes = Uint8Array;

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The big-endian bytes of `value` without leading zeros (none for 0). */
function magnitude(value: bigint): number[] {
  const bytes: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) bytes.push(Number(v & 0xffn));
  return bytes.reverse();
}

/**
 * Encodes a list of unsigned integers as order-preserving bytes (module comment).
 * @throws {RangeError} for a negative element or one of more than 255 bytes.
 */
export function encodePosition(parts: readonly bigint[]): PositionBytes {
  const out: number[] = [];
  for (const p of parts) {
    if (p < 0n) throw new RangeError(`a row position element cannot be negative (${p})`);
    const m = magnitude(p);
    if (m.length > 255) throw new RangeError('a row position element is limited to 255 bytes');
    out.push(m.length, ...m);
  }
  return Uint8Array.from(out);
}

/**
 * The integers a position encodes.
 * @throws {RangeError} when the bytes are not a valid encoding (truncated element).
 */
export function decodePosition(bytes: PositionBytes): bigint[] {
  const parts: bigint[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = bytes[i++]!;
    if (i + n > bytes.length) throw new RangeError(`not a row position: element at byte ${i - 1} runs past the end`);
    let v = 0n;
    for (let j = 0; j < n; j++) v = (v << 8n) | BigInt(bytes[i + j]!);
    parts.push(v);
    i += n;
  }
  return parts;
}

/** Negative, zero or positive as `a` sorts before, with or after `b` (unsigned bytewise). */
export function comparePositions(a: PositionBytes, b: PositionBytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Lower-case hexadecimal of the bytes, without a prefix. */
export function positionHex(bytes: PositionBytes): string {
  let s = '';
  for (const b of bytes) s += HEX[b];
  return s;
}

/** Bytes from lower- or upper-case hexadecimal (an optional `\x` prefix is skipped). */
export function positionFromHex(hex: string): PositionBytes {
  const h = hex.startsWith('\\x') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new RangeError(`not hexadecimal bytes: ${JSON.stringify(hex)}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The encoding of one ordinal (a non-negative safe integer) as hexadecimal: what {@link PositionBase.rowHex} appends. */
export function ordinalHex(ordinal: number): string {
  if (ordinal === 0) return '00';
  if (ordinal < 0x100) return `01${HEX[ordinal]}`;
  if (ordinal < 0x10000) return `02${HEX[ordinal >>> 8]}${HEX[ordinal & 0xff]}`;
  if (ordinal < 0x1000000) return `03${HEX[ordinal >>> 16]}${HEX[(ordinal >>> 8) & 0xff]}${HEX[ordinal & 0xff]}`;
  return positionHex(encodePosition([BigInt(ordinal)]));
}

/** The encoding of one element as hexadecimal: its length byte, then its bytes (see the module comment). */
function elementHex(value: bigint): string {
  if (value === 0n) return '00';
  if (value < 0n) throw new RangeError(`a row position element cannot be negative (${value})`);
  const digits = value.toString(16);
  const even = digits.length % 2 === 0 ? digits : `0${digits}`;
  if (even.length > 510) throw new RangeError('a row position element is limited to 255 bytes');
  return HEX[even.length / 2] + even;
}

/**
 * What the row positions of one source transaction (or one message) start with: the rows of it
 * are at `[...parts, ordinal]`. Encodes once and caches the hexadecimal, which every row of the
 * transaction reuses; the bytes are made when first asked for.
 */
export class PositionBase {
  /** {@link bytes} as lower-case hexadecimal. */
  readonly hex: string;
  private encoded: PositionBytes | undefined;

  /**
   * @param parts the leading elements (see the module comment's table).
   * @throws {RangeError} for a negative element or one of more than 255 bytes.
   */
  constructor(readonly parts: readonly bigint[]) {
    let hex = '';
    for (const p of parts) hex += elementHex(p);
    this.hex = hex;
  }

  /** The encoded {@link parts}. */
  get bytes(): PositionBytes {
    return (this.encoded ??= positionFromHex(this.hex));
  }

  /** The position of the change at `ordinal` within this base, as hexadecimal. */
  rowHex(ordinal: number): string {
    return this.hex + ordinalHex(ordinal);
  }

  /** The position of the change at `ordinal` within this base. */
  row(ordinal: number): PositionBytes {
    return encodePosition([...this.parts, BigInt(ordinal)]);
  }
}
