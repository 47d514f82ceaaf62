/**
 * Intervals from PostgreSQL's text output in IntervalStyle `postgres` (the default:
 * `1 year 2 mons -3 days +04:05:06.5`) or `iso_8601` (`P1Y2M-3DT4H5M6.5S`, also the form of
 * Debezium's `io.debezium.time.Interval` strings). `sql_standard` (`+1-2 -3 +4:05:06.5`) and
 * `postgres_verbose` (`@ 1 year 2 mons`) are refused, never guessed.
 * @see https://www.postgresql.org/docs/current/datatype-datetime.html#DATATYPE-INTERVAL-OUTPUT
 */
import type { InfiniteValue } from './datetime-text.js';
import { problem } from './value-text-error.js';

/**
 * An interval as PostgreSQL stores it: three fields that do not convert into one another (a
 * month has 28 to 31 days, a day 23 to 25 hours across DST), each with its own sign.
 * `1 year 2 mons -3 days +04:05:06.5` is `{ months: 14, days: -3, microseconds: 14706500000n }`.
 */
export interface IntervalValue {
  /** Months, years counted as 12 (a 32-bit integer). */
  readonly months: number;
  /** Days (a 32-bit integer). */
  readonly days: number;
  /** Hours, minutes and seconds, in microseconds (a 64-bit integer). */
  readonly microseconds: bigint;
}

const INT32_LIMIT = 2 ** 31;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const ZERO = 0x30;
const PLUS = 0x2b;
const MINUS = 0x2d;

const POSTGRES_SHAPE = 'expected IntervalStyle postgres ("1 year 2 mons -3 days +04:05:06.5") or iso_8601 ("P1Y2M-3DT4H5M6.5S")';

/** A cursor over an interval's text. */
class Scanner {
  at = 0;
  constructor(readonly text: string) {}

  /** `[+-]?digits` as a number (exact up to 2^53), or undefined when there are no digits here. */
  signedInteger(): number | undefined {
    const start = this.at;
    const c = this.text.charCodeAt(this.at);
    const negative = c === MINUS;
    if (negative || c === PLUS) this.at++;
    let value = 0;
    const first = this.at;
    while (this.at < this.text.length) {
      const d = this.text.charCodeAt(this.at) - ZERO;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      this.at++;
    }
    if (this.at === first || this.at - first > 15) {
      this.at = start;
      return undefined;
    }
    return negative ? -value : value;
  }

  /** `.digits` (1 to 6 of them) as microseconds, 0 when there is no point here. */
  fraction(): number {
    if (this.text.charCodeAt(this.at) !== 0x2e) return 0;
    this.at++;
    let micros = 0;
    let n = 0;
    while (this.at < this.text.length) {
      const d = this.text.charCodeAt(this.at) - ZERO;
      if (d < 0 || d > 9) break;
      if (n === 6) problem('more than 6 fraction digits');
      micros = micros * 10 + d;
      n++;
      this.at++;
    }
    if (n === 0) problem('expected digits after the decimal point');
    for (let k = n; k < 6; k++) micros *= 10;
    return micros;
  }

  /** The text up to the next space (or the end). */
  word(): string {
    const start = this.at;
    while (this.at < this.text.length && this.text.charCodeAt(this.at) !== 0x20) this.at++;
    return this.text.slice(start, this.at);
  }
}

/** Checks the field ranges and builds the value. */
function interval(months: number, days: number, microseconds: bigint): IntervalValue {
  if (months < -INT32_LIMIT || months >= INT32_LIMIT || days < -INT32_LIMIT || days >= INT32_LIMIT || microseconds < INT64_MIN || microseconds > INT64_MAX) {
    problem('interval out of range');
  }
  return { months: months === 0 ? 0 : months, days: days === 0 ? 0 : days, microseconds };
}

/** Two digits, 00 to 59, at the scanner's position. */
function twoDigits(s: Scanner): number {
  const tens = s.text.charCodeAt(s.at) - ZERO;
  const ones = s.text.charCodeAt(s.at + 1) - ZERO;
  if (!(tens >= 0 && tens <= 5 && ones >= 0 && ones <= 9)) problem(POSTGRES_SHAPE);
  s.at += 2;
  return tens * 10 + ones;
}

/** `[+-]H+:MM:SS[.ffffff]`, the time part of the postgres style, at the scanner's position. */
function clockMicros(s: Scanner): bigint {
  const sign = s.text.charCodeAt(s.at);
  const negative = sign === MINUS;
  if (negative || sign === PLUS) s.at++;
  const hours = s.signedInteger();
  if (hours === undefined || hours < 0 || s.text.charCodeAt(s.at) !== 0x3a) problem(POSTGRES_SHAPE);
  s.at++;
  const minutes = twoDigits(s);
  if (s.text.charCodeAt(s.at) !== 0x3a) problem(POSTGRES_SHAPE);
  s.at++;
  const seconds = twoDigits(s);
  const micros = BigInt(hours) * 3_600_000_000n + BigInt((minutes * 60 + seconds) * 1_000_000 + s.fraction());
  return negative ? -micros : micros;
}

