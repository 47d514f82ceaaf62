/**
 * The primary-key → data file index of one Delta table (DESIGN.md §6.1): which live files hold
 * each key, so a batch reads and rewrites only those. Kept in memory, built from the table's
 * files at the first merge of a run and updated with every commit; for a table without a primary
 * key the "key" is the whole row and a file may hold it several times.
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
 * part per value (see `part`), each after its length, so no value can pass for two.
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

/** Which files hold each key. */
export class KeyIndex {
  /** Key → the file holding it, or the files (one entry per row) when several rows have it. */
  private readonly byKey = new Map<string, string | string[]>();
  private readonly byFile = new Map<string, readonly string[]>();

  /** Keys indexed (distinct). */
  get size(): number {
    return this.byKey.size;
  }

  /** The files holding `key`, one entry per row that has it (empty when none). */
  files(key: string): readonly string[] {
    const v = this.byKey.get(key);
    return v === undefined ? [] : typeof v === 'string' ? [v] : v;
  }

  /** Records that `file` holds a row of each of `keys` (in the file's row order). */
  addFile(file: string, keys: readonly string[]): void {
    this.byFile.set(file, keys);
    for (const key of keys) {
      const v = this.byKey.get(key);
      if (v === undefined) this.byKey.set(key, file);
      else if (typeof v === 'string') this.byKey.set(key, [v, file]);
      else v.push(file);
    }
  }

  /**
   * Forgets one row of `file` per key in `keys` (rows a deletion vector deletes; the file stays).
   * The file's own key list keeps them: {@link removeFile} skips keys no longer in the file.
   */
  deleteRows(file: string, keys: readonly string[]): void {
    for (const key of keys) {
      const v = this.byKey.get(key);
      if (v === undefined) continue;
      if (typeof v === 'string') {
        if (v === file) this.byKey.delete(key);
        continue;
      }
      const at = v.indexOf(file);
      if (at < 0) continue;
      v.splice(at, 1);
      if (v.length === 1) this.byKey.set(key, v[0]!);
      else if (v.length === 0) this.byKey.delete(key);
    }
  }

  /** Forgets the rows of `file` (removed from the table). */
  removeFile(file: string): void {
    const keys = this.byFile.get(file);
    if (!keys) return;
    this.byFile.delete(file);
    for (const key of keys) {
      const v = this.byKey.get(key);
      if (v === undefined) continue;
      if (typeof v === 'string') {
        if (v === file) this.byKey.delete(key);
        continue;
      }
      const left = v.filter((f) => f !== file);
      if (left.length === 0) this.byKey.delete(key);
      else if (left.length === 1) this.byKey.set(key, left[0]!);
      else this.byKey.set(key, left);
    }
  }
}
