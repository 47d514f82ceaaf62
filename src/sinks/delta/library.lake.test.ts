/**
 * The library API (issue 12 item 5): `DeltaLakeWriter` writes batches of changes into a Delta
 * table from code; delta-rs reads the rows and the change feed; a reopened writer goes on with
 * the next batch number.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeltaLakeWriter } from '../../index.js';
import { readDeltaTable } from '../../testing/python-oracles.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('DeltaLakeWriter', () => {
  it('merges each batch (last change per key wins) as one commit with its change feed', async () => {
    const location = mkdtempSync(join(tmpdir(), 'cdc-delta-lib-'));
    dirs.push(location);
    const options = {
      location,
      name: 'orders',
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'total', type: 'numeric(12,2)' },
        { name: 'placed', type: 'timestamp with time zone' },
        { name: 'paid', type: 'boolean' },
      ],
      primaryKey: ['id'],
    };
    const writer = await DeltaLakeWriter.open(options);
    expect(
      await writer.writeBatch([
        { op: 'insert', row: { id: 1n, total: '10.50', placed: new Date('2026-01-02T03:04:05.678Z'), paid: false } },
        { op: 'insert', row: { id: 2, total: '99999999.99', placed: null, paid: true } },
        { op: 'update', row: { id: 1n, total: '11.00', placed: new Date('2026-01-02T03:04:05.678Z'), paid: true } },
      ]),
    ).toBe(1);
    await writer.close();
    const again = await DeltaLakeWriter.open(options);
    expect(await again.writeBatch([{ op: 'delete', row: { id: 2 } }, { op: 'insert', row: { id: 3, total: '0', placed: null, paid: null } }])).toBe(2);
    const reading = await readDeltaTable(join(location, 'public', 'orders'), { cdfFrom: 0 });
    expect(reading.rows).toEqual([
      { id: 1, total: '11.00', placed: '2026-01-02T03:04:05.678000Z', paid: true },
      { id: 3, total: '0.00', placed: null, paid: null },
    ]);
    expect(reading.cdf!.filter((r) => r._commit_version === reading.version).map((r) => [r.id, r._change_type]).sort()).toEqual([
      [2, 'delete'],
      [3, 'insert'],
    ]);
  });
});
