import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../lake/storage.js';
import { calendarIntervalMs } from './calendar-interval.js';
import { cutOffCheckpointVersion, DEFAULT_LOG_RETENTION_MS, logEntries, logRetentionMs } from './log-cleanup.js';

const v20 = (v: number) => String(v).padStart(20, '0');
const object = (name: string, modifiedMs = 0): StoredObject => ({ path: `s/t/_delta_log/${name}`, size: 1, modifiedMs });

describe('log cleanup, pure parts', () => {
  it('logEntries: commits, checkpoints (classic and multi-part), checksums and compactions of the folder itself, by version; never _last_checkpoint or sub-folders', () => {
    const entries = logEntries(
      [
        object(`${v20(2)}.json`),
        object('_last_checkpoint'),
        object(`${v20(1)}.checkpoint.parquet`),
        object(`${v20(1)}.json`),
        object(`${v20(1)}.checkpoint.0000000001.0000000002.parquet`),
        object(`${v20(0)}.crc`),
        object(`${v20(0)}.${v20(1)}.compacted.json`),
        object(`_commits/${v20(0)}.json`),
        object(`.${v20(3)}.json.tmp`),
        { path: `s/other/_delta_log/${v20(0)}.json`, size: 1, modifiedMs: 0 },
      ],
      's/t',
    );
    expect(entries.map((e) => [e.version, e.kind])).toEqual([
      [0, 'compaction'],
      [0, 'checksum'],
      [1, 'multi-part checkpoint'],
      [1, 'checkpoint'],
      [1, 'commit'],
      [2, 'commit'],
    ]);
  });

  it('cutOffCheckpointVersion: the newest checkpoint at or before the newest commit older than the cutoff, with commit times made monotonic', () => {
    const entries = (times: number[], checkpoints: number[]) => logEntries([...times.map((t, v) => object(`${v20(v)}.json`, t)), ...checkpoints.map((v) => object(`${v20(v)}.checkpoint.parquet`, 1e9))], 's/t');
    expect(cutOffCheckpointVersion(entries([1, 2, 3, 4, 5, 6], [2, 4]), 5, 99)).toBe(4);
    expect(cutOffCheckpointVersion(entries([1, 2, 3, 4, 5, 6], [2, 4]), 3, 99)).toBe(2);
    expect(cutOffCheckpointVersion(entries([1, 2, 3, 4, 5, 6], [2, 4]), 1, 99)).toBeUndefined(); // no checkpoint at or before commit 0
    expect(cutOffCheckpointVersion(entries([1, 2, 3, 4, 5, 6], [2, 4]), 100, 3)).toBe(2); // never past _last_checkpoint
    // Commit 1 was written after the cutoff (a clock step back later): nothing after it counts as old.
    expect(cutOffCheckpointVersion(entries([1, 50, 3, 4, 5, 6], [2, 4]), 10, 99)).toBeUndefined();
  });

  it('logRetentionMs: the table property as an interval, 30 days by default; anything else names the table', () => {
    expect(logRetentionMs({}, 's3://b/lake/s/t')).toBe(DEFAULT_LOG_RETENTION_MS);
    expect(logRetentionMs({ 'delta.logRetentionDuration': 'interval 7 days' }, 't')).toBe(7 * 24 * 3600 * 1000);
    expect(logRetentionMs({ 'delta.logRetentionDuration': 'INTERVAL 1 day 12 hours' }, 't')).toBe(36 * 3600 * 1000);
    expect(() => logRetentionMs({ 'delta.logRetentionDuration': 'interval 1 month' }, 's3://b/lake/s/t')).toThrow(
      expect.objectContaining({ code: 'DELTA_PROPERTY_INVALID', message: 's3://b/lake/s/t: delta.logRetentionDuration "interval 1 month" is not an interval of weeks, days, hours, minutes or seconds' }),
    );
  });

  it('calendarIntervalMs: Spark interval text, singular or plural units; months, negatives and junk are undefined', () => {
    expect(calendarIntervalMs('interval 1 week')).toBe(7 * 24 * 3600 * 1000);
    expect(calendarIntervalMs('168 hours')).toBe(168 * 3600 * 1000);
    expect(calendarIntervalMs('interval 0 seconds')).toBe(0);
    expect(calendarIntervalMs('interval 500 milliseconds')).toBe(500);
    for (const bad of ['interval 1 month', 'interval -1 day', 'forever', 'interval', 'interval 3']) expect(calendarIntervalMs(bad)).toBeUndefined();
  });
});
