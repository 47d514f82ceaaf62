/**
 * Numbers from PostgreSQL's text output: smallint, integer, bigint (int2out, int4out, int8out),
 * real and double precision (float4out, float8out), numeric (numeric_out).
 * @see https://www.postgresql.org/docs/current/datatype-numeric.html
 */
import { problem } from './value-text-error.js';

const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** True when `text` is `-?[0-9]+`. */
function isIntegerText(text: string): boolean {
  const start = text.charCodeAt(0) === MINUS ? 1 : 0;
  if (text.length === start) return false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}

/** The value of `-?[0-9]{1,15}` (exact as a number), or undefined for any other text. */
function shortInteger(text: string): number | undefined {
  const negative = text.charCodeAt(0) === MINUS;
  const start = negative ? 1 : 0;
  if (text.length === start || text.length - start > 15) return undefined;
  let value = 0;
  for (let i = start; i < text.length; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return undefined;
    value = value * 10 + d;
  }
  return negative ? -value : value;
}

/**
 * A smallint or integer: `-32768`, `2147483647`.
 * @throws {TextProblem} when the text is not an integer or does not fit `bits`.
 */
export function readSmallInteger(text: string, bits: 16 | 32): number {
  const value = shortInteger(text);
  if (value === undefined) {
    if (isIntegerText(text)) problem(`out of range for a ${bits}-bit integer`);
    problem('expected an integer (digits, optionally after -)');
  }
  const limit = bits === 16 ? 32768 : 2147483648;
  if (value < -limit || value >= limit) problem(`out of range for a ${bits}-bit integer`);
  return value === 0 ? 0 : value; // no -0
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A bigint: `-9223372036854775808` … `9223372036854775807`.
 * @throws {TextProblem} when the text is not an integer or does not fit 64 bits.
 */
export function readInt64(text: string): bigint {
  // Up to 15 digits a number is exact, and BigInt(number) is cheaper than BigInt(string).
  const short = shortInteger(text);
  if (short !== undefined) return BigInt(short);
  if (text.length > 20 || !isIntegerText(text)) problem('expected an integer (digits, optionally after -)');
  const value = BigInt(text);
  if (value < INT64_MIN || value > INT64_MAX) problem('out of range for a 64-bit integer');
  return value;
}

/** float4out / float8out: shortest round-trip digits, exponent as `e+20` / `e-07`. */
const FLOAT_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A real or double precision: `1.5`, `-0`, `1e+20`, `NaN`, `Infinity`, `-Infinity`. With
 * `float32`, the value is rounded to the nearest binary32 (`Math.fround`), which is exactly the
 * `real` PostgreSQL holds: its shortest text reads back to it.
 * @throws {TextProblem} when the text is not a number, or a finite text overflows the type.
 */
export function readFloat(text: string, float32: boolean): number {
  switch (text) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
  }
  if (!FLOAT_TEXT.test(text)) problem('expected a number (digits, an optional fraction and exponent), NaN, Infinity or -Infinity');
  const value = float32 ? Math.fround(Number(text)) : Number(text);
  if (!Number.isFinite(value)) problem(`out of range for ${float32 ? 'real' : 'double precision'}`);
  return value;
}

/**
 * An exact decimal value: `unscaled × 10^-scale`. `1234.50` is `{ unscaled: 123450n, scale: 2 }`,
 * `-0.001` is `{ unscaled: -1n, scale: 3 }`, `12000` is `{ unscaled: 12000n, scale: 0 }`. The
 * scale is the number of fraction digits PostgreSQL printed, which is the column's scale for a
 * `numeric(p,s)` column with s >= 0 (0 when s < 0), and each value's own display scale for a bare
 * `numeric` (what `scale(value)` returns). Use {@link decimalAtScale} to bring a value to a
 * column's scale.
 */
export interface FiniteDecimal {
  readonly unscaled: bigint;
  /** Digits after the decimal point, >= 0. */
  readonly scale: number;
}

/**
 * PostgreSQL's numeric specials (PostgreSQL 14 and later for the infinities), as it prints
 * them. No Parquet decimal holds them; a sink decides what to do with them.
 */
export type NonFiniteDecimal = 'NaN' | 'Infinity' | '-Infinity';

/** A numeric value: a {@link FiniteDecimal}, or one of the specials as a string. */
export type DecimalValue = FiniteDecimal | NonFiniteDecimal;

/**
 * A numeric as numeric_out prints it: `-?digits(.digits)?` (no exponent, no `+`), or `NaN`,
 * `Infinity`, `-Infinity`.
 * @see https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-NUMERIC-DECIMAL
 * @throws {TextProblem} for any other text.
 */
export function readDecimal(text: string): DecimalValue {
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return text;
  const point = text.indexOf('.');
  if (point === -1) {
    if (!isIntegerText(text)) problem('expected a decimal number (digits with an optional fraction), NaN, Infinity or -Infinity');
    return { unscaled: BigInt(text), scale: 0 };
  }
  const whole = text.slice(0, point);
  const fraction = text.slice(point + 1);
  if (!isIntegerText(whole) || fraction.length === 0 || fraction.charCodeAt(0) === MINUS || !isIntegerText(fraction)) {
    problem('expected a decimal number (digits with an optional fraction), NaN, Infinity or -Infinity');
  }
  return { unscaled: BigInt(whole + fraction), scale: fraction.length };
}

/**
 * `value` with exactly `scale` fraction digits: `({ unscaled: 15n, scale: 1 }, 3)` →
 * `{ unscaled: 1500n, scale: 3 }`. For writing a `decimal(p,s)` column, whose values all share
 * scale s.
 * @throws {RangeError} when that would drop non-zero digits (`1.25` at scale 1), or `scale` is
 *   negative.
 */
export function decimalAtScale(value: FiniteDecimal, scale: number): FiniteDecimal {
  if (!Number.isInteger(scale) || scale < 0) throw new RangeError(`a decimal scale is a whole number >= 0, not ${scale}`);
  if (scale === value.scale) return value;
  if (scale > value.scale) return { unscaled: value.unscaled * 10n ** BigInt(scale - value.scale), scale };
  const divisor = 10n ** BigInt(value.scale - scale);
  if (value.unscaled % divisor !== 0n) throw new RangeError(`${value.unscaled}e-${value.scale} has more than ${scale} fraction digits`);
  return { unscaled: value.unscaled / divisor, scale };
}
