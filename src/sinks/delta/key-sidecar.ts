/**
 * Key sidecars: the key of every row of one data file, in physical row order, stored beside the
 * table so that the key index (key-index.ts) of a reopened table is loaded without reading the
 * data files. Data files never change, so a sidecar written with its data file stays right.
 * Sidecars live under `<table>/_cdc_key_index/`, a directory Delta readers never list and Delta
 * VACUUM skips (names starting with `_`): `<table>/_cdc_key_index/<data file path>.keys`, the
 * data file path as in the table directory (partition directories included).
 *
 * Format (version 1), all integers little-endian:
 * - 4 bytes: the magic `CDCK`;
 * - 1 byte: the format version, 1; 1 byte: reserved, 0;
 * - u16: the byte length H of the header, then H bytes: UTF-8 JSON
 *   `{"columns": [<key column names>], "rows": <row count N>}`: the columns the keys are made of,
 *   in key order (every column of a table without a primary key);
 * - N unsigned LEB128 varints: the length of each row's key text, in UTF-16 code units;
 * - u32: the byte length B of the texts, then B bytes: the key texts (see `keyText`) one after
 *   the other, as UTF-8;
 * - u32: the CRC-32 (ISO-HDLC, as zlib's) of every byte before it.
 * A reader refuses another magic or version, a header that does not parse, lengths that run past
 * the texts or do not add up to them, trailing bytes, and a CRC-32 mismatch.
 */
import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';
import type { LakeStorage } from '../lake/storage.js';
import { KeyIndex } from './key-index.js';
import { uriToPath } from './partitions.js';

/** The directory of a table that holds its key sidecars. */
export const KEY_SIDECAR_DIRECTORY = '_cdc_key_index';

const MAGIC = [0x43, 0x44, 0x43, 0x4b]; // "CDCK"
const VERSION = 1;

/**
 * The path, relative to the table directory, of the sidecar of a data file whose path relative
 * to the table directory is `dataFile` (a storage path, not the `add` action's URI).
 */
export function keySidecarPath(dataFile: string): string {
  return `${KEY_SIDECAR_DIRECTORY}/${dataFile}.keys`;
}

/**
 * The data file path (relative to the table directory) whose sidecar is at `sidecar` (relative
 * to the table directory), or undefined when `sidecar` is not a sidecar path.
 */
export function dataFileOfSidecar(sidecar: string): string | undefined {
  const prefix = `${KEY_SIDECAR_DIRECTORY}/`;
  if (!sidecar.startsWith(prefix) || !sidecar.endsWith('.keys')) return undefined;
  return sidecar.slice(prefix.length, -'.keys'.length);
}

/** A sidecar that cannot be used: damaged, of another format, or of other key columns. */
export class KeySidecarInvalid extends Error {
  override readonly name = 'KeySidecarInvalid';
}

/**
 * Encodes the keys of a data file's rows (`keys[p]` is the key text of physical row p) made of
 * the columns named `columns` (see the module's format).
 * @throws {RangeError} when the header exceeds 65,535 bytes or the texts 4 GiB.
 */
