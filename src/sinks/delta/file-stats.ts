/**
 * The `stats` of an `add` action: `numRecords`, and per column `minValues`, `maxValues` and
 * `nullCount`, as JSON text (PROTOCOL.md "Per-file Statistics"). Bounds are written only where
 * they are exact and the JSON form is unambiguous: numbers (64-bit integers and decimals with
 * every digit), dates and timestamps in ISO-8601 with microseconds, strings up to
 * {@link MAX_STRING_BOUND} characters. Binary and array columns get only null counts.
 */
import type { ColumnStats, LakeColumn, LakeValue } from '../lake/parquet.js';

/** Longer strings get no bounds (a prefix would not bound the maximum). */
export const MAX_STRING_BOUND = 64;

const MICROS_PER_DAY = 86_400_000_000n;

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD` of days since 1970-01-01, or undefined outside years 1–9999. */
export function isoDate(days: number): string | undefined {
  const d = new Date(days * 86_400_000);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(d.getTime()) || year < 1 || year > 9999) return undefined;
  return `${pad(year, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffff` of µs since 1970-01-01, with `Z` when `utc`; undefined outside years 1–9999. */
export function isoTimestamp(micros: bigint, utc: boolean): string | undefined {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const date = isoDate(Number(days));
  if (date === undefined) return undefined;
  const seconds = rest / 1_000_000n;
  const fraction = rest % 1_000_000n;
  const time = `${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}.${pad(fraction, 6)}`;
  return `${date}T${time}${utc ? 'Z' : ''}`;
}

/** Digits of a decimal with its point: 12345 at scale 2 → `123.45`. */
export function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

/** The JSON text of a bound, or undefined when none is written for it. */
function boundJson(column: LakeColumn, value: LakeValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  switch (column.type.kind) {
    case 'int16':
    case 'int32':
      return typeof value === 'number' ? String(value) : undefined;
    case 'float32':
    case 'float64':
      return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case 'int64':
      return (value as bigint).toString();
    case 'decimal': {
      const d = value as { unscaled: bigint; scale: number };
      return decimalText(d.unscaled, d.scale);
    }
    case 'string':
      return (value as string).length <= MAX_STRING_BOUND ? JSON.stringify(value) : undefined;
    case 'date': {
      const text = isoDate(value as number);
      return text === undefined ? undefined : JSON.stringify(text);
    }
    case 'timestamp-utc':
    case 'timestamp-ntz': {
      const text = isoTimestamp(value as bigint, column.type.kind === 'timestamp-utc');
      return text === undefined ? undefined : JSON.stringify(text);
    }
    default:
      return undefined;
  }
}

/**
 * The `stats` JSON text of a data file of `columns` (in the same order as `stats`).
 * 64-bit integers and decimals are written as JSON numbers with every digit.
 */
export function deltaStatsJson(columns: readonly LakeColumn[], numRecords: number, stats: readonly ColumnStats[]): string {
  const min: string[] = [];
  const max: string[] = [];
  const nulls: string[] = [];
  columns.forEach((column, i) => {
    const s = stats[i];
    if (!s) return;
    const key = JSON.stringify(column.name);
    nulls.push(`${key}:${s.nullCount}`);
    const lo = boundJson(column, s.min);
    const hi = boundJson(column, s.max);
    if (lo !== undefined && hi !== undefined) {
      min.push(`${key}:${lo}`);
      max.push(`${key}:${hi}`);
    }
  });
  return `{"numRecords":${numRecords},"minValues":{${min.join(',')}},"maxValues":{${max.join(',')}},"nullCount":{${nulls.join(',')}}}`;
}
