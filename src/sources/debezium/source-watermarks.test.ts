import { describe, expect, it } from 'vitest';
import type { DebeziumChangeRecord } from '../../events/debezium/index.js';
import { decodePosition, encodePosition } from '../../events/position.js';
import { hasOrderedPosition, SourceWatermarks } from './source-watermarks.js';

function record(connector: string, sortKey: bigint[], op: DebeziumChangeRecord['op'] = 'update', database = 'db'): DebeziumChangeRecord {
  return { kind: 'change', op, position: { connector, sortKey, text: `${connector} ${sortKey.join('/')}` }, source: { serverName: 'srv', database } } as unknown as DebeziumChangeRecord;
}

describe('hasOrderedPosition', () => {
  it('takes PostgreSQL with a last commit, and SQL Server; not reads, bare LSNs, MySQL or broker positions', () => {
    expect(hasOrderedPosition(record('postgresql', [100n, 120n]))).toBe(true);
    expect(hasOrderedPosition(record('postgresql', [0n, 120n]))).toBe(false);
    expect(hasOrderedPosition(record('postgresql', [120n]))).toBe(false);
    expect(hasOrderedPosition(record('postgresql', [100n, 120n], 'read'))).toBe(false);
    expect(hasOrderedPosition(record('sqlserver', [5n, 6n, 1n]))).toBe(true);
    expect(hasOrderedPosition(record('mysql', [3n, 400n, 0n]))).toBe(false);
    expect(hasOrderedPosition(record('broker', [0n, 7n]))).toBe(false);
  });
});

describe('SourceWatermarks', () => {
  it('skips what is below the watermark of its partition, connector and database only', () => {
    const w = new SourceWatermarks();
    expect(w.isReplay('t/0', record('sqlserver', [10n, 10n, 1n]))).toBe(false);
    expect(w.isReplay('t/0', record('sqlserver', [10n, 10n, 2n]))).toBe(false);
    expect(w.isReplay('t/0', record('sqlserver', [10n, 10n, 1n]))).toBe(true);
    expect(w.isReplay('t/0', record('sqlserver', [10n, 10n, 2n]))).toBe(true); // equal, same operation: the connector's re-sent last event
    expect(w.isReplay('t/0', record('sqlserver', [10n, 10n, 2n], 'delete'))).toBe(false); // equal, another operation (a key change's delete and insert)
    expect(w.isReplay('t/1', record('sqlserver', [1n, 1n, 1n]))).toBe(false); // another partition
    expect(w.isReplay('t/0', record('sqlserver', [1n, 1n, 1n], 'update', 'other'))).toBe(false); // another database
    const moved = w.takeMoved();
    expect(moved.map((m) => `${m.partition} ${m.origin}`).sort()).toEqual(['t/0 sqlserver|srv|db', 't/0 sqlserver|srv|other', 't/1 sqlserver|srv|db']);
    expect(moved.find((m) => m.partition === 't/0' && m.origin.endsWith('|db'))).toMatchObject({ text: 'sqlserver 10/10/2' });
    expect(decodePosition(moved.find((m) => m.partition === 't/0' && m.origin.endsWith('|db'))!.position)).toEqual([10n, 10n, 2n, 2n, 3n]); // the sort key, then update and delete read at it
    expect(w.takeMoved()).toEqual([]);

    // Stored and read back.
    const again = new SourceWatermarks(moved);
    expect(again.isReplay('t/0', record('sqlserver', [10n, 9n, 9n]))).toBe(true);
    expect(again.isReplay('t/0', record('sqlserver', [10n, 10n, 2n], 'delete'))).toBe(true);
    expect(again.isReplay('t/0', record('sqlserver', [10n, 10n, 2n], 'insert'))).toBe(false);
    expect(again.isReplay('t/0', record('sqlserver', [10n, 10n, 3n]))).toBe(false);
    // Stored by a release that kept no operations: the sort key alone, an equal position is no copy.
    const legacy = new SourceWatermarks([{ partition: 't/0', origin: 'sqlserver|srv|db', position: encodePosition([10n, 10n, 2n]), text: 'old' }]);
    expect(legacy.isReplay('t/0', record('sqlserver', [10n, 10n, 2n]))).toBe(false);
    expect(legacy.isReplay('t/0', record('sqlserver', [10n, 10n, 2n]))).toBe(true);
  });
});

describe('SourceWatermarks.latest and highest', () => {
  it('give a partition\'s position and the highest of all, restored from stored watermarks too', () => {
    const w = new SourceWatermarks();
    expect(w.latest('t/0')).toBeUndefined();
    expect(w.highest()).toBeUndefined();
    w.isReplay('t/0', record('postgresql', [100n, 120n]));
    w.isReplay('t/1', record('postgresql', [200n, 220n]));
    expect(w.latest('t/0')?.sortKey).toEqual([100n, 120n]);
    expect(w.latest('t/10')).toBeUndefined(); // not a prefix match of t/1
    expect(w.highest()?.sortKey).toEqual([200n, 220n]);
    const restored = new SourceWatermarks(w.takeMoved());
    expect(restored.latest('t/1')?.sortKey).toEqual([200n, 220n]);
    expect(restored.highest()?.sortKey).toEqual([200n, 220n]);
    restored.isReplay('t/2', record('sqlserver', [5n, 6n, 1n]));
    expect(restored.highest()).toBeUndefined(); // two connector kinds: not comparable
  });
});
