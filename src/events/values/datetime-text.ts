/**
 * Dates, times and timestamps from PostgreSQL's text output in DateStyle `ISO` (the default, and
 * what the replication stream uses: pgoutput sends each value as its type's output function
 * prints it under the walsender session's settings, which are the server's defaults unless a
 * role or database overrides them). Other DateStyles (`SQL`, `Postgres`, `German`) are refused,
 * never guessed: `01/02/2020` is not readable without knowing the field order.
 *
 * Counts are from 1970-01-01 in the proleptic Gregorian calendar, BC years included (`0001 BC`
 * is astronomical year 0), and in microseconds, PostgreSQL's resolution.
 * @see https://www.postgresql.org/docs/current/datatype-datetime.html#DATATYPE-DATETIME-OUTPUT
 * @see https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-DATESTYLE
 */
import { daysFromCivil, daysInMonth } from './calendar.js';
import { problem } from './value-text-error.js';

/**
 * PostgreSQL's special values `infinity` and `-infinity` of date, timestamp and timestamp with
 * time zone, as it prints them: later, and earlier, than every other value. No count holds them;
 * a sink decides what to write for them.
 */
export type InfiniteValue = 'infinity' | '-infinity';

const ZERO = 0x30;
const SPACE = 0x20;
const COLON = 0x3a;
const DOT = 0x2e;
const PLUS = 0x2b;
const MINUS = 0x2d;

/** Seconds whose microsecond count (plus a fraction) stays below 2^53. */
const MAX_EXACT_SECONDS = 9_000_000_000;

const DATE_SHAPE = 'expected YYYY-MM-DD with an optional " BC" (DateStyle ISO)';

/** The value of the `count` decimal digits at `at`, or -1 when they are not all digits. */
function digits(text: string, at: number, count: number): number {
  if (at + count > text.length) return -1;
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** A date at the start of `text`: its parts and where it ends. */
interface DateParts {
  /** As printed: 1 and up (BC is applied by the caller, when it has seen the suffix). */
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** Index just after the day. */
  readonly end: number;
}

function readDateParts(text: string): DateParts {
  let yearDigits = 0;
  while (yearDigits < text.length && text.charCodeAt(yearDigits) !== MINUS) yearDigits++;
  // PostgreSQL pads years to 4 digits; 7 is enough for its last date, 5874897-12-31.
  const year = yearDigits >= 4 && yearDigits <= 7 ? digits(text, 0, yearDigits) : -1;
  const month = digits(text, yearDigits + 1, 2);
  const day = text.charCodeAt(yearDigits + 3) === MINUS ? digits(text, yearDigits + 4, 2) : -1;
  if (year < 0 || month < 0 || day < 0) problem(DATE_SHAPE);
  return { year, month, day, end: yearDigits + 6 };
}

/** True when `text` ends with ` BC` at `at`. */
function isBc(text: string, at: number): boolean {
  return text.length === at + 3 && text.charCodeAt(at) === SPACE && text.charCodeAt(at + 1) === 0x42 && text.charCodeAt(at + 2) === 0x43;
}

/** Days since 1970-01-01 of a printed date, checking that the date exists. */
function dayNumber(parts: DateParts, bc: boolean): number {
  const { year, month, day } = parts;
  if (year === 0) problem('there is no year 0 (1 BC comes before 1 AD)');
  const astronomical = bc ? 1 - year : year;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(astronomical, month)) problem('no such date');
  return daysFromCivil(astronomical, month, day);
}

/**
 * A `date`: days since 1970-01-01. `1970-01-02` → 1, `1969-12-31` → -1, `0001-01-01 BC` →
 * -719528, `5874897-12-31` → 2145042905; `infinity` and `-infinity` are returned as they are.
 * @throws {TextProblem} for any other text (another DateStyle, an impossible date).
 */
export function readDate(text: string): number | InfiniteValue {
  if (text === 'infinity' || text === '-infinity') return text;
  const parts = readDateParts(text);
  const bc = isBc(text, parts.end);
  if (!bc && parts.end !== text.length) problem(DATE_SHAPE);
  return dayNumber(parts, bc);
}

