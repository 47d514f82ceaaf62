/**
 * Durations in Delta table properties (`delta.deletedFileRetentionDuration`,
 * `delta.logRetentionDuration`, …): Spark calendar intervals such as `interval 1 week`,
 * `interval 30 days`, `interval 168 hours` or `interval 1 day 12 hours` (PROTOCOL.md, "Table
 * properties"; Spark's `CalendarInterval` text form, as delta-rs reads it).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  week: 7 * 24 * 3600 * 1000,
  day: 24 * 3600 * 1000,
  hour: 3600 * 1000,
  minute: 60 * 1000,
  second: 1000,
  millisecond: 1,
  microsecond: 0.001,
};

/**
 * The length in ms of a calendar interval: the optional `interval` keyword, then one or more
 * `<number> <unit>` pairs (week, day, hour, minute, second, millisecond, microsecond; singular
 * or plural, any case). Months and years are refused: their length in ms is not fixed.
 * @returns undefined for text that is not such an interval (a negative number included).
 */
export function calendarIntervalMs(text: string): number | undefined {
  const parts = text.trim().toLowerCase().replace(/^interval\s+/, '').split(/\s+/);
  if (parts.length === 0 || parts.length % 2 !== 0) return undefined;
  let total = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const n = Number(parts[i]);
    const unit = UNIT_MS[parts[i + 1]!.replace(/s$/, '')];
    if (!Number.isFinite(n) || n < 0 || unit === undefined) return undefined;
    total += n * unit;
  }
  return total;
}
