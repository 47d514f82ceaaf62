/**
 * Tombstones (`remove` actions kept after their file left the table) and when they expire: a
 * tombstone is kept for vacuum, and in checkpoints, until `delta.deletedFileRetentionDuration`
 * after its `deletionTimestamp` (PROTOCOL.md "Add File and Remove File", "Checkpoints").
 */
import { calendarIntervalMs } from './calendar-interval.js';
import type { RemoveAction } from './delta-actions.js';

/** Deletes the tombstones removed before `cutoffMs` (ms since 1970-01-01 UTC). */
export function dropExpiredTombstones(removes: Map<string, RemoveAction>, cutoffMs: number): void {
  for (const [path, remove] of removes) if ((remove.deletionTimestamp ?? 0) < cutoffMs) removes.delete(path);
}

/** `delta.deletedFileRetentionDuration` when the table does not set it: one week (PROTOCOL.md, Spark and delta-rs). */
export const DEFAULT_TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * How long a tombstone is kept (ms): the table's `delta.deletedFileRetentionDuration`, a Spark
 * calendar interval such as `interval 1 week` or `interval 168 hours` ({@link calendarIntervalMs}),
 * else one week. An interval this cannot read keeps every tombstone (`Infinity`): a tombstone
 * kept too long only delays the vacuum of its file.
 */
export function tombstoneRetentionMs(configuration: Readonly<Record<string, string>>): number {
  const text = configuration['delta.deletedFileRetentionDuration'];
  if (text === undefined) return DEFAULT_TOMBSTONE_RETENTION_MS;
  return calendarIntervalMs(text) ?? Infinity;
}