/** A clock reading `HH:MM:SS[.ffffff]` at `at`: microseconds since midnight and where it ends. */
function readClock(text: string, at: number, maxHour: 23 | 24): { micros: number; end: number } {
  const h = digits(text, at, 2);
  const m = text.charCodeAt(at + 2) === COLON ? digits(text, at + 3, 2) : -1;
  const s = text.charCodeAt(at + 5) === COLON ? digits(text, at + 6, 2) : -1;
  if (h < 0 || m < 0 || s < 0) problem('expected a time of day HH:MM:SS with an optional fraction');
  let end = at + 8;
  let fraction = 0;
  if (text.charCodeAt(end) === DOT) {
    let n = 0;
    while (n < 6 && end + 1 + n < text.length) {
      const d = text.charCodeAt(end + 1 + n) - ZERO;
      if (d < 0 || d > 9) break;
      fraction = fraction * 10 + d;
      n++;
    }
    if (n === 0) problem('expected digits after the decimal point');
    for (let k = n; k < 6; k++) fraction *= 10;
    end += 1 + n;
  }
  if (m > 59 || s > 59 || h > maxHour || (h === 24 && (m > 0 || s > 0 || fraction > 0))) problem('time of day out of range');
  return { micros: ((h * 60 + m) * 60 + s) * 1_000_000 + fraction, end };
}

/**
 * A `time without time zone`: microseconds since midnight, 0 to 86 400 000 000 (`24:00:00`,
 * which PostgreSQL allows). `12:34:56.789` → 45296789000n.
 * @throws {TextProblem} for any other text.
 */
export function readTime(text: string): bigint {
  const clock = readClock(text, 0, 24);
  if (clock.end !== text.length) problem('unexpected text after the time of day');
  return BigInt(clock.micros);
}

/** A UTC offset `+HH`, `-HH:MM` or `+HH:MM:SS` at `at`, in seconds east of Greenwich, and where it ends. */
function readOffset(text: string, at: number): { seconds: number; end: number } {
  const sign = text.charCodeAt(at);
  if (sign !== PLUS && sign !== MINUS) problem('expected the UTC offset (+HH, -HH:MM or +HH:MM:SS) after the time');
  const h = digits(text, at + 1, 2);
  if (h < 0) problem('expected the UTC offset (+HH, -HH:MM or +HH:MM:SS) after the time');
  let end = at + 3;
  let m = 0;
  let s = 0;
  if (text.charCodeAt(end) === COLON) {
    m = digits(text, end + 1, 2);
    end += 3;
    if (m >= 0 && text.charCodeAt(end) === COLON) {
      s = digits(text, end + 1, 2);
      end += 3;
    }
  }
  if (m < 0 || s < 0 || m > 59 || s > 59) problem('malformed UTC offset');
  const seconds = (h * 60 + m) * 60 + s;
  return { seconds: sign === MINUS ? -seconds : seconds, end };
}

/**
 * A `timestamp without time zone` (`zoned` false) or `timestamp with time zone` (`zoned` true):
 * microseconds since 1970-01-01 00:00, in UTC for the zoned one.
 *
 * Without time zone, the wall-clock reading counts as if it were UTC:
 * `2020-01-01 10:00:00.5` → 1577872800500000n. With time zone, PostgreSQL prints the instant in
 * the session's TimeZone with its offset, seconds included for old local mean times
 * (`1900-01-01 00:00:00+00:19:32`, `2024-06-01 12:00:00.5-02:30`); the offset is subtracted, so
 * every TimeZone gives the same count. ` BC` follows the offset (`0044-03-15 12:00:00+00 BC`).
 * `infinity` and `-infinity` are returned as they are.
 * @throws {TextProblem} for any other text (another DateStyle, a missing offset, an impossible
 *   date or time).
 */
export function readTimestamp(text: string, zoned: boolean): bigint | InfiniteValue {
  if (text === 'infinity' || text === '-infinity') return text;
  const parts = readDateParts(text);
  if (text.charCodeAt(parts.end) !== SPACE) problem('expected "YYYY-MM-DD HH:MM:SS" (DateStyle ISO)');
  const clock = readClock(text, parts.end + 1, 23);
  let end = clock.end;
  let offsetSeconds = 0;
  if (zoned) {
    const offset = readOffset(text, end);
    offsetSeconds = offset.seconds;
    end = offset.end;
  }
  const bc = isBc(text, end);
  if (!bc && end !== text.length) problem(zoned ? 'unexpected text after the UTC offset' : 'unexpected text after the time of day');
  const day = dayNumber(parts, bc);
  // Whole seconds stay below 2^53 (PostgreSQL's last timestamp is about 9.2e12 s from 1970).
  const seconds = day * 86_400 + Math.floor(clock.micros / 1_000_000) - offsetSeconds;
  const fraction = clock.micros % 1_000_000;
  // Within ±285 years of 1970 the microsecond count itself is exact as a number: one conversion.
  if (seconds > -MAX_EXACT_SECONDS && seconds < MAX_EXACT_SECONDS) return BigInt(seconds * 1_000_000 + fraction);
  return BigInt(seconds) * 1_000_000n + BigInt(fraction);
}
