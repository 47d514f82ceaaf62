import { describe, expect, it } from 'vitest';
import { civilFromDays, dateText, daysFromCivil, floorDiv, intervalText, timestampText, timeText, zonedTimestampText, zonedTimeText } from './temporal.js';

describe('calendar arithmetic', () => {
  it('round-trips every day across leap rules and eras', () => {
    const mismatches: number[] = [];
    for (let days = -2_500_000; days <= 3_000_000; days += 3) {
      const { year, month, day } = civilFromDays(days);
      if (daysFromCivil(year, month, day) !== days || day < 1 || day > 31 || month < 1 || month > 12) mismatches.push(days);
    }
    expect(mismatches).toEqual([]);
    expect(civilFromDays(0)).toEqual({ year: 1970, month: 1, day: 1 });
  });

  it('floors integer division for negative values', () => {
    expect(floorDiv(-1n, 1000n)).toBe(-1n);
    expect(floorDiv(-1000n, 1000n)).toBe(-1n);
    expect(floorDiv(-1001n, 1000n)).toBe(-2n);
    expect(floorDiv(1999n, 1000n)).toBe(1n);
  });
});

describe('date (io.debezium.time.Date, days since 1970-01-01)', () => {
  it('prints the proleptic Gregorian date', () => {
    expect(dateText(0n)).toBe('1970-01-01');
    expect(dateText(-1n)).toBe('1969-12-31');
    expect(dateText(16850n)).toBe('2016-02-19');
    expect(dateText(19439n)).toBe('2023-03-23');
    expect(dateText(2932896n)).toBe('9999-12-31');
  });

  it('knows leap days: 2000 and 2024 have one, 1900 and 2100 do not', () => {
    expect(dateText(BigInt(daysFromCivil(2000, 2, 29)))).toBe('2000-02-29');
    expect(dateText(BigInt(daysFromCivil(2000, 2, 29)) + 1n)).toBe('2000-03-01');
    expect(dateText(BigInt(daysFromCivil(2024, 2, 28)) + 1n)).toBe('2024-02-29');
    expect(dateText(BigInt(daysFromCivil(1900, 2, 28)) + 1n)).toBe('1900-03-01');
    expect(dateText(BigInt(daysFromCivil(2100, 2, 28)) + 1n)).toBe('2100-03-01');
    expect(dateText(-25508n)).toBe('1900-03-01'); // 1900-02-28 is -25509
  });

  it('writes years before 1 AD as PostgreSQL does, with BC', () => {
    expect(dateText(-719162n)).toBe('0001-01-01');
    expect(dateText(-719163n)).toBe('0001-12-31 BC');
    expect(dateText(-719528n)).toBe('0001-01-01 BC');
    expect(dateText(-2440588n)).toBe('4714-11-24 BC'); // first day PostgreSQL accepts
  });

  it('refuses dates PostgreSQL cannot store', () => {
    expect(() => dateText(-2440589n)).toThrow(/outside PostgreSQL's date range/);
    expect(dateText(BigInt(daysFromCivil(5874897, 12, 31)))).toBe('5874897-12-31');
    expect(() => dateText(BigInt(daysFromCivil(5874897, 12, 31)) + 1n)).toThrow(RangeError);
  });
});

describe('time of day (Time ms, MicroTime µs, NanoTime ns)', () => {
  it('prints hours, minutes, seconds and a trimmed fraction', () => {
    expect(timeText(0n, 'ms')).toBe('00:00:00');
    expect(timeText(45296789n, 'ms')).toBe('12:34:56.789');
    expect(timeText(36803000000n, 'us')).toBe('10:13:23');
    expect(timeText(40271000010n, 'us')).toBe('11:11:11.00001');
    expect(timeText(86399999999n, 'us')).toBe('23:59:59.999999');
    expect(timeText(86400000000n, 'us')).toBe('24:00:00');
  });

  it('floors nanoseconds to microseconds and never rolls into the next second', () => {
    expect(timeText(1n, 'ns')).toBe('00:00:00');
    expect(timeText(1_999n, 'ns')).toBe('00:00:00.000001');
    expect(timeText(45296123456789n, 'ns')).toBe('12:34:56.123456');
    expect(timeText(86399999999999n, 'ns')).toBe('23:59:59.999999');
  });

  it('refuses negative or past-24h values (MySQL TIME ranges wider than PostgreSQL time)', () => {
    expect(() => timeText(-1n, 'us')).toThrow(/outside PostgreSQL's time range/);
    expect(() => timeText(86400000001n, 'us')).toThrow(RangeError);
    expect(() => timeText(838n * 3600n * 1000n, 'ms')).toThrow(RangeError);
  });
});

describe('timestamp without time zone (Timestamp ms, MicroTimestamp µs, NanoTimestamp ns)', () => {
  it('prints date and time with a trimmed fraction', () => {
    expect(timestampText(0n, 'ms')).toBe('1970-01-01 00:00:00');
    expect(timestampText(1679581805123n, 'ms')).toBe('2023-03-23 14:30:05.123');
    expect(timestampText(1679581805123456n, 'us')).toBe('2023-03-23 14:30:05.123456');
    expect(timestampText(1679581805120000n, 'us')).toBe('2023-03-23 14:30:05.12');
    expect(timestampText(1679581805123456789n, 'ns')).toBe('2023-03-23 14:30:05.123456');
  });

  it('counts backwards correctly before 1970', () => {
    expect(timestampText(-1n, 'us')).toBe('1969-12-31 23:59:59.999999');
    expect(timestampText(-1n, 'ms')).toBe('1969-12-31 23:59:59.999');
    expect(timestampText(-1n, 'ns')).toBe('1969-12-31 23:59:59.999999');
    expect(timestampText(-86_400_000_000n, 'us')).toBe('1969-12-31 00:00:00');
    expect(timestampText(-2208988800000000n, 'us')).toBe('1900-01-01 00:00:00');
    expect(timestampText(-62135596800000001n, 'us')).toBe('0001-12-31 23:59:59.999999 BC');
  });

  it('handles leap days in timestamps', () => {
    expect(timestampText(951782400000000n, 'us')).toBe('2000-02-29 00:00:00');
    expect(timestampText(1709251199999999n, 'us')).toBe('2024-02-29 23:59:59.999999');
  });

  it('refuses timestamps outside PostgreSQL\'s range', () => {
    expect(() => timestampText(-210866803200000001n, 'us')).toThrow(/outside PostgreSQL's timestamp range/);
    expect(timestampText(-210866803200000000n, 'us')).toBe('4714-11-24 00:00:00 BC');
    const end = BigInt(daysFromCivil(294277, 1, 1)) * 86_400_000_000n;
    expect(timestampText(end - 1n, 'us')).toBe('294276-12-31 23:59:59.999999');
    expect(() => timestampText(end, 'us')).toThrow(RangeError);
    expect(timestampText(9223372036854775807n, 'ns')).toBe('2262-04-11 23:47:16.854775');
  });
});

describe('ZonedTimestamp and ZonedTime (ISO-8601 strings with offset)', () => {
  it('writes PostgreSQL\'s form, keeping the offset, Z as +00', () => {
    expect(zonedTimestampText('2023-03-23T22:00:10.123456Z')).toBe('2023-03-23 22:00:10.123456+00');
    expect(zonedTimestampText('2023-03-23T07:10:00Z')).toBe('2023-03-23 07:10:00+00');
    expect(zonedTimestampText('2011-01-11T16:40:30.123456789+00:00')).toBe('2011-01-11 16:40:30.123456+00');
    expect(zonedTimestampText('2020-06-01T10:00:00.5+05:30')).toBe('2020-06-01 10:00:00.5+05:30');
    expect(zonedTimestampText('1890-01-01T00:00:00-00:17:30')).toBe('1890-01-01 00:00:00-00:17:30');
    expect(zonedTimestampText('2020-06-01T10:00Z')).toBe('2020-06-01 10:00:00+00');
    expect(zonedTimestampText('infinity')).toBe('infinity');
  });

  it('trims nanoseconds to microseconds without rounding up', () => {
    expect(zonedTimestampText('1999-12-31T23:59:59.999999999Z')).toBe('1999-12-31 23:59:59.999999+00');
    expect(zonedTimestampText('2000-01-01T00:00:00.000000500Z')).toBe('2000-01-01 00:00:00+00');
  });

  it('accepts leap days and years beyond 9999 or before 1 AD', () => {
    expect(zonedTimestampText('2024-02-29T12:00:00Z')).toBe('2024-02-29 12:00:00+00');
    expect(zonedTimestampText('+10000-01-01T00:00:00Z')).toBe('10000-01-01 00:00:00+00');
    expect(zonedTimestampText('0000-06-01T00:00:00Z')).toBe('0001-06-01 00:00:00+00 BC');
    expect(zonedTimestampText('-0001-06-01T00:00:00Z')).toBe('0002-06-01 00:00:00+00 BC');
  });

  it('refuses impossible or malformed values', () => {
    for (const bad of ['2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2023-13-01T00:00:00Z', '2023-01-01 00:00:00Z', '2023-01-01T24:00:00Z', '2023-01-01T00:00:00', 'yesterday']) {
      expect(() => zonedTimestampText(bad), bad).toThrow(RangeError);
    }
  });

  it('reads times with offsets', () => {
    expect(zonedTimeText('11:11:11Z')).toBe('11:11:11+00');
    expect(zonedTimeText('11:11:11.00001Z')).toBe('11:11:11.00001+00');
    expect(zonedTimeText('23:59:59.999999999-08:00')).toBe('23:59:59.999999-08');
    expect(() => zonedTimeText('25:00:00Z')).toThrow(RangeError);
  });
});

describe('MicroDuration as interval', () => {
  it('writes hours:minutes:seconds that PostgreSQL reads back exactly', () => {
    expect(intervalText(0n)).toBe('00:00:00');
    expect(intervalText(90_061_500_000n)).toBe('25:01:01.5');
    expect(intervalText(-1n)).toBe('-00:00:00.000001');
    expect(intervalText(-90_061_000_000n)).toBe('-25:01:01');
  });
});
