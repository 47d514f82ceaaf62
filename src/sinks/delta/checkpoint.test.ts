/** Delta log checkpoints without storage: their Parquet form, tombstone expiry, the interval. */
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-parquet.js';
import { checkpointActions, checkpointInterval } from './checkpoint.js';
import { applyActions, NO_TABLE, type DeltaAction } from './delta-log.js';
import { DEFAULT_TOMBSTONE_RETENTION_MS, tombstoneRetentionMs } from './tombstones.js';

const DAY_MS = 24 * 3600 * 1000;
const T0 = Date.UTC(2026, 0, 1);

const protocol = { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['timestampNtz', 'changeDataFeed'] };
const metaData = {
  id: 'f0e1d2c3-0000-4000-8000-000000000001',
  format: { provider: 'parquet' as const, options: {} },
  schemaString: '{"type":"struct","fields":[]}',
  partitionColumns: [],
  configuration: { 'delta.enableChangeDataFeed': 'true', 'delta.checkpointInterval': '7' },
  createdTime: T0,
};
const add = (path: string, at: number) => ({ add: { path, partitionValues: { p: null, q: 'x' }, size: 123, modificationTime: at, dataChange: true, stats: '{"numRecords":1}' } });
const remove = (path: string, at: number) => ({ remove: { path, deletionTimestamp: at, dataChange: true, extendedFileMetadata: true, partitionValues: {}, size: 9 } });

describe('checkpoint Parquet', () => {
  it('keeps every field of protocol, metaData, txn, add and remove', async () => {
    const actions: DeltaAction[] = [{ protocol }, { metaData }, { txn: { appId: 'cdc-merge:p', version: 2 ** 40 } }, add('a.parquet', T0), remove('b.parquet', T0 + 1)];
    expect(await decodeCheckpoint(encodeCheckpoint(actions, protocol))).toEqual(actions);
  });

  it('leaves the feature lists out for a protocol without features, and commitInfo and cdc out always', async () => {
    const legacy = { minReaderVersion: 1, minWriterVersion: 4 };
    const actions: DeltaAction[] = [{ protocol: legacy }, { metaData }, { commitInfo: { operation: 'WRITE' } }, { cdc: { path: '_change_data/c.parquet', partitionValues: {}, size: 1, dataChange: false } }];
    expect(await decodeCheckpoint(encodeCheckpoint(actions, legacy))).toEqual([{ protocol: legacy }, { metaData }]);
  });
});

describe('checkpoint contents', () => {
  it('holds live files, txns and the tombstones younger than the retention', () => {
    let s = applyActions(NO_TABLE, 0, [{ protocol }, { metaData }]);
    s = applyActions(s, 1, [add('old', T0), add('young', T0), add('live', T0), { txn: { appId: 'a', version: 1 } }]);
    s = applyActions(s, 2, [remove('old', T0)]);
    s = applyActions(s, 3, [remove('young', T0 + 6 * DAY_MS), { txn: { appId: 'a', version: 3 } }]);
    const actions = checkpointActions(s, T0 + 7 * DAY_MS + 1);
    expect(actions.filter((a) => 'remove' in a).map((a) => ('remove' in a ? a.remove.path : ''))).toEqual(['young']);
    expect(actions.filter((a) => 'add' in a).map((a) => ('add' in a ? a.add.path : ''))).toEqual(['live']);
    expect(actions).toContainEqual({ txn: { appId: 'a', version: 3 } });
  });

  it('drops tombstones a week older than the newest remove as commits are applied, and a re-added file is no tombstone', () => {
    let s = applyActions(NO_TABLE, 0, [{ protocol }, { metaData }, add('a', T0), add('b', T0)]);
    s = applyActions(s, 1, [remove('a', T0)]);
    s = applyActions(s, 2, [remove('b', T0 + 8 * DAY_MS)]);
    expect([...s.removes.keys()]).toEqual(['b']);
    s = applyActions(s, 3, [add('b', T0 + 9 * DAY_MS)]);
    expect(s.removes.size).toBe(0);
  });

  it('takes the interval from delta.checkpointInterval, else the option', () => {
    const s = applyActions(NO_TABLE, 0, [{ protocol }, { metaData }]);
    expect(checkpointInterval(s, 100)).toBe(7);
    expect(checkpointInterval(applyActions(s, 1, [{ metaData: { ...metaData, configuration: {} } }]), 100)).toBe(100);
    expect(checkpointInterval(applyActions(s, 1, [{ metaData: { ...metaData, configuration: { 'delta.checkpointInterval': '0' } } }]))).toBe(100);
  });
});

describe('tombstoneRetentionMs', () => {
  it('reads delta.deletedFileRetentionDuration as a calendar interval', () => {
    expect(tombstoneRetentionMs({})).toBe(DEFAULT_TOMBSTONE_RETENTION_MS);
    expect(tombstoneRetentionMs({ 'delta.deletedFileRetentionDuration': 'interval 1 week' })).toBe(7 * DAY_MS);
    expect(tombstoneRetentionMs({ 'delta.deletedFileRetentionDuration': 'interval 2 days 12 hours' })).toBe(2.5 * DAY_MS);
    expect(tombstoneRetentionMs({ 'delta.deletedFileRetentionDuration': 'INTERVAL 30 MINUTES' })).toBe(30 * 60 * 1000);
    expect(tombstoneRetentionMs({ 'delta.deletedFileRetentionDuration': 'a fortnight' })).toBe(Infinity);
  });
});
