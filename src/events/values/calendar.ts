/**
 * The proleptic Gregorian calendar in integer arithmetic, as PostgreSQL uses it for `date` and
 * `timestamp`: days since 1970-01-01 from a year, month and day and back, for every date
 * PostgreSQL can hold (4714-11-24 BC to 5874897-12-31). Years are astronomical: 0 is 1 BC, -1 is
 * 2 BC. No time zone database.
 * @see https://www.postgresql.org/docs/current/datetime-units-history.html
 */

/** Integer division rounding toward negative infinity (bigint `/` truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date; `year` is astronomical (0 = 1 BC,
 * -1 = 2 BC). Works for any year a PostgreSQL date can hold.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  // Count from 0000-03-01 so that the leap day is the last day of a "year".
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400; // 0..399
  const shiftedMonth = month > 2 ? month - 3 : month + 9; // March = 0
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1; // 0..365
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear; // 0..146096
  return era * 146097 + dayOfEra - 719468; // 719468 days from 0000-03-01 to 1970-01-01
}

/** The proleptic Gregorian date (astronomical year) `days` after 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097; // 0..146096
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // March = 0
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

/** Days in a month of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

