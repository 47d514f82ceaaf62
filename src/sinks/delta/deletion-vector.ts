/**
 * Delta deletion vectors: which rows of a data file are logically deleted, as a set of row
 * positions (0-based, in the file's physical row order).
 *
 * Formats, all from delta-io/delta PROTOCOL.md §Deletion Vectors:
 * - the descriptor (`deletionVector` of `add` / `remove`): `storageType` `u` (a file named by a
 *   Z85-encoded UUID beside the table's data), `i` (inline, Z85 text in the log) or `p` (an
 *   absolute path), `offset`, `sizeInBytes`, `cardinality` (§Deletion Vector Descriptor Schema);
 * - the bitmap, "RoaringBitmapArray" in its portable form: magic 1681511377 (uint32 LE), the
 *   number of 32-bit bitmaps (uint64 LE), then per bitmap its high 32 bits (uint32 LE) and a
 *   32-bit Roaring bitmap in the portable serialization of RoaringFormatSpec
 *   (https://github.com/RoaringBitmap/RoaringFormatSpec) (§Deletion Vector Format);
 * - the file: a version byte (1), then per vector its size (uint32 BE, magic + bitmap), the
 *   magic and bitmap, and a CRC-32 (ISO-HDLC, uint32 BE) of magic + bitmap (§Deletion Vector
 *   File Storage Format).
 * Z85: https://rfc.zeromq.org/spec/32/.
 */
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { CdcError } from '../../errors.js';

/** `deletionVector` of an add or remove action (PROTOCOL.md §Deletion Vector Descriptor Schema). */
export interface DeletionVectorDescriptor {
  /** `u`: relative file named by a UUID; `i`: inline; `p`: absolute path. */
  readonly storageType: 'u' | 'i' | 'p';
  /** `u`: an optional random prefix and the Z85-encoded UUID (20 chars); `i`: the Z85 bitmap; `p`: a path. */
  readonly pathOrInlineDv: string;
  /** Bytes from the start of the file to the vector's size field (absent for inline vectors). */
  readonly offset?: number;
  /** Bytes of the serialized vector (magic + bitmap), before Z85 for inline ones. */
  readonly sizeInBytes: number;
  /** Rows the vector deletes. */
  readonly cardinality: number;
}

/** The magic of the portable RoaringBitmapArray serialization. */
const PORTABLE_MAGIC = 1681511377;
/** The magic of the native (Delta Spark's own) serialization. */
const NATIVE_MAGIC = 1681511376;
const SERIAL_COOKIE_NO_RUN = 12346;
const SERIAL_COOKIE_RUN = 12347;
/** Containers with more values than this are bitsets, fewer are sorted arrays (RoaringFormatSpec). */
const ARRAY_MAX = 4096;

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_VALUE = new Map([...Z85].map((c, i) => [c, i]));

/**
 * Z85-encodes bytes whose length is a multiple of 4 (5 characters per 4 bytes, big-endian).
 * @throws {Error} when the length is not a multiple of 4.
 */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new Error(`z85: ${bytes.length} bytes is not a multiple of 4`);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = Z85[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

/**
 * Decodes Z85 text (a multiple of 5 characters) into bytes.
 * @throws {Error} for another length or a character outside the alphabet.
 */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw new Error(`z85: ${text.length} characters is not a multiple of 5`);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let k = 0; k < 5; k++) {
      const digit = Z85_VALUE.get(text[i + k]!);
      if (digit === undefined) throw new Error(`z85: character ${JSON.stringify(text[i + k])} is not in the alphabet`);
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) throw new Error('z85: a group exceeds 32 bits');
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/** The 20-character Z85 form of a UUID's 16 bytes. */
function uuidToZ85(uuid: string): string {
  return z85Encode(Buffer.from(uuid.replaceAll('-', ''), 'hex'));
}

