/**
 * The persisted key index (issue 12): each data file's keys in a sidecar under
 * `_cdc_key_index/`; a reopened table loads its index from them instead of reading the data
 * files, falls back to the data files when sidecars are missing or damaged (a damaged one that
 * still parses is caught by the position check and the batch planned again), and vacuum keeps
 * the sidecars of live files only. delta-rs reads every result back.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { sortRows } from '../../testing/delta-compare.js';
import { readDeltaTable, type OracleValue } from '../../testing/python-oracles.js';
import { S3Storage } from '../lake/s3-storage.js';
import { LocalStorage, type LakeStorage } from '../lake/storage.js';
import { startThrowawayS3, type ThrowawayS3 } from '../../testing/throwaway-s3.js';
import { DeltaTable, keyText, type DeltaTableOptions, type KeyedChange, type TableChanges } from './delta-table.js';
import { encodeKeySidecar } from './key-sidecar.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  if (!process.env.KEEP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TABLE: TableSchema = {
  id: { schema: 'public', name: 'kv' },
  columns: [
    { name: 'k', type: 'integer', logicalType: { kind: 'int32' }, nullable: false, toastable: false },
    { name: 'v', type: 'text', logicalType: { kind: 'text' }, nullable: true, toastable: true },
  ],
  primaryKey: ['k'],
};

/** Local storage that records which objects are read. */
class RecordingStorage extends LocalStorage {
  readonly reads: string[] = [];
  override async read(path: string): Promise<Uint8Array | null> {
    this.reads.push(path);
    return super.read(path);
  }
}

function batch(changes: [number, string | null][]): TableChanges {
  const keyed = new Map<string, KeyedChange>();
  for (const [k, v] of changes) keyed.set(keyText([k]), v === null ? { kind: 'delete' } : { kind: 'upsert', row: [k, v] });
  return { truncated: false, keyed, rows: new Map() };
}

/** A table of 30 rows in three files of ten (keys 0–29), and the state it holds. */
async function seeded(options: Partial<DeltaTableOptions> = {}): Promise<{ root: string; storage: RecordingStorage; state: Map<number, string>; options: DeltaTableOptions }> {
  const root = mkdtempSync(join(tmpdir(), 'cdc-delta-keys-'));
  dirs.push(root);
  const storage = new RecordingStorage(root);
  const all: DeltaTableOptions = { changeDataFeed: true, maxRowsPerFile: 10, ...options };
  const table = await DeltaTable.open(storage, 'public/kv', TABLE, all, log);
  const rows: [number, string][] = Array.from({ length: 30 }, (_v, i) => [i, `v${i}`]);
  await table.append(rows, []);
  return { root, storage, state: new Map(rows), options: all };
}

/** Reopens the table (a new run: no index in memory) and merges `changes` into it. */
async function reopenAndMerge(storage: RecordingStorage, options: DeltaTableOptions, state: Map<number, string>, changes: [number, string | null][]): Promise<DeltaTable> {
  const table = await DeltaTable.open(storage, 'public/kv', TABLE, options, log);
  await table.commit(await table.planMerge(batch(changes)), []);
  for (const [k, v] of changes) if (v === null) state.delete(k); else state.set(k, v);
  return table;
}

