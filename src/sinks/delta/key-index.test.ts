import { describe, expect, it } from 'vitest';
import { KeyIndex, keyText } from './key-index.js';

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
  it('finds the files of a key, one entry per row, and forgets a removed file', () => {
    const index = new KeyIndex();
    index.addFile('a', ['k1', 'k2', 'k2']);
    index.addFile('b', ['k2', 'k3']);
    expect(index.files('k2')).toEqual(['a', 'a', 'b']);
    index.removeFile('a');
    expect(index.files('k1')).toEqual([]);
    expect(index.files('k2')).toEqual(['b']);
    expect(index.size).toBe(2);
  });
});
