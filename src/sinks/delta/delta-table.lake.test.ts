/**
 * Two writers on one Delta table (issue 12): each commit is put-if-absent, so one commit wins
 * per version; the other goes to the next version when the winner removed none of its files,
 * and is refused with DELTA_CONCURRENT_WRITE (retried by the pipeline) when it did. delta-rs
 * reads what both wrote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { readDeltaTable } from '../../testing/python-oracles.js';
import { LocalStorage } from '../lake/storage.js';
import { DeltaTable, keyText, type TableChanges } from './delta-table.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TABLE: TableSchema = {
  id: { schema: 'public', name: 'kv' },
  columns: [
    { name: 'k', type: 'integer', logicalType: { kind: 'int32' }, nullable: false, toastable: false },
    { name: 'v', type: 'text', logicalType: { kind: 'text' }, nullable: true, toastable: true },
  ],
  primaryKey: ['k'],
};
const options = { changeDataFeed: true, maxRowsPerFile: 10 };

function upserts(rows: [number, string][]): TableChanges {
  return { truncated: false, keyed: new Map(rows.map(([k, v]) => [keyText([k]), { kind: 'upsert' as const, row: [k, v] }])), rows: new Map() };
}

describe('two writers on one Delta table', () => {
  it('one commit wins per version; the other lands at the next version or is refused when its files are gone', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cdc-delta-writers-'));
    dirs.push(root);
    const storage = new LocalStorage(root);
    const a = await DeltaTable.open(storage, 'public/kv', TABLE, options, log);
    await a.append(
      Array.from({ length: 20 }, (_, i) => [i, `v${i}`]),
      [],
    ); // two files: keys 0-9 and 10-19
    const b = await DeltaTable.open(storage, 'public/kv', TABLE, options, log);
    expect(b.snapshot.version).toBe(a.snapshot.version);

    // Both plan against the same version; A commits first.
    const planA = await a.planMerge(upserts([[1, 'from a']]));
    const planB = await b.planMerge(upserts([[15, 'from b']]));
    const va = await a.commit(planA, []);
    const vb = await b.commit(planB, []);
    expect(vb).toBe(va + 1);

    // B's snapshot is now current; A's is one behind. Both rewrite the file of keys 0-9: B wins,
    // and A, whose file is gone, is refused.
    const planB2 = await b.planMerge(upserts([[2, 'from b']]));
    const planA2 = await a.planMerge(upserts([[3, 'from a']]));
    await b.commit(planB2, []);
    await expect(a.commit(planA2, [])).rejects.toMatchObject({ code: 'DELTA_CONCURRENT_WRITE', retryable: true });
    // Planned again against the new version, A's change lands.
    await a.commit(await a.planMerge(upserts([[3, 'from a']])), []);

    // Blind appends never conflict.
    await Promise.all([a.append([[100, 'a']], []), b.append([[200, 'b']], [])]);

    const reading = await readDeltaTable(join(root, 'public', 'kv'), { cdfFrom: 0 });
    const rows = new Map(reading.rows.map((r) => [r.k as number, r.v as string]));
    expect(rows.size).toBe(22);
    expect([rows.get(1), rows.get(15), rows.get(2), rows.get(3), rows.get(100), rows.get(200)]).toEqual(['from a', 'from b', 'from b', 'from a', 'a', 'b']);
    const versions = reading.cdf!.map((r) => r._commit_version as number);
    expect(new Set(versions).size).toBe(reading.version);
  });
});
