/**
 * Applied drops and renames through column mapping (issue 12; PROTOCOL.md "Column Mapping",
 * mode `name`): the first of them turns mapping on (existing columns keep their names as
 * physical names, so no file is rewritten), a rename changes only the display name, a drop
 * removes the field while its values stay in old files, a column added again gets a new
 * physical name; delta-rs reads the snapshot and the change feed by the display names, also
 * after the table is opened again.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { ColumnSchema, TableSchema } from '../../schema/table.js';
import { sortRows } from '../../testing/delta-compare.js';
import { readDeltaTable, readParquetWithPyarrow } from '../../testing/python-oracles.js';
import { LocalStorage } from '../lake/storage.js';
import { DeltaTable, keyText, type DeltaTableOptions, type KeyedChange } from './delta-table.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const col = (name: string, attnum: number, kind: 'int32' | 'text' = 'text'): ColumnSchema => ({
  name,
  type: kind === 'int32' ? 'integer' : 'text',
  logicalType: { kind },
  nullable: kind !== 'int32',
  toastable: kind === 'text',
  sourceAttnum: attnum,
});
const shape = (columns: ColumnSchema[]): TableSchema => ({ id: { schema: 'public', name: 't' }, columns, primaryKey: ['k'] });

/** Upserts rows given in the source's column order (laid out in the table's, as the sink does). */
async function upsert(table: DeltaTable, rows: (string | number | null)[][]): Promise<void> {
  const at = table.sourcePositions(table.source);
  const laid = (r: (string | number | null)[]) => {
    const out = new Array<string | number | null>(table.columns.length).fill(null);
    r.forEach((v, i) => (out[at[i]!] = v));
    return out;
  };
  const keyed = new Map<string, KeyedChange>(rows.map((r) => [keyText([r[0]!]), { kind: 'upsert', row: laid(r) }]));
  await table.commit(await table.planMerge({ truncated: false, keyed, rows: new Map() }), []);
}

function workdir(): string {
  const root = mkdtempSync(join(tmpdir(), 'cdc-delta-cm-'));
  dirs.push(root);
  return root;
}

const OPTIONS: DeltaTableOptions = { changeDataFeed: true, maxRowsPerFile: 10, schemaPolicy: { drop: 'apply', typeChange: 'apply', rename: 'apply' } };

