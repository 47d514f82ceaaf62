/**
 * Merging with deletion vectors (issue 12, `deletion_vectors: true`): a batch marks the changed
 * rows of a file deleted in a `deletion_vector_<uuid>.bin` file and writes only their new
 * versions; delta-rs reads the snapshot (DVs applied) and the change feed, after checkpoints,
 * vacuum and compaction too; an existing table is upgraded to the feature.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { replayChangeFeed, sortRows } from '../../testing/delta-compare.js';
import { readDeltaTable, type OracleValue } from '../../testing/python-oracles.js';
import { LocalStorage } from '../lake/storage.js';
import { readSnapshot } from './delta-log.js';
import { DeltaTable, keyText, type KeyedChange, type TableChanges } from './delta-table.js';

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

function batch(changes: [number, string | null][]): TableChanges {
  const keyed = new Map<string, KeyedChange>();
  for (const [k, v] of changes) keyed.set(keyText([k]), v === null ? { kind: 'delete' } : { kind: 'upsert', row: [k, v] });
  return { truncated: false, keyed, rows: new Map() };
}

async function merge(table: DeltaTable, changes: [number, string | null][]): Promise<number> {
  return table.commit(await table.planMerge(batch(changes)), []);
}

function expectedRows(state: Map<number, string>): Record<string, OracleValue>[] {
  return sortRows([...state].map(([k, v]) => ({ k, v })));
}

function workdir(): string {
  const root = mkdtempSync(join(tmpdir(), 'cdc-delta-dv-'));
  dirs.push(root);
  return root;
}

describe('deletion vectors', () => {
  it('a batch writes only its changed rows; delta-rs reads the snapshot and the change feed, also from a checkpoint, after vacuum and compaction', async () => {
    const root = workdir();
    const storage = new LocalStorage(root);
    const table = await DeltaTable.open(storage, 'public/kv', TABLE, { changeDataFeed: true, maxRowsPerFile: 10, deletionVectors: true, checkpointInterval: 4 }, log);
    const state = new Map<number, string>();
    const rows: [number, string][] = Array.from({ length: 30 }, (_v, i) => [i, `v${i}`]);
    await table.append(rows, []); // three files of ten rows
    for (const [k, v] of rows) state.set(k, v);
    const afterAppend = table.snapshot.version;

    // Two updates and a delete in the first file, an update in the second, a new key.
    const changes1: [number, string | null][] = [[1, 'one'], [2, 'two'], [3, null], [15, 'fifteen'], [100, 'new']];
    await merge(table, changes1);
    for (const [k, v] of changes1) if (v === null) state.delete(k); else state.set(k, v);
    const files = [...table.snapshot.files.values()];
    expect(files.filter((f) => f.deletionVector).map((f) => f.deletionVector!.cardinality).sort()).toEqual([1, 3]);
    expect(files).toHaveLength(4); // the three files, two with vectors, and one new file of 4 rows
    expect(files.filter((f) => f.deletionVector).every((f) => (JSON.parse(f.stats!) as { tightBounds: boolean }).tightBounds === false)).toBe(true);
    expect(readdirSync(join(root, 'public', 'kv')).filter((n) => n.startsWith('deletion_vector_'))).toHaveLength(2);
    expect(table.snapshot.protocol).toMatchObject({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'] });

    // The same file again (the vector grows), a key whose live row is in the new file, a re-insert.
    const changes2: [number, string | null][] = [[4, 'four'], [1, 'one again'], [3, 'back'], [100, null]];
    await merge(table, changes2);
    for (const [k, v] of changes2) if (v === null) state.delete(k); else state.set(k, v);

    // More than half of the third file: it is rewritten instead (copy-on-write, vector purged).
    const changes3: [number, string | null][] = [20, 21, 22, 23, 24, 25].map((k) => [k, null]);
    await merge(table, changes3);
    for (const [k] of changes3) state.delete(k);
    const minKeys = [...table.snapshot.files.values()].map((f) => (JSON.parse(f.stats!) as { minValues: { k: number } }).minValues.k);
    expect(minKeys).not.toContain(20);
    expect(minKeys).toContain(26);

    // Checkpoints were written (interval 4); our reader and delta-rs both read the table.
    expect(readdirSync(join(root, 'public', 'kv', '_delta_log')).some((n) => n.endsWith('.checkpoint.parquet'))).toBe(true);
    const reopened = await readSnapshot(storage, 'public/kv');
    expect([...reopened.files.values()].map((f) => f.deletionVector?.pathOrInlineDv ?? '').sort()).toEqual([...table.snapshot.files.values()].map((f) => f.deletionVector?.pathOrInlineDv ?? '').sort());
    const again = await DeltaTable.open(storage, 'public/kv', TABLE, { changeDataFeed: true, maxRowsPerFile: 10, deletionVectors: true }, log);
    expect(sortRows((await again.rows()).map(([k, v]) => ({ k: k as number, v: v as string })))).toEqual(expectedRows(state));

    const reading = await readDeltaTable(join(root, 'public', 'kv'), { cdfFrom: 0 });
    expect(sortRows(reading.rows)).toEqual(expectedRows(state));
    // The change feed replays from the appended rows into the snapshot, and names each change.
    const replayed = replayChangeFeed(sortRows(rows.map(([k, v]) => ({ k, v }))), reading.cdf!, afterAppend);
    expect(replayed).toEqual(expectedRows(state));
    const first = reading.cdf!.filter((r) => r._commit_version === afterAppend + 1).map((r) => `${r._change_type as string}:${r.k as number}`).sort();
    expect(first).toEqual(['delete:3', 'insert:100', 'update_postimage:1', 'update_postimage:15', 'update_postimage:2', 'update_preimage:1', 'update_preimage:15', 'update_preimage:2'].sort());

    // Compaction purges the vectors of files they thin out (no data change: the feed is the same).
    const withVectors = () => [...table.snapshot.files.values()].filter((f) => f.deletionVector);
    const before = withVectors().length;
    await table.compact();
    expect(withVectors().length).toBeLessThan(before);
    expect(withVectors().filter((f) => f.deletionVector!.cardinality * 5 >= (JSON.parse(f.stats!) as { numRecords: number }).numRecords)).toEqual([]);
    const compacted = await readDeltaTable(join(root, 'public', 'kv'), { cdfFrom: 0 });
    expect(sortRows(compacted.rows)).toEqual(expectedRows(state));
    expect(compacted.cdf).toEqual(reading.cdf);

    // Vacuum keeps the live files' vectors (and removes the rest, change files included).
    await table.vacuum(0, false);
    const live = withVectors().map((f) => f.deletionVector!.pathOrInlineDv);
    expect(live.length).toBeGreaterThan(0);
    expect(readdirSync(join(root, 'public', 'kv')).filter((n) => n.startsWith('deletion_vector_'))).toHaveLength(live.length);
    expect(sortRows((await readDeltaTable(join(root, 'public', 'kv'))).rows)).toEqual(expectedRows(state));
  });

  it('an existing table without the feature is upgraded by its next merge, keeping its change feed', async () => {
    const root = workdir();
    const storage = new LocalStorage(root);
    const plain = await DeltaTable.open(storage, 'public/kv', TABLE, { changeDataFeed: true, maxRowsPerFile: 10 }, log);
    await plain.append(Array.from({ length: 10 }, (_v, i) => [i, `v${i}`]), []);
    expect(plain.snapshot.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 4 });

    const upgraded = await DeltaTable.open(storage, 'public/kv', TABLE, { changeDataFeed: true, maxRowsPerFile: 10, deletionVectors: true }, log);
    await merge(upgraded, [[1, 'one']]);
    expect(upgraded.snapshot.protocol).toEqual({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['changeDataFeed', 'deletionVectors'] });
    expect(upgraded.snapshot.metaData!.configuration).toMatchObject({ 'delta.enableChangeDataFeed': 'true', 'delta.enableDeletionVectors': 'true' });
    // The upgrade commit still rewrites; the feature is used from the next commit on.
    expect([...upgraded.snapshot.files.values()].filter((f) => f.deletionVector)).toHaveLength(0);
    await merge(upgraded, [[2, 'two']]);
    expect([...upgraded.snapshot.files.values()].filter((f) => f.deletionVector)).toHaveLength(1);

    const reading = await readDeltaTable(join(root, 'public', 'kv'), { cdfFrom: 0 });
    expect(reading.protocol.readerFeatures).toEqual(['deletionVectors']);
    const state = new Map(Array.from({ length: 10 }, (_v, i) => [i, `v${i}`] as [number, string]));
    state.set(1, 'one');
    state.set(2, 'two');
    expect(sortRows(reading.rows)).toEqual(expectedRows(state));
    expect(replayChangeFeed([], reading.cdf!, -1)).toEqual(expectedRows(state));
  });

  it('a TRUNCATE and a fresh copy (remove all) of a table with vectors write their deletes to the change feed', async () => {
    const root = workdir();
    const storage = new LocalStorage(root);
    const table = await DeltaTable.open(storage, 'public/kv', TABLE, { changeDataFeed: true, maxRowsPerFile: 10, deletionVectors: true }, log);
    await table.append(Array.from({ length: 20 }, (_v, i) => [i, `v${i}`]), []);
    await merge(table, [[1, null], [12, 'twelve']]);
    await table.commit(await table.planMerge({ truncated: true, keyed: batch([[50, 'after']]).keyed, rows: new Map() }), []);
    let reading = await readDeltaTable(join(root, 'public', 'kv'), { cdfFrom: 0 });
    expect(reading.rows).toEqual([{ k: 50, v: 'after' }]);
    expect(replayChangeFeed([], reading.cdf!, -1)).toEqual(reading.rows);

    await merge(table, [[51, 'x'], [52, 'y'], [53, 'z']]);
    await merge(table, [[50, null]]);
    await table.removeAll([]);
    reading = await readDeltaTable(join(root, 'public', 'kv'), { cdfFrom: 0 });
    expect(reading.rows).toEqual([]);
    expect(replayChangeFeed([], reading.cdf!, -1)).toEqual([]);
  });
});
