/**
 * Dates, times and timestamps as PostgreSQL text, from Debezium's integer encodings (days,
 * milliseconds, microseconds or nanoseconds since the Unix epoch or since midnight) and from
 * its ISO-8601 strings. Integer arithmetic only (bigint), proleptic Gregorian calendar, no time
 * zone database: what PostgreSQL itself does.
 *
 * PostgreSQL keeps microseconds. Finer input (NanoTime, NanoTimestamp, ISO strings with nine
 * fraction digits) is cut down to the microsecond by flooring, so a value never moves into the
 * next second, day or year (rounding `23:59:59.9999996` would). Fraction digits are printed
 * without trailing zeros, as PostgreSQL prints them.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-temporal-types
 * @see https://www.postgresql.org/docs/current/datatype-datetime.html
 */
import { civilFromDays, daysFromCivil, daysInMonth, floorDiv } from '../values/calendar.js';

// The calendar arithmetic is shared with the typed-value decoder; re-exported for this module's users.
export { civilFromDays, daysFromCivil, daysInMonth, floorDiv } from '../values/calendar.js';

/** Microseconds in a day. */
export const MICROS_PER_DAY = 86_400_000_000n;

/** How many of a unit make one second: the integer encodings Debezium uses. */
export type TimeUnit = 'ms' | 'us' | 'ns';

/** A count of `unit` as whole microseconds, floored (so `-1` ns is `-1` µs, not `0`). */
export function toMicros(value: bigint, unit: TimeUnit): bigint {
  switch (unit) {
    case 'ms':
      return value * 1000n;
    case 'us':
      return value;
    case 'ns':
      return floorDiv(value, 1000n);
  }
}

/** First day PostgreSQL's date and timestamp accept: 4714-11-24 BC (Julian day 0). */
const MIN_DAY = daysFromCivil(-4713, 11, 24);
/** Last day of PostgreSQL's date range: 5874897-12-31. */
const MAX_DATE_DAY = daysFromCivil(5874897, 12, 31);
/** First day past PostgreSQL's timestamp range (294276-12-31 is the last). */
const END_TIMESTAMP_DAY = daysFromCivil(294277, 1, 1);

const pad2 = (n: number) => String(n).padStart(2, '0');

function yearText(year: number): { text: string; bc: boolean } {
  return year > 0 ? { text: String(year).padStart(4, '0'), bc: false } : { text: String(1 - year).padStart(4, '0'), bc: true };
}

function dateParts(days: number): { text: string; bc: boolean } {
  const { year, month, day } = civilFromDays(days);
  const y = yearText(year);
  return { text: `${y.text}-${pad2(month)}-${pad2(day)}`, bc: y.bc };
}

/** `.123456`, `.5`, or nothing: a microsecond count as PostgreSQL prints a fraction. */
function fractionText(micros: number): string {
  if (micros === 0) return '';
  return `.${String(micros).padStart(6, '0').replace(/0+$/, '')}`;
}

function clockText(microsOfDay: bigint): string {
  const totalSeconds = Number(microsOfDay / 1_000_000n);
  const micros = Number(microsOfDay % 1_000_000n);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}${fractionText(micros)}`;
}

/**
 * A `date` from days since 1970-01-01 (Debezium `io.debezium.time.Date`, Connect `Date`):
 * `0` → `1970-01-01`, `-1` → `1969-12-31`. Years before 1 AD print as PostgreSQL prints them:
 * `-719528` → `0001-01-01 BC` (astronomical year 0).
 * @throws {RangeError} outside PostgreSQL's date range (4714-11-24 BC to 5874897-12-31).
 */
export function dateText(days: bigint): string {
  if (days < BigInt(MIN_DAY) || days > BigInt(MAX_DATE_DAY)) {
    throw new RangeError(`${days} days from 1970-01-01 is outside PostgreSQL's date range (4714-11-24 BC to 5874897-12-31)`);
  }
  const d = dateParts(Number(days));
  return d.bc ? `${d.text} BC` : d.text;
}

/**
 * A `time` from a count of `unit` since midnight (`io.debezium.time.Time` ms, `MicroTime` µs,
 * `NanoTime` ns, Connect `Time` ms): `45296789000` µs → `12:34:56.789`. `24:00:00` is allowed,
 * as in PostgreSQL.
 * @throws {RangeError} below 00:00:00 or above 24:00:00 (MySQL's TIME can hold -838:59:59 to
 * 838:59:59, which a PostgreSQL `time` cannot; map such a column to `interval`).
 */
export function timeText(value: bigint, unit: TimeUnit): string {
  const micros = toMicros(value, unit);
  if (micros < 0n || micros > MICROS_PER_DAY) {
    throw new RangeError(`${value} ${unit} since midnight is outside PostgreSQL's time range (00:00:00 to 24:00:00)`);
  }
  return clockText(micros);
}

/**
 * A `timestamp without time zone` from a count of `unit` since 1970-01-01T00:00 (the wall-clock
 * reading encoded as if it were UTC, which is how Debezium encodes it): `-1` µs →
 * `1969-12-31 23:59:59.999999`.
 * @throws {RangeError} outside PostgreSQL's timestamp range (4714-11-24 BC to 294276-12-31).
 */