/** The canonical text of a UUID from its Z85 form. */
function z85ToUuid(text: string): string {
  const hex = Buffer.from(z85Decode(text)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The file of a `u` (relative) vector, relative to the table root:
 * `<prefix>/deletion_vector_<uuid>.bin` (PROTOCOL.md §Derived Fields, absolutePath).
 * @throws {Error} when the descriptor's path does not end with a Z85 UUID.
 */
export function relativeVectorPath(descriptor: DeletionVectorDescriptor): string {
  const text = descriptor.pathOrInlineDv;
  if (text.length < 20) throw new Error(`deletion vector path ${JSON.stringify(text)} is shorter than a Z85 UUID`);
  const prefix = text.slice(0, -20);
  const name = `deletion_vector_${z85ToUuid(text.slice(-20))}.bin`;
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** A descriptor's identity within its file (PROTOCOL.md §Derived Fields, uniqueId). */
export function vectorUniqueId(descriptor: DeletionVectorDescriptor | undefined): string {
  if (!descriptor) return '';
  return descriptor.offset === undefined ? `${descriptor.storageType}${descriptor.pathOrInlineDv}` : `${descriptor.storageType}${descriptor.pathOrInlineDv}@${descriptor.offset}`;
}

/** A growable little-endian byte writer. */
class ByteWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number, littleEndian = true): void {
    this.room(4);
    this.view.setUint32(this.length, v, littleEndian);
    this.length += 4;
  }
  u64(v: number): void {
    this.room(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
  }
  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Appends a 32-bit Roaring bitmap of `values` (sorted, distinct, < 2^32) in the portable form, without run containers. */
function writeRoaring32(out: ByteWriter, values: readonly number[], from: number, to: number): void {
  // Containers: values grouped by their high 16 bits.
  const containers: { key: number; start: number; end: number }[] = [];
  for (let i = from; i < to; ) {
    const key = Math.floor((values[i]! % 0x100000000) / 0x10000);
    let j = i;
    while (j < to && Math.floor((values[j]! % 0x100000000) / 0x10000) === key) j++;
    containers.push({ key, start: i, end: j });
    i = j;
  }
  const headerBytes = 8 + containers.length * 4 + containers.length * 4;
  out.u32(SERIAL_COOKIE_NO_RUN);
  out.u32(containers.length);
  for (const c of containers) {
    out.u16(c.key);
    out.u16(c.end - c.start - 1);
  }
  let offset = headerBytes;
  for (const c of containers) {
    out.u32(offset);
    const n = c.end - c.start;
    offset += n > ARRAY_MAX ? 8192 : n * 2;
  }
  for (const c of containers) {
    const n = c.end - c.start;
    if (n > ARRAY_MAX) {
      const bits = new Uint8Array(8192);
      for (let i = c.start; i < c.end; i++) {
        const low = values[i]! % 0x10000;
        bits[low >>> 3]! |= 1 << (low & 7);
      }
      out.bytes(bits);
    } else {
      for (let i = c.start; i < c.end; i++) out.u16(values[i]! % 0x10000);
    }
  }
}

/**
 * The portable RoaringBitmapArray serialization (magic included) of row positions.
 * @param positions sorted ascending, distinct, each an integer in [0, 2^53)
 */
export function serializeVector(positions: readonly number[]): Uint8Array {
  const out = new ByteWriter();
  out.u32(PORTABLE_MAGIC);
  // One 32-bit bitmap per distinct high 32 bits.
  const buckets: { key: number; start: number; end: number }[] = [];
  for (let i = 0; i < positions.length; ) {
    const key = Math.floor(positions[i]! / 0x100000000);
    let j = i;
    while (j < positions.length && Math.floor(positions[j]! / 0x100000000) === key) j++;
    buckets.push({ key, start: i, end: j });
    i = j;
  }
  out.u64(buckets.length);
  for (const b of buckets) {
    out.u32(b.key);
    writeRoaring32(out, positions, b.start, b.end);
  }
  return out.result();
}

/** A bounds-checked little-endian reader over a vector's bytes. */
class ByteReader {
  private readonly view: DataView;
  at = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new Error(`the bitmap ends at byte ${this.bytes.length}, ${n} more were expected at ${this.at}`);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`count ${v} is out of range`);
    return Number(v);
  }
  slice(n: number): Uint8Array {
    this.need(n);
    const s = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return s;
  }
}

/** Reads one 32-bit portable Roaring bitmap, pushing `high + value` for each value, in order. */
function readRoaring32(input: ByteReader, high: number, out: number[]): void {
  const cookieWord = input.u32();
  let size: number;
  let runFlags: Uint8Array | undefined;
  if (cookieWord === SERIAL_COOKIE_NO_RUN) {
    size = input.u32();
  } else if ((cookieWord & 0xffff) === SERIAL_COOKIE_RUN) {
    size = (cookieWord >>> 16) + 1;
    runFlags = input.slice(Math.ceil(size / 8));
  } else {
    throw new Error(`unknown Roaring cookie ${cookieWord}`);
  }
  const keys: number[] = [];
  const cardinalities: number[] = [];
  for (let i = 0; i < size; i++) {
    keys.push(input.u16());
    cardinalities.push(input.u16() + 1);
  }
  // Offsets are present without runs, or with runs from 4 containers on; containers follow in order anyway.
  if (!runFlags || size >= 4) input.slice(size * 4);
  for (let i = 0; i < size; i++) {
    const base = high + keys[i]! * 0x10000;
    const isRun = runFlags !== undefined && (runFlags[i >>> 3]! & (1 << (i & 7))) !== 0;
    if (isRun) {
      const runs = input.u16();
      for (let r = 0; r < runs; r++) {
        const first = input.u16();
        const length = input.u16();
        for (let v = first; v <= first + length; v++) out.push(base + v);
      }
    } else if (cardinalities[i]! > ARRAY_MAX) {
      const bits = input.slice(8192);
      for (let byte = 0; byte < 8192; byte++) {
        const b = bits[byte]!;
        if (b === 0) continue;
        for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) out.push(base + byte * 8 + bit);
      }
    } else {
      for (let k = 0; k < cardinalities[i]!; k++) out.push(base + input.u16());
    }
  }
}

