/**
 * The primary-key → row index of one Delta table (DESIGN.md §6.1): for each key, the live rows
 * holding it as (data file, physical row position), so a batch reads only the files that hold
 * its keys and builds rows only at the positions it changes. Kept in memory, loaded at the
 * first merge of a run (from the key sidecars beside the table, see key-sidecar.ts, or from the
 * data files) and updated with every commit; for a table without a primary key the "key" is the
 * whole row and a file may hold it several times.
 *
 * Memory per key: one map entry from the key text to a number (file id and position packed,
 * see {@link KeyIndex}), plus one slot in its file's key list; paths are stored once per file.
 */
import type { LakeValue } from '../lake/parquet.js';

/** One key value as text: a type tag and the value (exact for 64-bit integers, decimals, bytes). */
function part(v: LakeValue | undefined): string {
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? 'f-0' : `f${v}`;
    case 'string':
      return `s${v}`;
    case 'bigint':
      return `n${v}`;
    case 'boolean':
      return v ? 't' : 'F';
    case 'undefined':
      return 'z';
    default:
      if (v === null) return 'z';
      if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`;
      if (Array.isArray(v)) return `l${keyText(v)}`;
      return `d${(v as { unscaled: bigint }).unscaled}e${(v as { scale: number }).scale}`;
  }
}

/**
 * A key's values as one string, equal for equal keys and different for different ones: one
 * part per value (see `part`), each after its length, so no value can pass for two. Key
 * sidecars store these texts: a change of this form needs a new sidecar format version.
 */
export function keyText(values: readonly (LakeValue | undefined)[]): string {
  if (values.length === 1) return part(values[0]);
  let out = '';
  for (const v of values) {
    const p = part(v);
    out += `${p.length}:${p}`;
  }
  return out;
}

/**
 * The key of each row of columnar data: `columns` holds the key columns (in key order), one
 * array of `rows` values each.
 * @returns keyText of row p at index p.
 */
export function keysOfColumns(columns: readonly (readonly LakeValue[])[], rows: number): string[] {
  const keys = new Array<string>(rows);
  if (columns.length === 1) {
    const only = columns[0]!;
    for (let r = 0; r < rows; r++) keys[r] = keyText([only[r]]);
  } else {
    for (let r = 0; r < rows; r++) keys[r] = keyText(columns.map((c) => c[r]));
  }
  return keys;
}

/**
 * The index disagrees with a data file (a damaged or stale sidecar, or a file changed in
 * place): the key it names at a position is not the file's, or the row counts differ.
 */
export class KeyIndexMismatch extends Error {
  override readonly name = 'KeyIndexMismatch';

  /** @param file the data file (its `add` path). */
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(`the key index disagrees with data file ${file}: ${why}`);
  }
}

/** One indexed row: the data file (its `add` path) and the row's physical position in it (0-based). */
export interface KeyRow {
  readonly file: string;
  readonly position: number;
}

/**
 * Positions below this are packed with the file id into a non-negative number
 * (`id * NARROW + position`): a small integer (no heap allocation) while the id stays under
 * 128. Larger positions use the wide form below.
 */
const NARROW = 2 ** 24;
/** The wide form, for positions from {@link NARROW} on: `-(id * WIDE + position)` (never 0: position > 0). */
const WIDE = 2 ** 32;
/** File ids stay under this so that the wide form is a safe integer (2^21 · 2^32 = 2^53). */
const MAX_FILES = 2 ** 21;

/**
 * A file id (0 ≤ id < 2^21) and a row position (0 ≤ position < 2^32) as one number, exact as a
 * double; a small integer for positions under 2^24 and ids under 128 (see {@link unpackRow}).
 */
export function packRow(id: number, position: number): number {
  return position < NARROW ? id * NARROW + position : -(id * WIDE + position);
}

/** The file id and position of a number made by {@link packRow}. */
export function unpackRow(packed: number): { id: number; position: number } {
  return packed >= 0 ? { id: Math.floor(packed / NARROW), position: packed % NARROW } : { id: Math.floor(-packed / WIDE), position: -packed % WIDE };
}

/**
 * Which live rows hold each key. Files get small integer ids (reused once a file is removed);
 * a key maps to one packed (id, position) number, or to an array of them when several live rows
 * have it (tables without a primary key; a key moved between files within one commit).
 */
export class KeyIndex {
  private readonly byKey = new Map<string, number | number[]>();
  /** By file id: the file's path, and its keys by physical position (deleted rows included). */
  private readonly files: ({ readonly path: string; readonly keys: readonly string[] } | undefined)[] = [];
  private readonly ids = new Map<string, number>();
  private readonly freeIds: number[] = [];

  /** Keys indexed (distinct). */
  get size(): number {
    return this.byKey.size;
  }

  /** Files indexed. */
  get fileCount(): number {
    return this.ids.size;
  }

  /** The live rows holding `key` (empty when none), in no set order. */
  rows(key: string): KeyRow[] {
    const v = this.byKey.get(key);
    if (v === undefined) return [];
    const list = typeof v === 'number' ? [v] : v;
    return list.map((packed) => {
      const { id, position } = unpackRow(packed);
      return { file: this.files[id]!.path, position };
    });
  }

  /**
   * Calls `visit` with each live row holding `key` (in no set order) until it returns false;
   * {@link rows} without allocating a list, for the merge's lookups.
   */
  forEachRow(key: string, visit: (file: string, position: number) => boolean): void {
    const v = this.byKey.get(key);
    if (v === undefined) return;
    if (typeof v === 'number') {
      const { id, position } = unpackRow(v);
      visit(this.files[id]!.path, position);
      return;
    }
    for (const packed of v) {
      const { id, position } = unpackRow(packed);
      if (!visit(this.files[id]!.path, position)) return;
    }
  }

  /** The physical row count of `file` as indexed (undefined when it is not). */
  physicalRows(file: string): number | undefined {
    const id = this.ids.get(file);
    return id === undefined ? undefined : this.files[id]!.keys.length;
  }

  /**
   * Records `file` with the key of each of its rows, by physical position (`keys[p]` is the
   * key of row p), leaving out the rows at `deleted` positions (a deletion vector's). A file
   * indexed already is replaced.
   * @throws {RangeError} past 2,097,152 files, or for a file of 2^32 rows or more.
   */
  addFile(file: string, keys: readonly string[], deleted: readonly number[] = []): void {
    if (this.ids.has(file)) this.removeFile(file);
    if (keys.length > WIDE) throw new RangeError(`key index: ${file} has ${keys.length} rows, more than ${WIDE}`);
    const id = this.freeIds.pop() ?? this.files.length;
    if (id >= MAX_FILES) throw new RangeError(`key index: more than ${MAX_FILES} data files`);
    this.files[id] = { path: file, keys };
    this.ids.set(file, id);
    const gone = deleted.length === 0 ? undefined : new Set(deleted);
    for (let position = 0; position < keys.length; position++) {
      if (gone?.has(position)) continue;
      const key = keys[position]!;
      const packed = packRow(id, position);
      const v = this.byKey.get(key);
      if (v === undefined) this.byKey.set(key, packed);
      else if (typeof v === 'number') this.byKey.set(key, [v, packed]);
      else v.push(packed);
    }
  }

  /**
   * Forgets the rows of `file` at `positions` (rows a new deletion vector deletes; the file
   * stays). Positions not indexed are skipped.
   */
  deleteRows(file: string, positions: readonly number[]): void {
    const id = this.ids.get(file);
    if (id === undefined) return;
    const keys = this.files[id]!.keys;
    for (const position of positions) {
      const key = keys[position];
      if (key !== undefined) this.forget(key, packRow(id, position));
    }
  }

  /** Forgets every row of `file` (removed from the table); its id is free for another file. */
  removeFile(file: string): void {
    const id = this.ids.get(file);
    if (id === undefined) return;
    const keys = this.files[id]!.keys;
    for (let position = 0; position < keys.length; position++) this.forget(keys[position]!, packRow(id, position));
    this.files[id] = undefined;
    this.ids.delete(file);
    this.freeIds.push(id);
  }

  /** Removes one packed row from `key`'s entry (nothing when it is not there). */
  private forget(key: string, packed: number): void {
    const v = this.byKey.get(key);
    if (v === undefined) return;
    if (typeof v === 'number') {
      if (v === packed) this.byKey.delete(key);
      return;
    }
    const at = v.indexOf(packed);
    if (at < 0) return;
    v.splice(at, 1);
    if (v.length === 1) this.byKey.set(key, v[0]!);
  }
}