/** The postgres style: `N year[s] N mon[s] N day[s] [+-]HH:MM:SS.ffffff`, each part optional. */
function readPostgresStyle(text: string): IntervalValue {
  const s = new Scanner(text);
  let months = 0;
  let days = 0;
  let microseconds = 0n;
  let rank = 0; // 1 after years, 2 after months, 3 after days, 4 after the time: each at most once, in order
  while (s.at < text.length) {
    if (rank > 0) {
      if (text.charCodeAt(s.at) !== 0x20) problem(POSTGRES_SHAPE);
      s.at++;
    }
    const start = s.at;
    const n = s.signedInteger();
    if (n !== undefined && text.charCodeAt(s.at) === 0x20) {
      s.at++;
      const unit = s.word();
      const next = unit === 'year' || unit === 'years' ? 1 : unit === 'mon' || unit === 'mons' ? 2 : unit === 'day' || unit === 'days' ? 3 : 0;
      if (next <= rank) problem(POSTGRES_SHAPE);
      if (next === 1) months += n * 12;
      else if (next === 2) months += n;
      else days = n;
      rank = next;
    } else {
      s.at = start;
      if (rank >= 4) problem(POSTGRES_SHAPE);
      microseconds = clockMicros(s);
      rank = 4;
    }
  }
  if (rank === 0) problem(POSTGRES_SHAPE);
  return interval(months, days, microseconds);
}

/** The iso_8601 style: `P[nY][nM][nD][T[nH][nM][n[.f]S]]`, every number signed; zero is `PT0S`. */
function readIsoStyle(text: string): IntervalValue {
  const s = new Scanner(text);
  s.at = 1;
  let months = 0;
  let days = 0;
  let microseconds = 0n;
  let inTime = false;
  let rank = 0; // Y M D, then H M S: each at most once, in order
  let any = false;
  while (s.at < text.length) {
    if (text[s.at] === 'T') {
      if (inTime) problem('a second T in an ISO 8601 interval');
      inTime = true;
      rank = 3;
      s.at++;
      continue;
    }
    const negative = text.charCodeAt(s.at) === MINUS;
    const n = s.signedInteger();
    if (n === undefined) problem(POSTGRES_SHAPE);
    const fraction = inTime ? s.fraction() : 0;
    const designator = text[s.at++];
    const next = inTime ? (designator === 'H' ? 4 : designator === 'M' ? 5 : designator === 'S' ? 6 : 0) : designator === 'Y' ? 1 : designator === 'M' ? 2 : designator === 'D' ? 3 : 0;
    if (next <= rank || (fraction !== 0 && next !== 6)) problem(POSTGRES_SHAPE);
    rank = next;
    any = true;
    switch (next) {
      case 1:
        months += n * 12;
        break;
      case 2:
        months += n;
        break;
      case 3:
        days = n;
        break;
      case 4:
        microseconds += BigInt(n) * 3_600_000_000n;
        break;
      case 5:
        microseconds += BigInt(n) * 60_000_000n;
        break;
      case 6: {
        // `-0.5S`: the sign belongs to the fraction too, even when the whole part is 0.
        const whole = BigInt(n) * 1_000_000n;
        microseconds += negative ? whole - BigInt(fraction) : whole + BigInt(fraction);
        break;
      }
    }
  }
  if (!any) problem(POSTGRES_SHAPE);
  return interval(months, days, microseconds);
}

/**
 * An `interval` in IntervalStyle postgres or iso_8601 (told apart by the leading `P`):
 * `1 year 2 mons -3 days +04:05:06.5` and `P1Y2M-3DT4H5M6.5S` are both
 * `{ months: 14, days: -3, microseconds: 14706500000n }`; `00:00:00` and `PT0S` are zero;
 * `-00:00:00.000001` is `{ months: 0, days: 0, microseconds: -1n }`. `infinity` and `-infinity`
 * (PostgreSQL 17 and later) are returned as they are.
 * @throws {TextProblem} for any other text (another IntervalStyle, a field out of range).
 */
export function readInterval(text: string): IntervalValue | InfiniteValue {
  if (text === 'infinity' || text === '-infinity') return text;
  return text.charCodeAt(0) === 0x50 ? readIsoStyle(text) : readPostgresStyle(text);
}