function sidecars(root: string): string[] {
  const dir = join(root, 'public', 'kv', '_cdc_key_index');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function dataFiles(table: DeltaTable): string[] {
  return [...table.snapshot.files.keys()].sort();
}

async function expectDeltaRsReads(root: string, state: Map<number, string>): Promise<void> {
  const expected: Record<string, OracleValue>[] = sortRows([...state].map(([k, v]) => ({ k, v })));
  expect(sortRows((await readDeltaTable(join(root, 'public', 'kv'))).rows)).toEqual(expected);
}

describe('key sidecars', () => {
  for (const deletionVectors of [false, true]) {
    it(`a reopened table loads its index from the sidecars, reading only the files a batch changes (${deletionVectors ? 'deletion vectors' : 'copy-on-write'})`, async () => {
      const { root, storage, state, options } = await seeded({ deletionVectors });
      const opened = await DeltaTable.open(storage, 'public/kv', TABLE, options, log);
      expect(sidecars(root)).toEqual(dataFiles(opened).map((f) => `${f}.keys`).sort());

      storage.reads.length = 0;
      const table = await reopenAndMerge(storage, options, state, [[3, 'three'], [4, null], [40, 'new']]);
      const parquetRead = storage.reads.filter((p) => p.endsWith('.parquet') && !p.includes('_delta_log'));
      expect(parquetRead).toHaveLength(1); // the file of keys 0–9 only; the others' keys came from sidecars
      expect(storage.reads.filter((p) => p.includes('_cdc_key_index/'))).toHaveLength(3);
      // New files got sidecars too; a second batch in the same run uses the index kept in memory.
      for (const file of dataFiles(table)) expect(sidecars(root)).toContain(`${file}.keys`);
      await table.commit(await table.planMerge(batch([[40, 'forty'], [15, 'fifteen']])), []);
      state.set(40, 'forty');
      state.set(15, 'fifteen');
      await expectDeltaRsReads(root, state);
    });
  }

  it('rebuilds the index from the data files when the sidecars are gone, and writes them again', async () => {
    const { root, storage, state, options } = await seeded({ deletionVectors: true });
    await reopenAndMerge(storage, options, state, [[1, 'one'], [12, null]]);
    rmSync(join(root, 'public', 'kv', '_cdc_key_index'), { recursive: true });

    storage.reads.length = 0;
    const table = await reopenAndMerge(storage, options, state, [[2, 'two'], [1, null], [25, 'x']]);
    // Every live data file was read for its keys (the index knew none of them).
    expect(new Set(storage.reads.filter((p) => p.endsWith('.parquet') && !p.includes('_delta_log'))).size).toBeGreaterThanOrEqual(4);
    for (const file of dataFiles(table)) expect(sidecars(root)).toContain(`${file}.keys`);
    await expectDeltaRsReads(root, state);
  });

  it('a damaged sidecar is not used; one that parses but names wrong rows is caught by the position check and the batch is planned again', async () => {
    const { root, storage, state, options } = await seeded({ deletionVectors: true });
    const opened = await DeltaTable.open(storage, 'public/kv', TABLE, options, log);
    const [first, second] = dataFiles(opened) as [string, string];
    const minKey = (file: string) => (JSON.parse(opened.snapshot.files.get(file)!.stats!) as { minValues: { k: number } }).minValues.k;
    const dir = join(root, 'public', 'kv', '_cdc_key_index');
    // The first file's sidecar is cut short (fails its checks); the second's is a valid sidecar
    // with its keys reversed, so the index points the batch's keys at the wrong rows.
    writeFileSync(join(dir, `${first}.keys`), Buffer.from('CDCK\x01\x00'));
    const min = minKey(second);
    writeFileSync(join(dir, `${second}.keys`), encodeKeySidecar(['k'], Array.from({ length: 10 }, (_v, i) => keyText([min + 9 - i]))));

    await reopenAndMerge(storage, options, state, [[minKey(first) + 5, 'five'], [min + 1, 'changed'], [min + 2, null]]);
    await expectDeltaRsReads(root, state);
    // Both sidecars were written again from their data files: the next run reads only the file it changes.
    storage.reads.length = 0;
    await reopenAndMerge(storage, options, state, [[min + 3, 'again']]);
    expect(storage.reads.filter((p) => p.endsWith('.parquet') && !p.includes('_delta_log'))).toHaveLength(1);
    await expectDeltaRsReads(root, state);
  });

  it('vacuum deletes the sidecars of the files it deletes and keeps those of live files; compaction writes sidecars for its files', async () => {
    const { root, storage, state, options } = await seeded();
    // Copy-on-write: the batch rewrites two files; their old files (and sidecars) leave the table.
    let table = await reopenAndMerge(storage, options, state, [[1, 'one'], [11, null]]);
    expect(sidecars(root)).toHaveLength(3 + 2);
    await table.vacuum(0, false);
    expect(sidecars(root)).toEqual(dataFiles(table).map((f) => `${f}.keys`).sort());

    // Compaction: small files are rewritten into full ones, each with its sidecar.
    await table.commit(await table.planMerge(batch([[50, 'a']])), []);
    await table.commit(await table.planMerge(batch([[51, 'b']])), []);
    expect(await table.compact()).toBeDefined();
    await table.vacuum(0, false);
    expect(sidecars(root)).toEqual(dataFiles(table).map((f) => `${f}.keys`).sort());

    // A sidecar whose data file is gone, younger than the retention, stays until it is old.
    writeFileSync(join(root, 'public', 'kv', '_cdc_key_index', 'part-gone.parquet.keys'), encodeKeySidecar(['k'], []));
    await table.vacuum(60 * 60 * 1000, false);
    expect(sidecars(root)).toContain('part-gone.parquet.keys');
    await table.vacuum(0, false);
    expect(sidecars(root)).not.toContain('part-gone.parquet.keys');

    state.set(50, 'a');
    state.set(51, 'b');
    storage.reads.length = 0;
    table = await reopenAndMerge(storage, options, state, [[2, 'two']]);
    expect(storage.reads.filter((p) => p.endsWith('.parquet') && !p.includes('_delta_log'))).toHaveLength(1);
    await expectDeltaRsReads(root, state);
  });

  it('a table without a primary key keeps its duplicate rows apart through its sidecars', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cdc-delta-keys-'));
    dirs.push(root);
    const storage = new RecordingStorage(root);
    const keyless: TableSchema = { ...TABLE, primaryKey: [] };
    const options: DeltaTableOptions = { changeDataFeed: true, maxRowsPerFile: 4, deletionVectors: true };
    const table = await DeltaTable.open(storage, 'public/kv', keyless, options, log);
    await table.append([[1, 'a'], [1, 'a'], [2, 'b'], [1, 'a'], [1, 'a'], [3, 'c']], []);
    const reopened = await DeltaTable.open(storage, 'public/kv', keyless, options, log);
    // Three of the four (1, 'a') rows go.
    const row = [1, 'a'];
    await reopened.commit(await reopened.planMerge({ truncated: false, keyed: new Map(), rows: new Map([[keyText(row), { count: -3, row }]]) }), []);
    const rows = (await readDeltaTable(join(root, 'public', 'kv'))).rows;
    expect(sortRows(rows)).toEqual(sortRows([{ k: 1, v: 'a' }, { k: 2, v: 'b' }, { k: 3, v: 'c' }]));
  });
});

