import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { LakeStorage, StoredObject } from '../lake/storage.js';
import { keyText } from './key-index.js';
import { dataFileOfSidecar, decodeKeySidecar, encodeKeySidecar, KeySidecarInvalid, keySidecarPath, loadFileKeys, loadKeyIndex } from './key-sidecar.js';

const log = pino({ level: 'silent' });

/** Storage in a map, counting reads (enough for the sidecar functions). */
class MemoryStorage implements LakeStorage {
  readonly description = 'memory';
  readonly objects = new Map<string, Uint8Array>();
  reads = 0;
  failWrites = false;
  async read(path: string): Promise<Uint8Array | null> {
    this.reads++;
    return this.objects.get(path) ?? null;
  }
  async write(path: string, bytes: Uint8Array): Promise<void> {
    if (this.failWrites) throw new Error('read-only');
    this.objects.set(path, bytes);
  }
  async putIfAbsent(path: string, bytes: Uint8Array): Promise<boolean> {
    if (this.objects.has(path)) return false;
    this.objects.set(path, bytes);
    return true;
  }
  async replace(path: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(path, bytes);
  }
  async list(prefix: string): Promise<StoredObject[]> {
    return [...this.objects].filter(([p]) => p.startsWith(prefix)).map(([path, b]) => ({ path, size: b.length, modifiedMs: 0 }));
  }
  async delete(path: string): Promise<void> {
    this.objects.delete(path);
  }
}

const KEYS = [keyText([1]), keyText(['é ü 😀']), keyText([null]), keyText(['']), keyText(['x'.repeat(300)]), keyText([2n, { unscaled: 15n, scale: 1 }])];

describe('key sidecar format', () => {
  it('round-trips keys of every kind in row order, empty ones and long ones included', () => {
    expect(decodeKeySidecar(encodeKeySidecar(['id'], KEYS), ['id'])).toEqual(KEYS);
    expect(decodeKeySidecar(encodeKeySidecar(['a', 'b'], []), ['a', 'b'])).toEqual([]);
  });

  it('starts with CDCK, version 1, and ends with the CRC-32 of the rest', () => {
    const bytes = encodeKeySidecar(['id'], ['f1']);
    expect(Buffer.from(bytes.subarray(0, 5)).toString('latin1')).toBe('CDCK\x01');
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + Buffer.from(bytes).readUInt16LE(6))).toString('utf8')) as unknown;
    expect(header).toEqual({ columns: ['id'], rows: 1 });
  });

  it('refuses a sidecar of other key columns', () => {
    expect(() => decodeKeySidecar(encodeKeySidecar(['id'], KEYS), ['id', 'v'])).toThrow(KeySidecarInvalid);
  });

  it('refuses every truncation and every flipped byte (the CRC-32 or the structure catches it)', () => {
    const bytes = encodeKeySidecar(['id'], KEYS);
    for (let cut = 0; cut < bytes.length; cut++) expect(() => decodeKeySidecar(bytes.subarray(0, cut), ['id'])).toThrow(KeySidecarInvalid);
    for (let at = 0; at < bytes.length; at++) {
      const damaged = Uint8Array.from(bytes);
      damaged[at]! ^= 0x41;
      expect(() => decodeKeySidecar(damaged, ['id'])).toThrow(KeySidecarInvalid);
    }
  });

  it('names the sidecar of a data file under _cdc_key_index/, partition directories kept, and back', () => {
    expect(keySidecarPath('region=EU/part-1.parquet')).toBe('_cdc_key_index/region=EU/part-1.parquet.keys');
    expect(dataFileOfSidecar('_cdc_key_index/region=EU/part-1.parquet.keys')).toBe('region=EU/part-1.parquet');
    expect(dataFileOfSidecar('part-1.parquet')).toBeUndefined();
  });
});

describe('loading keys', () => {
  const target = (storage: MemoryStorage) => ({ storage, table: 's/t', dataFile: 'part-1.parquet', columns: ['id'], log });

  it('reads the data file when the sidecar is missing, writes the sidecar, and uses it next time', async () => {
    const storage = new MemoryStorage();
    let dataReads = 0;
    const readDataFile = async () => {
      dataReads++;
      return KEYS;
    };
    expect(await loadFileKeys({ ...target(storage), readDataFile })).toEqual({ keys: KEYS, source: 'data file' });
    expect(storage.objects.has('s/t/_cdc_key_index/part-1.parquet.keys')).toBe(true);
    expect(await loadFileKeys({ ...target(storage), rows: KEYS.length, readDataFile })).toEqual({ keys: KEYS, source: 'sidecar' });
    expect(dataReads).toBe(1);
    // Skipped when distrusted; and a sidecar of another row count than the log's is not used.
    expect((await loadFileKeys({ ...target(storage), skipSidecar: true, readDataFile })).source).toBe('data file');
    expect((await loadFileKeys({ ...target(storage), rows: 2, readDataFile })).source).toBe('data file');
  });

  it('falls back on a damaged sidecar, and still loads when the sidecar cannot be written', async () => {
    const storage = new MemoryStorage();
    storage.objects.set('s/t/_cdc_key_index/part-1.parquet.keys', new Uint8Array([1, 2, 3]));
    storage.failWrites = true;
    expect(await loadFileKeys({ ...target(storage), readDataFile: async () => KEYS })).toEqual({ keys: KEYS, source: 'data file' });
  });

  it('builds an index of several files, deleted rows left out', async () => {
    const storage = new MemoryStorage();
    storage.objects.set('s/t/_cdc_key_index/a.parquet.keys', encodeKeySidecar(['id'], ['k1', 'k2']));
    const { index, fromSidecars } = await loadKeyIndex({
      storage,
      table: 's/t',
      files: [{ path: 'a.parquet', rows: 2 }, { path: 'b%20c.parquet' }],
      columns: ['id'],
      distrusted: new Set(),
      readDataFile: async () => ['k3', 'k4', 'k5'],
      deletedPositions: async (path) => (path === 'b%20c.parquet' ? [0] : []),
      log,
    });
    expect(fromSidecars).toBe(1);
    expect(index.rows('k2')).toEqual([{ file: 'a.parquet', position: 1 }]);
    expect(index.rows('k3')).toEqual([]);
    expect(index.rows('k5')).toEqual([{ file: 'b%20c.parquet', position: 2 }]);
    // The URI path is decoded for the sidecar's name.
    expect(storage.objects.has('s/t/_cdc_key_index/b c.parquet.keys')).toBe(true);
  });
});
