/**
 * Checking and ordering {@link LakeValue}s: what the Parquet writer accepts, and the order its
 * statistics use (apache/parquet-format LogicalTypes.md "Sort order", README "Statistics").
 */
import { CdcError } from '../../errors.js';
import { lakeTypeText, type LakeDecimal, type LakeType, type LakeValue } from './lake-type.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Days of the range Parquet's INT32 DATE holds. */
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** In a `u` regex a surrogate pair is one code point: this matches only unpaired surrogates. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** 10^p for p = 0..38: the exclusive bound of a decimal(p, s)'s unscaled value. */
const POWERS_OF_TEN = Array.from({ length: 39 }, (_, p) => 10n ** BigInt(p));

/** True when `value` is a {@link LakeDecimal}. */
export function isLakeDecimal(value: unknown): value is LakeDecimal {
  return typeof value === 'object' && value !== null && 'unscaled' in value && typeof value.unscaled === 'bigint';
}

/**
 * Throws unless `value` is a non-null value of `type` (see {@link LakeValue}): integers in
 * range, a decimal with its column's scale and at most `precision` digits, a well-formed
 * string (no lone surrogate: UTF-8 cannot hold one), timestamps within int64.
 * @param where the column (and list position) for the message
 * @throws {CdcError} `PARQUET_VALUE_INVALID`
 */
export function checkLakeValue(type: LakeType, value: LakeValue, where: string): void {
  const ok = ((): boolean => {
    switch (type.kind) {
      case 'int16':
        return Number.isInteger(value) && (value as number) >= -32768 && (value as number) <= 32767;
      case 'int32':
      case 'date':
        return Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX;
      case 'int64':
      case 'timestamp-utc':
      case 'timestamp-ntz':
        return typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX;
      case 'float32':
      case 'float64':
        return typeof value === 'number';
      case 'bool':
        return typeof value === 'boolean';
      case 'string':
        return typeof value === 'string' && !LONE_SURROGATE.test(value);
      case 'binary':
        return value instanceof Uint8Array;
      case 'decimal': {
        if (!isLakeDecimal(value) || value.scale !== type.scale) return false;
        const bound = POWERS_OF_TEN[type.precision]!;
        return value.unscaled < bound && value.unscaled > -bound;
      }
      case 'list':
        if (!Array.isArray(value)) return false;
        (value as readonly LakeValue[]).forEach((element, i) => {
          if (element !== null) checkLakeValue(type.element, element, `${where}[${i}]`);
        });
        return true;
    }
  })();
  if (!ok) {
    throw new CdcError('PARQUET_VALUE_INVALID', `${where}: ${describe(value)} is not a ${lakeTypeText(type)} value`, {
      remedy: 'pass values as LakeValue documents them (src/sinks/lake/lake-type.ts); this is a bug in the caller',
      context: { column: where, type: lakeTypeText(type) },
    });
  }
}

function describe(value: LakeValue): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (isLakeDecimal(value)) return `decimal ${value.unscaled}e-${value.scale}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'string') return `string of ${value.length} UTF-16 units`;
  return value === null || typeof value === 'object' ? typeof value : `${typeof value} ${value}`;
}

/**
 * Compares two strings in UTF-8 byte order, which is Unicode code point order (parquet-format:
 * STRING sorts as unsigned bytes). JavaScript's `<` compares UTF-16 units instead, which puts
 * U+10000.. (surrogate pairs, 0xD800..) before U+E000..U+FFFF.
 * @returns negative, zero or positive
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800..0xDFFF) stand for code points above every BMP unit: move them up.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Compares byte arrays as unsigned bytes, lexicographically. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Orders two non-null values of a scalar `type` as parquet-format's sort orders do: signed for
 * integers, dates, timestamps and decimals (by value), numeric for floats (callers leave NaN
 * out), false < true, UTF-8 bytes for strings, unsigned bytes for binary.
 * @throws {Error} for a list type, which has no order
 */
export function compareLakeValues(type: LakeType, a: LakeValue, b: LakeValue): number {
  switch (type.kind) {
    case 'string':
      return compareUtf8(a as string, b as string);
    case 'binary':
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case 'decimal': {
      const x = (a as LakeDecimal).unscaled;
      const y = (b as LakeDecimal).unscaled;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'bool':
      return Number(a) - Number(b);
    case 'list':
      throw new Error('list values have no order');
    default: {
      const x = a as number | bigint;
      const y = b as number | bigint;
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}