describe('key sidecars on S3', () => {
  let s3: ThrowawayS3;
  beforeAll(async () => {
    s3 = await startThrowawayS3({ label: 'key-sidecars' });
    await s3.createBucket('lake');
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('are written with the data files, loaded by a reopened table, and vacuumed with their files', async () => {
    const s3Storage = new S3Storage('s3://lake/keys', { endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
    const reads: string[] = [];
    const storage: LakeStorage = {
      description: s3Storage.description,
      read: async (path) => {
        reads.push(path);
        return s3Storage.read(path);
      },
      write: (path, bytes) => s3Storage.write(path, bytes),
      putIfAbsent: (path, bytes) => s3Storage.putIfAbsent(path, bytes),
      replace: (path, bytes) => s3Storage.replace(path, bytes),
      list: (prefix) => s3Storage.list(prefix),
      delete: (path) => s3Storage.delete(path),
    };
    const options: DeltaTableOptions = { changeDataFeed: true, maxRowsPerFile: 10 };
    const created = await DeltaTable.open(storage, 'public/kv', TABLE, options, log);
    await created.append(Array.from({ length: 30 }, (_v, i) => [i, `v${i}`]), []);
    const listed = async () => (await storage.list('public/kv/_cdc_key_index/')).map((o) => o.path.slice('public/kv/_cdc_key_index/'.length)).sort();
    expect(await listed()).toEqual(dataFiles(created).map((f) => `${f}.keys`).sort());

    reads.length = 0;
    const table = await DeltaTable.open(storage, 'public/kv', TABLE, options, log);
    await table.commit(await table.planMerge(batch([[3, 'three'], [7, null]])), []);
    expect(reads.filter((p) => p.endsWith('.parquet') && !p.includes('_delta_log'))).toHaveLength(1);
    await table.vacuum(0, false);
    expect(await listed()).toEqual(dataFiles(table).map((f) => `${f}.keys`).sort());
    const expected = Array.from({ length: 30 }, (_v, i) => i).filter((k) => k !== 7).map((k) => ({ k, v: k === 3 ? 'three' : `v${k}` }));
    expect(sortRows((await readDeltaTable('s3://lake/keys/public/kv', { storageOptions: s3.deltaStorageOptions() })).rows)).toEqual(sortRows(expected));
  });
});

describe('key index and the table shape', () => {
  it('a table without a primary key that gains a column mid-run still finds its earlier rows (the index is rebuilt for the new key)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cdc-delta-keys-'));
    dirs.push(root);
    const storage = new RecordingStorage(root);
    const keyless: TableSchema = { ...TABLE, primaryKey: [] };
    const options: DeltaTableOptions = { changeDataFeed: true, maxRowsPerFile: 4 };
    const table = await DeltaTable.open(storage, 'public/kv', keyless, options, log);
    await table.append([[1, 'a'], [2, 'b']], []);
    const gone = (row: (number | string | null)[]): TableChanges => ({ truncated: false, keyed: new Map(), rows: new Map([[keyText(row), { count: -1, row }]]) });
    await table.commit(await table.planMerge(gone([2, 'b'])), []);
    // The source adds a column: rows now have three values, the earlier ones null in it.
    table.relation({ ...keyless, columns: [...keyless.columns, { name: 'w', type: 'text', logicalType: { kind: 'text' }, nullable: true, toastable: false }] });
    await table.commit(await table.planMerge(gone([1, 'a', null])), []);
    expect(await table.rows()).toEqual([]);

    // The same on a new table whose first merge comes after the new column (its index was
    // started by the appended files' keys).
    const fresh = await DeltaTable.open(new RecordingStorage(root), 'public/kv2', keyless, options, log);
    await fresh.append([[1, 'a'], [2, 'b']], []);
    fresh.relation({ ...keyless, columns: [...keyless.columns, { name: 'w', type: 'text', logicalType: { kind: 'text' }, nullable: true, toastable: false }] });
    await fresh.commit(await fresh.planMerge(gone([1, 'a', null])), []);
    expect(await fresh.rows()).toEqual([[2, 'b', null]]);
  });
});
