import { describe, expect, it } from 'vitest';
import { KeyIndex, keysOfColumns, keyText, packRow, unpackRow, type KeyRow } from './key-index.js';

describe('key text', () => {
  it('tells apart values that print alike and keys whose parts could run together', () => {
    const keys = [
      [1],
      ['1'],
      [1n],
      [{ unscaled: 10n, scale: 1 }],
      [{ unscaled: 1n, scale: 0 }],
      [null],
      ['z'],
      [new Uint8Array([1])],
      ['a', 'bc'],
      ['ab', 'c'],
      ['1:s', ''],
      [-0],
      [0],
    ].map((k) => keyText(k));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keyText([5n, 'x'])).toBe(keyText([5n, 'x']));
  });
});

describe('key index', () => {
  const sorted = (rows: readonly KeyRow[]) => [...rows].sort((a, b) => a.file.localeCompare(b.file) || a.position - b.position);

  it('finds the rows of a key by file and position, one entry per row, and forgets a removed file', () => {
    const index = new KeyIndex();
    index.addFile('a', ['k1', 'k2', 'k2']);
    index.addFile('b', ['k2', 'k3']);
    expect(sorted(index.rows('k2'))).toEqual([
      { file: 'a', position: 1 },
      { file: 'a', position: 2 },
      { file: 'b', position: 0 },
    ]);
    expect(index.physicalRows('a')).toBe(3);
    index.removeFile('a');
    expect(index.rows('k1')).toEqual([]);
    expect(index.rows('k2')).toEqual([{ file: 'b', position: 0 }]);
    expect(index.size).toBe(2);
    expect(index.physicalRows('a')).toBeUndefined();
  });

  it('visits the rows of a key without a list, until the visitor says stop', () => {
    const index = new KeyIndex();
    index.addFile('a', ['r', 'x', 'r']);
    index.addFile('b', ['r']);
    const seen: string[] = [];
    index.forEachRow('r', (file, position) => {
      seen.push(`${file}:${position}`);
      return seen.length < 2;
    });
    expect(seen).toHaveLength(2);
    index.forEachRow('x', (file, position) => seen.push(`${file}:${position}`) > 0);
    expect(seen[2]).toBe('a:1');
  });

  it('leaves out the rows of a deletion vector, and forgets rows a new vector deletes', () => {
    const index = new KeyIndex();
    index.addFile('a', ['k1', 'k2', 'k3', 'k4'], [1]);
    expect(index.rows('k2')).toEqual([]);
    expect(index.size).toBe(3);
    index.deleteRows('a', [0, 3]);
    expect(index.rows('k1')).toEqual([]);
    expect(index.rows('k3')).toEqual([{ file: 'a', position: 2 }]);
    expect(index.physicalRows('a')).toBe(4); // the file keeps its physical rows
    // Removing the file afterwards skips the rows already gone.
    index.removeFile('a');
    expect(index.size).toBe(0);
  });

  it('reuses the id of a removed file without mixing up its rows with the new file', () => {
    const index = new KeyIndex();
    index.addFile('a', ['k1', 'k2']);
    index.addFile('b', ['k3']);
    index.removeFile('a');
    index.addFile('c', ['k2', 'k1']);
    expect(index.rows('k1')).toEqual([{ file: 'c', position: 1 }]);
    expect(index.rows('k3')).toEqual([{ file: 'b', position: 0 }]);
    expect(index.fileCount).toBe(2);
  });

  it('keeps a key several rows hold (a table without a primary key) until the last goes', () => {
    const index = new KeyIndex();
    index.addFile('a', ['r', 'r', 'r']);
    index.deleteRows('a', [1]);
    expect(sorted(index.rows('r'))).toEqual([
      { file: 'a', position: 0 },
      { file: 'a', position: 2 },
    ]);
    index.deleteRows('a', [0, 2]);
    expect(index.rows('r')).toEqual([]);
    expect(index.size).toBe(0);
  });

  it('packs file ids and positions into one number and back exactly, past 2^24 rows and 128 files', () => {
    for (const [id, position] of [
      [0, 0],
      [0, 2 ** 24 - 1],
      [0, 2 ** 24],
      [127, 2 ** 24 - 1],
      [128, 5],
      [2 ** 21 - 1, 2 ** 32 - 1],
      [3, 2 ** 24 + 7],
    ] as const) {
      const packed = packRow(id, position);
      expect(unpackRow(packed)).toEqual({ id, position });
      expect(Number.isSafeInteger(packed)).toBe(true);
    }
    expect(packRow(127, 2 ** 24 - 1)).toBeLessThan(2 ** 31); // a small integer in V8
    expect(new Set([packRow(0, 2 ** 24), packRow(1, 0)]).size).toBe(2);
  });

  it('indexes more files than a small integer packs (ids past 128)', () => {
    const index = new KeyIndex();
    for (let f = 0; f < 200; f++) index.addFile(`f${f}`, [`k${f}`, `j${f}`]);
    expect(index.rows('j199')).toEqual([{ file: 'f199', position: 1 }]);
    index.removeFile('f150');
    expect(index.rows('k150')).toEqual([]);
    expect(index.size).toBe(398);
  });
});

describe('keys of columns', () => {
  it('gives the key text of each row, for one key column and for several', () => {
    expect(keysOfColumns([[1, 2]], 2)).toEqual([keyText([1]), keyText([2])]);
    expect(keysOfColumns([[1, 2], ['a', 'b']], 2)).toEqual([keyText([1, 'a']), keyText([2, 'b'])]);
  });
});
