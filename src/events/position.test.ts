import { describe, expect, it } from 'vitest';
import { comparePositions, decodePosition, encodePosition, ordinalHex, PositionBase, positionFromHex, positionHex } from './position.js';

/** A deterministic pseudo-random generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function compareLists(a: readonly bigint[], b: readonly bigint[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

describe('row positions', () => {
  it('encode each element as a length byte and big-endian bytes without leading zeros', () => {
    expect(positionHex(encodePosition([]))).toBe('');
    expect(positionHex(encodePosition([0n]))).toBe('00');
    expect(positionHex(encodePosition([255n, 256n]))).toBe('01ff020100');
    expect(positionHex(encodePosition([0x16b374d848n, 3n]))).toBe('0516b374d8480103');
    expect(() => encodePosition([-1n])).toThrow(RangeError);
  });

  it('decode what they encode, and sort bytewise as the lists sort element by element (shorter prefix first)', () => {
    const next = random(42);
    const element = (): bigint => {
      const pick = next();
      if (pick < 0.2) return BigInt(Math.floor(next() * 4));
      if (pick < 0.6) return BigInt(Math.floor(next() * 70000));
      return BigInt(Math.floor(next() * 2 ** 40)) * BigInt(Math.floor(next() * 2 ** 40) + 1);
    };
    const lists = Array.from({ length: 400 }, () => Array.from({ length: Math.floor(next() * 5) }, element));
    for (const l of lists) expect(decodePosition(encodePosition(l))).toEqual(l);
    for (let i = 0; i < lists.length; i++) {
      for (let j = i; j < Math.min(lists.length, i + 40); j++) {
        expect(Math.sign(comparePositions(encodePosition(lists[i]!), encodePosition(lists[j]!)))).toBe(Math.sign(compareLists(lists[i]!, lists[j]!)));
      }
    }
  });

  it('a base and an ordinal give the position of [...parts, ordinal]; hex round-trips', () => {
    const base = new PositionBase([0x16b374d848n]);
    for (const ordinal of [0, 1, 255, 256, 65535, 65536, 16_777_215, 16_777_216, 2 ** 31]) {
      expect(base.rowHex(ordinal)).toBe(positionHex(encodePosition([0x16b374d848n, BigInt(ordinal)])));
      expect(ordinalHex(ordinal)).toBe(positionHex(encodePosition([BigInt(ordinal)])));
    }
    expect(positionFromHex(`\\x${base.hex}`)).toEqual(base.bytes);
    expect(() => decodePosition(Uint8Array.from([3, 1]))).toThrow(/runs past the end/);
  });
});
