import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import { deserializeVector, readVector, relativeVectorPath, serializeVector, unionPositions, vectorFile, vectorUniqueId, z85Decode, z85Encode } from './deletion-vector.js';

describe('z85', () => {
  it('encodes the ZeroMQ spec example and decodes it back', () => {
    // RFC 32 (https://rfc.zeromq.org/spec/32/): 0x86 0x4F 0xD2 0x6F 0xB5 0x59 0xF7 0x5B → "HelloWorld"
    const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).toBe('HelloWorld');
    expect([...z85Decode('HelloWorld')]).toEqual([...bytes]);
  });

  it('refuses lengths that are not whole groups and characters outside the alphabet', () => {
    expect(() => z85Encode(new Uint8Array(3))).toThrow(/multiple of 4/);
    expect(() => z85Decode('abcd')).toThrow(/multiple of 5/);
    expect(() => z85Decode('abc"d')).toThrow(/alphabet/);
  });
});

describe('RoaringBitmapArray (portable)', () => {
  it('writes the layout the protocol describes: magic, bitmap count, key, Roaring cookie, containers', () => {
    const bytes = serializeVector([0, 9]);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(0, true)).toBe(1681511377);
    expect(view.getBigUint64(4, true)).toBe(1n); // one 32-bit bitmap
    expect(view.getUint32(12, true)).toBe(0); // its high 32 bits
    expect(view.getUint32(16, true)).toBe(12346); // no run containers
    expect(view.getUint32(20, true)).toBe(1); // one container
    expect(view.getUint16(24, true)).toBe(0); // key
    expect(view.getUint16(26, true)).toBe(1); // cardinality - 1
    expect(view.getUint32(28, true)).toBe(16); // offset of the container in the bitmap
    expect([view.getUint16(32, true), view.getUint16(34, true)]).toEqual([0, 9]);
    expect(bytes.length).toBe(36);
  });

  it('round-trips array and bitset containers across 16- and 32-bit boundaries', () => {
    const dense = Array.from({ length: 5000 }, (_v, i) => 70_000 + i * 2); // > 4096 in one container: a bitset
    const positions = [0, 1, 65_535, 65_536, ...dense, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5];
    const sorted = [...new Set(positions)].sort((a, b) => a - b);
    expect(deserializeVector(serializeVector(sorted))).toEqual(sorted);
    expect(deserializeVector(serializeVector([]))).toEqual([]);
  });

  it('reads run containers (cookie 12347), which other writers use', () => {
    // one container, key 0, a run 10..14 and a run 100..100
    const bytes = new Uint8Array(64);
    const view = new DataView(bytes.buffer);
    let at = 0;
    view.setUint32(at, 1681511377, true); at += 4;
    view.setBigUint64(at, 1n, true); at += 8;
    view.setUint32(at, 0, true); at += 4;
    view.setUint16(at, 12347, true); at += 2;
    view.setUint16(at, 0, true); at += 2; // size - 1
    bytes[at++] = 1; // container 0 is a run container
    view.setUint16(at, 0, true); at += 2;
    view.setUint16(at, 5, true); at += 2; // cardinality - 1
    view.setUint16(at, 2, true); at += 2; // two runs
    view.setUint16(at, 10, true); at += 2;
    view.setUint16(at, 4, true); at += 2;
    view.setUint16(at, 100, true); at += 2;
    view.setUint16(at, 0, true); at += 2;
    expect(deserializeVector(bytes.subarray(0, at))).toEqual([10, 11, 12, 13, 14, 100]);
  });

  it('refuses the native serialization and unknown magics', () => {
    const native = new Uint8Array(12);
    new DataView(native.buffer).setUint32(0, 1681511376, true);
    expect(() => deserializeVector(native)).toThrow(/native/);
    expect(() => deserializeVector(new Uint8Array(12))).toThrow(/magic/);
  });
});

describe('deletion vector files', () => {
  it('writes version 1, the big-endian size, the vector and its CRC-32, and reads them back by descriptor', async () => {
    const file = vectorFile([3, 7, 8]);
    expect(file.bytes[0]).toBe(1);
    const view = new DataView(file.bytes.buffer);
    expect(view.getUint32(1, false)).toBe(file.descriptor.sizeInBytes);
    const data = file.bytes.subarray(5, 5 + file.descriptor.sizeInBytes);
    expect(view.getUint32(5 + file.descriptor.sizeInBytes, false)).toBe(crc32(data));
    expect(file.descriptor).toMatchObject({ storageType: 'u', offset: 1, cardinality: 3 });
    expect(file.descriptor.pathOrInlineDv).toHaveLength(20);
    expect(relativeVectorPath(file.descriptor)).toBe(file.path);
    expect(vectorUniqueId(file.descriptor)).toBe(`u${file.descriptor.pathOrInlineDv}@1`);
    const positions = await readVector(file.descriptor, async (path) => (path === file.path ? file.bytes : null), 'db/t');
    expect(positions).toEqual([3, 7, 8]);
  });

  it('names the table and the vector when the file is missing, damaged or disagrees with the log', async () => {
    const file = vectorFile([1, 2]);
    await expect(readVector(file.descriptor, async () => null, 'db/t')).rejects.toThrow(/db\/t: deletion vector u.* is missing/);
    const damaged = file.bytes.slice();
    damaged[damaged.length - 6]! ^= 0xff;
    const error = await readVector(file.descriptor, async () => damaged, 'db/t').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CdcError);
    expect((error as CdcError).code).toBe('DELTA_DELETION_VECTOR_INVALID');
    expect((error as CdcError).message).toMatch(/CRC-32/);
    await expect(readVector({ ...file.descriptor, cardinality: 3 }, async () => file.bytes, 'db/t')).rejects.toThrow(/cardinality is 3/);
  });

  it('reads inline vectors (Z85 of magic and bitmap, padded to whole groups)', async () => {
    const data = serializeVector([2, 4]);
    const padded = new Uint8Array(Math.ceil(data.length / 4) * 4);
    padded.set(data);
    const positions = await readVector({ storageType: 'i', pathOrInlineDv: z85Encode(padded), sizeInBytes: data.length, cardinality: 2 }, async () => null, 'db/t');
    expect(positions).toEqual([2, 4]);
  });

  it('unites position lists', () => {
    expect(unionPositions([1, 3, 5], [2, 3, 9])).toEqual([1, 2, 3, 5, 9]);
    expect(unionPositions([], [4])).toEqual([4]);
  });
});