export function timestampText(value: bigint, unit: TimeUnit): string {
  const micros = toMicros(value, unit);
  const day = floorDiv(micros, MICROS_PER_DAY);
  if (day < BigInt(MIN_DAY) || day >= BigInt(END_TIMESTAMP_DAY)) {
    throw new RangeError(`${value} ${unit} from 1970-01-01 is outside PostgreSQL's timestamp range (4714-11-24 BC to 294276-12-31)`);
  }
  const d = dateParts(Number(day));
  const text = `${d.text} ${clockText(micros - day * MICROS_PER_DAY)}`;
  return d.bc ? `${text} BC` : text;
}

/**
 * An `interval` from microseconds (`io.debezium.time.MicroDuration`), as hours, minutes and
 * seconds, which PostgreSQL reads back exactly: `90061500000` → `25:01:01.5`, `-1` → `-00:00:00.000001`.
 * (Debezium has already flattened months and days into microseconds, using 30.4375-day months.)
 */
export function intervalText(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const totalSeconds = abs / 1_000_000n;
  const fraction = Number(abs % 1_000_000n);
  const hours = totalSeconds / 3600n;
  const minutes = Number((totalSeconds % 3600n) / 60n);
  const seconds = Number(totalSeconds % 60n);
  return `${negative ? '-' : ''}${hours.toString().padStart(2, '0')}:${pad2(minutes)}:${pad2(seconds)}${fractionText(fraction)}`;
}

const OFFSET = '(Z|[+-]\\d{2}(?::?\\d{2}(?::?\\d{2})?)?)';
const ISO_OFFSET_DATE_TIME = new RegExp(`^([+-]?\\d{4,})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,9}))?)?${OFFSET}$`);
const ISO_OFFSET_TIME = new RegExp(`^(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,9}))?)?${OFFSET}$`);

function offsetText(offset: string): string {
  if (offset === 'Z') return '+00';
  const m = /^([+-])(\d{2}):?(\d{2})?:?(\d{2})?$/.exec(offset)!;
  const [, sign, hh, mm, ss] = m;
  if (Number(hh) > 15 || Number(mm ?? 0) > 59 || Number(ss ?? 0) > 59) throw new RangeError(`time zone offset ${offset} is out of range`);
  let text = `${sign}${hh}`;
  if (mm !== undefined && (mm !== '00' || (ss !== undefined && ss !== '00'))) text += `:${mm}`;
  if (ss !== undefined && ss !== '00') text += `:${ss}`;
  return text;
}

function checkedClock(hh: string, mm: string, ss: string | undefined, frac: string | undefined, what: string): string {
  const h = Number(hh);
  const m = Number(mm);
  const s = Number(ss ?? '0');
  if (h > 23 || m > 59 || s > 59) throw new RangeError(`${what}: time of day out of range`);
  const micros = frac === undefined ? 0 : Number(frac.slice(0, 6).padEnd(6, '0'));
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}${fractionText(micros)}`;
}

/**
 * A `timestamp with time zone` from an ISO-8601 string with an offset
 * (`io.debezium.time.ZonedTimestamp`, Java's `ISO_OFFSET_DATE_TIME`):
 * `2011-01-11T16:40:30.123456789+00:00` → `2011-01-11 16:40:30.123456+00`. The offset is kept
 * (the instant is what PostgreSQL stores); `Z` becomes `+00`; years before 1 AD get ` BC`.
 * `infinity` and `-infinity` pass through.
 * @throws {RangeError} when the text is not of that form or names an impossible date or time.
 */
export function zonedTimestampText(iso: string): string {
  if (iso === 'infinity' || iso === '-infinity') return iso;
  const m = ISO_OFFSET_DATE_TIME.exec(iso);
  if (!m) throw new RangeError(`not an ISO-8601 timestamp with offset: ${JSON.stringify(iso)}`);
  const [, yyyy, mo, dd, hh, mi, ss, frac, offset] = m;
  const year = Number(yyyy);
  const month = Number(mo);
  const day = Number(dd);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw new RangeError(`${iso}: no such date`);
  const y = yearText(year);
  const text = `${y.text}-${mo}-${dd} ${checkedClock(hh!, mi!, ss, frac, iso)}${offsetText(offset!)}`;
  return y.bc ? `${text} BC` : text;
}

/**
 * A `time with time zone` from an ISO-8601 time with offset (`io.debezium.time.ZonedTime`):
 * `11:11:11.00001Z` → `11:11:11.00001+00`.
 * @throws {RangeError} when the text is not of that form.
 */
export function zonedTimeText(iso: string): string {
  const m = ISO_OFFSET_TIME.exec(iso);
  if (!m) throw new RangeError(`not an ISO-8601 time with offset: ${JSON.stringify(iso)}`);
  const [, hh, mi, ss, frac, offset] = m;
  return `${checkedClock(hh!, mi!, ss, frac, iso)}${offsetText(offset!)}`;
}

/**
 * Debezium's stand-ins for PostgreSQL's `infinity` and `-infinity` timestamps: these exact
 * numbers, whatever the unit.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-timestamp-type
 */
export const POSITIVE_INFINITY_TIMESTAMP = 9223372036825200000n;
/** See {@link POSITIVE_INFINITY_TIMESTAMP}. */
export const NEGATIVE_INFINITY_TIMESTAMP = -9223372036832400000n;