describe('column mapping for applied drops and renames', () => {
  it('renames, drops and re-adds columns without rewriting files; delta-rs reads the display names and rows, pyarrow the change files by physical names', async () => {
    const root = workdir();
    const storage = new LocalStorage(root);
    const v1 = shape([col('k', 1, 'int32'), col('v', 2), col('w', 3)]);
    const table = await DeltaTable.open(storage, 'public/t', v1, OPTIONS, log);
    await table.append([[1, 'a', 'x'], [2, 'b', 'y']], []);
    const filesBefore = [...table.snapshot.files.keys()];

    // RENAME v TO v2: mapping turns on, v2's physical name stays "v".
    const v2 = shape([col('k', 1, 'int32'), col('v2', 2), col('w', 3)]);
    expect(table.relation(v2)).toEqual({ added: [], changed: true });
    await upsert(table, [[3, 'c', 'z']]);
    expect(table.snapshot.metaData!.configuration).toMatchObject({ 'delta.columnMapping.mode': 'name', 'delta.columnMapping.maxColumnId': '3' });
    expect(table.snapshot.protocol).toMatchObject({ minReaderVersion: 3, minWriterVersion: 7 });
    expect(table.snapshot.protocol!.readerFeatures).toContain('columnMapping');
    for (const path of filesBefore) expect(table.snapshot.files.has(path)).toBe(true); // nothing rewritten
    const fields = (JSON.parse(table.snapshot.metaData!.schemaString) as { fields: { name: string; metadata: Record<string, unknown> }[] }).fields;
    expect(fields.map((f) => [f.name, f.metadata['delta.columnMapping.physicalName'], f.metadata['delta.columnMapping.id']])).toEqual([
      ['k', 'k', 1],
      ['v2', 'v', 2],
      ['w', 'w', 3],
    ]);

    // DROP w, then ADD w again (a new source column): a new physical name, old values not back.
    const v3 = shape([col('k', 1, 'int32'), col('v2', 2)]);
    table.relation(v3);
    await upsert(table, [[1, 'a2']]);
    const v4 = shape([col('k', 1, 'int32'), col('v2', 2), col('w', 4)]);
    expect(table.relation(v4).added).toEqual(['w']);
    await upsert(table, [[4, 'd', 'new w'], [3, 'c2', 'w3']]);
    const addedW = (JSON.parse(table.snapshot.metaData!.schemaString) as { fields: { name: string; metadata: Record<string, unknown> }[] }).fields.find((f) => f.name === 'w')!;
    expect(addedW.metadata['delta.columnMapping.physicalName']).toMatch(/^col-/);
    expect(addedW.metadata['delta.columnMapping.id']).toBe(4);

    const expected = sortRows([
      { k: 1, v2: 'a2', w: null },
      { k: 2, v2: 'b', w: null },
      { k: 3, v2: 'c2', w: 'w3' },
      { k: 4, v2: 'd', w: 'new w' },
    ]);
    const reading = await readDeltaTable(join(root, 'public', 't'));
    expect(reading.schema.map((c) => c.name)).toEqual(['k', 'v2', 'w']);
    expect(sortRows(reading.rows)).toEqual(expected);
    // delta-rs 1.6.6 does not read the change feed of a column-mapped table; pyarrow reads the
    // last version's change file: physical names and field ids, the update of 3 and the insert of 4.
    const entry = readFileSync(join(root, 'public', 't', '_delta_log', `${String(table.snapshot.version).padStart(20, '0')}.json`), 'utf8');
    const cdcPath = /"cdc":\{"path":"([^"]+)"/.exec(entry)?.[1];
    expect(cdcPath).toBeDefined();
    const changes = await readParquetWithPyarrow(join(root, 'public', 't', cdcPath!));
    expect(changes.schema.map((f) => [f.name, f.fieldId])).toEqual([
      ['k', 1],
      ['v', 2],
      [addedW.metadata['delta.columnMapping.physicalName'], 4],
      ['_change_type', null],
    ]);
    expect(changes.rows).toEqual([
      ['3', 'c', null, 'update_preimage'],
      ['3', 'c2', 'w3', 'update_postimage'],
      ['4', 'd', 'new w', 'insert'],
    ]);

    // A later process reads the mapping from the log and keeps writing physical names.
    const reopened = await DeltaTable.open(storage, 'public/t', v4, OPTIONS, log);
    await upsert(reopened, [[2, 'b2', 'w2']]);
    const again = await readDeltaTable(join(root, 'public', 't'));
    expect(sortRows(again.rows)).toEqual(sortRows([...expected.filter((r) => r.k !== 2), { k: 2, v2: 'b2', w: 'w2' }]));
    const newest = readFileSync(join(root, 'public', 't', '_delta_log', `${String(reopened.snapshot.version).padStart(20, '0')}.json`), 'utf8');
    // Statistics by physical names: k, v (shown as v2) and the new w's col-…; the dropped w is not written.
    const adds = newest.split('\n').filter((l) => l.startsWith('{"add"')).map((l) => JSON.parse((JSON.parse(l) as { add: { stats: string } }).add.stats) as { minValues: Record<string, unknown> });
    expect(adds.length).toBeGreaterThan(0);
    for (const stats of adds) expect(Object.keys(stats.minValues)).toEqual(['k', 'v', addedW.metadata['delta.columnMapping.physicalName']]);
  });

  it('keeps a dropped column under the default policy, and refuses to rename or drop a partition column', async () => {
    const root = workdir();
    const storage = new LocalStorage(root);
    const kept = await DeltaTable.open(storage, 'public/t', shape([col('k', 1, 'int32'), col('v', 2), col('w', 3)]), { changeDataFeed: true, maxRowsPerFile: 10 }, log);
    await kept.append([[1, 'a', 'x']], []);
    kept.relation(shape([col('k', 1, 'int32'), col('v', 2)]));
    await upsert(kept, [[2, 'b']]);
    expect(kept.columnMappingMode).toBe('none');
    expect(sortRows((await readDeltaTable(join(root, 'public', 't'))).rows)).toEqual(sortRows([{ k: 1, v: 'a', w: 'x' }, { k: 2, v: 'b', w: null }]));

    const parted = await DeltaTable.open(storage, 'public/p', { ...shape([col('k', 1, 'int32'), col('region', 2)]), id: { schema: 'public', name: 'p' } }, { ...OPTIONS, partitionBy: ['region'] }, log);
    expect(() => parted.relation({ ...shape([col('k', 1, 'int32'), col('area', 2)]), id: { schema: 'public', name: 'p' } })).toThrow(/renamed \(to area\) partition column region/);
    expect(() => parted.relation({ ...shape([col('k', 1, 'int32')]), id: { schema: 'public', name: 'p' } })).toThrow(/dropped partition column region/);
  });
});