/**
 * The row positions of a serialized RoaringBitmapArray (magic included), ascending.
 * @throws {Error} for another magic (the native form is not read) or truncated bytes.
 */
export function deserializeVector(bytes: Uint8Array): number[] {
  const input = new ByteReader(bytes);
  const magic = input.u32();
  if (magic === NATIVE_MAGIC) throw new Error('the native RoaringBitmapArray serialization is not supported (only the portable one)');
  if (magic !== PORTABLE_MAGIC) throw new Error(`magic ${magic} is not a RoaringBitmapArray's`);
  const count = input.u64();
  const out: number[] = [];
  for (let b = 0; b < count; b++) {
    const key = input.u32();
    readRoaring32(input, key * 0x100000000, out);
  }
  return out;
}

/**
 * One deletion vector file (`deletion_vector_<uuid>.bin`, version 1, one vector at offset 1) and
 * its descriptor. Positions sorted ascending and distinct.
 */
export function vectorFile(positions: readonly number[]): { path: string; bytes: Uint8Array; descriptor: DeletionVectorDescriptor } {
  const uuid = randomUUID();
  const data = serializeVector(positions);
  const bytes = new Uint8Array(1 + 4 + data.length + 4);
  const view = new DataView(bytes.buffer);
  bytes[0] = 1;
  view.setUint32(1, data.length, false);
  bytes.set(data, 5);
  view.setUint32(5 + data.length, crc32(data), false);
  const descriptor: DeletionVectorDescriptor = { storageType: 'u', pathOrInlineDv: uuidToZ85(uuid), offset: 1, sizeInBytes: data.length, cardinality: positions.length };
  return { path: `deletion_vector_${uuid}.bin`, bytes, descriptor };
}

/**
 * Reads the positions a descriptor deletes, from the log itself (inline) or from its file.
 * @param readFile reads a file relative to the table root (`u`) or by its absolute path (`p`); null when missing
 * @param table the table, for messages
 * @throws {CdcError} DELTA_DELETION_VECTOR_INVALID naming the table and vector when it is
 *   missing, damaged (size or CRC-32 mismatch) or of a form this reader does not know.
 */
export async function readVector(
  descriptor: DeletionVectorDescriptor,
  readFile: (path: string, absolute: boolean) => Promise<Uint8Array | null>,
  table: string,
): Promise<number[]> {
  const invalid = (why: string, cause?: unknown): CdcError =>
    new CdcError('DELTA_DELETION_VECTOR_INVALID', `${table}: deletion vector ${descriptor.storageType}${descriptor.pathOrInlineDv} ${why}`, {
      remedy: 'the table is damaged: restore the deletion vector file from a backup, or remove the table and copy it again with --resync',
      cause,
    });
  try {
    let positions: number[];
    if (descriptor.storageType === 'i') {
      // Inline vectors are Z85 of magic + bitmap, padded to a multiple of 4 bytes.
      positions = deserializeVector(z85Decode(descriptor.pathOrInlineDv).subarray(0, descriptor.sizeInBytes));
    } else {
      const path = descriptor.storageType === 'u' ? relativeVectorPath(descriptor) : descriptor.pathOrInlineDv;
      const file = await readFile(path, descriptor.storageType === 'p');
      if (!file) throw invalid(`is missing (${path})`);
      if (file[0] !== 1) throw invalid(`has file format version ${file[0]}, not 1`);
      const at = descriptor.offset ?? 1;
      if (at + 4 > file.length) throw invalid(`starts at byte ${at}, past the end of its ${file.length}-byte file`);
      const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
      const size = view.getUint32(at, false);
      if (size !== descriptor.sizeInBytes) throw invalid(`is ${size} bytes in its file, but ${descriptor.sizeInBytes} in the log`);
      if (at + 4 + size + 4 > file.length) throw invalid(`is cut short: its file has ${file.length} bytes`);
      const data = file.subarray(at + 4, at + 4 + size);
      if (crc32(data) !== view.getUint32(at + 4 + size, false)) throw invalid('fails its CRC-32 check');
      positions = deserializeVector(data);
    }
    if (positions.length !== descriptor.cardinality) throw invalid(`holds ${positions.length} rows, but its cardinality is ${descriptor.cardinality}`);
    return positions;
  } catch (error) {
    if (error instanceof CdcError) throw error;
    throw invalid(`cannot be read: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

/** Merges two ascending position lists into one ascending list without duplicates. */
export function unionPositions(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    const v = Math.min(x, y);
    if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
    if (x === v) i++;
    if (y === v) j++;
  }
  return out;
}