export function encodeKeySidecar(columns: readonly string[], keys: readonly string[]): Uint8Array {
  const header = Buffer.from(JSON.stringify({ columns, rows: keys.length }), 'utf8');
  if (header.length > 0xffff) throw new RangeError(`key sidecar: a header of ${header.length} bytes (at most 65,535)`);
  const text = Buffer.from(keys.join(''), 'utf8');
  if (text.length > 0xffffffff) throw new RangeError(`key sidecar: ${text.length} bytes of keys (at most 4 GiB)`);
  const lengths: number[] = [];
  for (const key of keys) {
    let n = key.length;
    while (n >= 0x80) {
      lengths.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    lengths.push(n);
  }
  const out = Buffer.alloc(8 + header.length + lengths.length + 4 + text.length + 4);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = 0;
  out.writeUInt16LE(header.length, 6);
  let at = 8;
  out.set(header, at);
  at += header.length;
  out.set(lengths, at);
  at += lengths.length;
  out.writeUInt32LE(text.length, at);
  at += 4;
  out.set(text, at);
  at += text.length;
  out.writeUInt32LE(crc32(out.subarray(0, at)), at);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Decodes a sidecar written by {@link encodeKeySidecar}.
 * @param columns the key columns the caller needs: a sidecar of other columns is refused.
 * @returns the key text of each physical row, in row order.
 * @throws {KeySidecarInvalid} naming what is wrong (see the module's format).
 */
export function decodeKeySidecar(bytes: Uint8Array, columns: readonly string[]): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const fail = (why: string): never => {
    throw new KeySidecarInvalid(`key sidecar ${why}`);
  };
  if (buffer.length < 16) fail(`is too short (${buffer.length} bytes)`);
  if (MAGIC.some((b, i) => buffer[i] !== b)) fail('does not start with CDCK');
  if (buffer[4] !== VERSION) fail(`has format version ${buffer[4]}, not ${VERSION}`);
  const end = buffer.length - 4;
  if (crc32(buffer.subarray(0, end)) !== buffer.readUInt32LE(end)) fail('fails its CRC-32 check');
  const headerLength = buffer.readUInt16LE(6);
  let at = 8 + headerLength;
  if (at > end) fail('has a header longer than the file');
  let header: { columns?: unknown; rows?: unknown };
  try {
    header = JSON.parse(buffer.toString('utf8', 8, at)) as typeof header;
  } catch {
    return fail('has a header that is not JSON');
  }
  const rows = header.rows;
  if (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 0) return fail('has no row count');
  if (!Array.isArray(header.columns) || JSON.stringify(header.columns) !== JSON.stringify(columns)) {
    fail(`holds keys of ${JSON.stringify(header.columns)}, not ${JSON.stringify(columns)}`);
  }
  const lengths = new Array<number>(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let n = 0;
    let shift = 0;
    for (;;) {
      if (at >= end) fail('ends within its key lengths');
      const b = buffer[at++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 35) fail('has a key length that does not end');
    }
    lengths[r] = n;
    total += n;
  }
  if (at + 4 > end) fail('ends before its key texts');
  const textLength = buffer.readUInt32LE(at);
  at += 4;
  if (at + textLength !== end) fail(`has ${end - at} bytes of key texts where it says ${textLength}`);
  const text = buffer.toString('utf8', at, end);
  if (text.length !== total) fail(`has ${text.length} characters of key texts where its lengths add up to ${total}`);
  const keys = new Array<string>(rows);
  let from = 0;
  for (let r = 0; r < rows; r++) {
    const to = from + lengths[r]!;
    keys[r] = text.slice(from, to);
    from = to;
  }
  return keys;
}

/** Where {@link loadFileKeys} found a file's keys. */
export type KeySource = 'sidecar' | 'data file';

/** Which sidecar: of which data file of which table, for which key columns. */
export interface KeySidecarTarget {
  readonly storage: LakeStorage;
  /** The table directory, relative to the storage root. */
  readonly table: string;
  /** The data file, relative to the table directory (a storage path, not the `add` action's URI). */
  readonly dataFile: string;
  /** The key columns, in key order (see {@link decodeKeySidecar}). */
  readonly columns: readonly string[];
  /** Where sidecars that cannot be read or written are reported (as warnings). */
  readonly log: Logger;
}

/** What {@link loadFileKeys} needs. */
export interface LoadFileKeysOptions extends KeySidecarTarget {
  /** The file's physical row count from the log (stats.numRecords), when known: a sidecar must agree. */
  readonly rows?: number;
  /** Read the data file itself, ignoring a sidecar (after the index disagreed with the file). */
  readonly skipSidecar?: boolean;
  /** The keys of the file's rows, read from the data file (physical order). */
  readonly readDataFile: () => Promise<string[]>;
}

/**
 * A data file's keys, by physical row: from its sidecar when one is there and valid, otherwise
 * read from the data file (then its sidecar is written, best effort: a failure is logged).
 * @throws whatever `readDataFile` throws, and storage errors other than on the sidecar.
 */
export async function loadFileKeys(options: LoadFileKeysOptions): Promise<{ keys: string[]; source: KeySource }> {
  const path = `${options.table}/${keySidecarPath(options.dataFile)}`;
  if (!options.skipSidecar) {
    try {
      const bytes = await options.storage.read(path);
      if (bytes) {
        const keys = decodeKeySidecar(bytes, options.columns);
        if (options.rows !== undefined && keys.length !== options.rows) throw new KeySidecarInvalid(`has ${keys.length} rows, the data file ${options.rows}`);
        return { keys, source: 'sidecar' };
      }
    } catch (error) {
      options.log.warn({ sidecar: path, err: error }, 'delta: a key sidecar cannot be used; the keys are read from the data file');
    }
  }
  const keys = await options.readDataFile();
  await writeKeySidecar(options, keys);
  return { keys, source: 'data file' };
}

/**
 * Writes the sidecar of a data file holding rows of `keys` (physical order), best effort: a
 * failure is logged, and the index reads the data file instead next time. Never throws.
 */
export async function writeKeySidecar(target: KeySidecarTarget, keys: readonly string[]): Promise<void> {
  const path = `${target.table}/${keySidecarPath(target.dataFile)}`;
  try {
    await target.storage.write(path, encodeKeySidecar(target.columns, keys));
  } catch (error) {
    target.log.warn({ sidecar: path, err: error }, 'delta: could not write a key sidecar; the next start reads the data file instead');
  }
}

/**
 * Files whose keys are loaded at once: sidecars are small, and on S3 each read is a round trip;
 * a data file read instead holds its key columns in memory until indexed, so few at a time.
 */
const LOAD_CONCURRENCY = 4;

/** One live data file to index. */
export interface IndexedFile {
  /** The `add` action's path (a URI relative to the table directory). */
  readonly path: string;
  /** Its physical row count (stats.numRecords), when the log has it. */
  readonly rows?: number;
}

/** What {@link loadKeyIndex} needs. */
export interface LoadKeyIndexOptions {
  readonly storage: LakeStorage;
  /** The table directory, relative to the storage root. */
  readonly table: string;
  readonly files: readonly IndexedFile[];
  /** The key columns, in key order. */
  readonly columns: readonly string[];
  /** `add` paths whose sidecars are not to be trusted (they disagreed with their data file). */
  readonly distrusted: ReadonlySet<string>;
  /** The keys of a file's rows read from the data file, by physical position. */
  readonly readDataFile: (path: string) => Promise<string[]>;
  /** The positions a file's deletion vector deletes (not indexed). */
  readonly deletedPositions: (path: string) => Promise<readonly number[]>;
  readonly log: Logger;
}

/**
 * Builds the key index of a table's live files: each file's keys from its sidecar or its data
 * file (see {@link loadFileKeys}), its deleted rows left out.
 * @returns the index, and how many files had a usable sidecar.
 * @throws whatever `readDataFile` and `deletedPositions` throw.
 */
export async function loadKeyIndex(options: LoadKeyIndexOptions): Promise<{ index: KeyIndex; fromSidecars: number }> {
  const index = new KeyIndex();
  let fromSidecars = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.files.length) {
      const file = options.files[next++]!;
      const loaded = await loadFileKeys({
        storage: options.storage,
        table: options.table,
        dataFile: uriToPath(file.path),
        columns: options.columns,
        rows: file.rows,
        skipSidecar: options.distrusted.has(file.path),
        readDataFile: () => options.readDataFile(file.path),
        log: options.log,
      });
      if (loaded.source === 'sidecar') fromSidecars++;
      index.addFile(file.path, loaded.keys, await options.deletedPositions(file.path));
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, options.files.length) }, worker));
  return { index, fromSidecars };
}
