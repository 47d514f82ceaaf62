import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import { parseLogicalType, type LogicalType } from '../../schema/logical-type.js';
import { decimalAtScale, decodeTextValue, decoderFor, ValueTextError, type InfiniteValue, type IntervalValue } from './typed-value.js';

/** Decodes `text` as the logical type written `type`. */
const read = (type: string, text: string) => decodeTextValue(parseLogicalType(type), text);

/** The ValueTextError `run` throws. */
function failure(run: () => unknown): ValueTextError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValueTextError);
    return error as ValueTextError;
  }
  throw new Error('expected a ValueTextError');
}

const US_PER_DAY = 86_400_000_000n;

describe('integers', () => {
  it('reads int16 and int32 as numbers, int64 as bigint, at their limits', () => {
    expect(read('int16', '-32768')).toBe(-32768);
    expect(read('int16', '32767')).toBe(32767);
    expect(read('int32', '-2147483648')).toBe(-2147483648);
    expect(read('int32', '0')).toBe(0);
    expect(read('int64', '-9223372036854775808')).toBe(-9223372036854775808n);
    expect(read('int64', '9223372036854775807')).toBe(9223372036854775807n);
  });

  it.each([
    ['int16', '32768', 'out of range for a 16-bit integer'],
    ['int32', '2147483648', 'out of range for a 32-bit integer'],
    ['int64', '9223372036854775808', 'out of range for a 64-bit integer'],
    ['int32', '1.0', 'expected an integer (digits, optionally after -)'],
    ['int32', '', 'expected an integer (digits, optionally after -)'],
    ['int32', '-', 'expected an integer (digits, optionally after -)'],
    ['int32', ' 1', 'expected an integer (digits, optionally after -)'],
    ['int64', '1e3', 'expected an integer (digits, optionally after -)'],
  ])('%s %j: %s', (type, text, message) => {
    const error = failure(() => read(type, text));
    expect(error.message).toBe(`cannot read ${JSON.stringify(text)} as ${type}: ${message}`);
  });
});

describe('decimal', () => {
  it('reads unscaled digits and the printed scale', () => {
    expect(read('decimal(10,2)', '1234.50')).toEqual({ unscaled: 123450n, scale: 2 });
    expect(read('decimal(10,2)', '-0.05')).toEqual({ unscaled: -5n, scale: 2 });
    expect(read('decimal', '12')).toEqual({ unscaled: 12n, scale: 0 });
    expect(read('decimal', '-0.000')).toEqual({ unscaled: 0n, scale: 3 });
    expect(read('decimal(5,-3)', '12000')).toEqual({ unscaled: 12000n, scale: 0 });
    const huge = `${'9'.repeat(1000)}.${'1'.repeat(300)}`;
    expect(read('decimal', huge)).toEqual({ unscaled: BigInt('9'.repeat(1000) + '1'.repeat(300)), scale: 300 });
  });

  it('returns the specials as PostgreSQL prints them', () => {
    expect(read('decimal', 'NaN')).toBe('NaN');
    expect(read('decimal', 'Infinity')).toBe('Infinity');
    expect(read('decimal(10,2)', '-Infinity')).toBe('-Infinity');
  });

  it.each(['1e5', '+1', '.5', '1.', '1.-5', '--1', '1,5', 'nan', ''])('refuses %j', (text) => {
    expect(failure(() => read('decimal', text)).message).toMatch(/^cannot read .* as decimal: expected a decimal number/);
  });

  it('brings a value to a scale without losing digits', () => {
    expect(decimalAtScale({ unscaled: 15n, scale: 1 }, 3)).toEqual({ unscaled: 1500n, scale: 3 });
    expect(decimalAtScale({ unscaled: -1500n, scale: 3 }, 1)).toEqual({ unscaled: -15n, scale: 1 });
    expect(() => decimalAtScale({ unscaled: 125n, scale: 2 }, 1)).toThrow(RangeError);
    expect(() => decimalAtScale({ unscaled: 1n, scale: 0 }, -1)).toThrow(RangeError);
  });
});

describe('floats', () => {
  it('reads float64 exactly and float32 as the binary32 PostgreSQL holds', () => {
    expect(read('float64', '0.1')).toBe(0.1);
    expect(read('float64', '1e+20')).toBe(1e20);
    expect(read('float64', '1.5e-07')).toBe(1.5e-7);
    expect(read('float64', '-0')).toBe(-0);
    expect(read('float64', '1.7976931348623157e+308')).toBe(Number.MAX_VALUE);
    expect(read('float32', '0.1')).toBe(Math.fround(0.1));
    expect(read('float32', '3.4028235e+38')).toBe(Math.fround(3.4028235e38));
    expect(read('float32', '1e-45')).toBe(Math.fround(1e-45));
  });

  it('reads NaN and the infinities', () => {
    expect(read('float64', 'NaN')).toBeNaN();
    expect(read('float32', 'Infinity')).toBe(Infinity);
    expect(read('float64', '-Infinity')).toBe(-Infinity);
  });

  it.each([
    ['float64', '0x10'],
    ['float64', ''],
    ['float64', ' 1'],
    ['float64', 'inf'],
    ['float64', '1e400'],
    ['float32', '1e39'],
  ])('refuses %s %j', (type, text) => {
    expect(failure(() => read(type, text)).code).toBe('VALUE_TEXT_INVALID');
  });
});

describe('bool, text, json, uuid, bytes', () => {
  it('reads t and f (and true/false, as the Debezium decoder writes them)', () => {
    expect(read('bool', 't')).toBe(true);
    expect(read('bool', 'f')).toBe(false);
    expect(read('bool', 'true')).toBe(true);
    expect(read('bool', 'false')).toBe(false);
    expect(failure(() => read('bool', 'yes')).message).toBe('cannot read "yes" as bool: expected t or f');
  });

  it('keeps text and json as they are', () => {
    expect(read('text', '')).toBe('');
    expect(read('text', 'ab   ')).toBe('ab   ');
    expect(read('text', 'Grüße, 世界 🎉')).toBe('Grüße, 世界 🎉');
    expect(read('json', '{"a": [1, 2.50]}')).toBe('{"a": [1, 2.50]}');
  });

  it('reads a UUID in canonical lower case', () => {
    expect(read('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(read('uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    for (const bad of ['a0eebc999c0b4ef8bb6d6bb9bd380a11', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d_6bb9bd380a11']) {
      expect(failure(() => read('uuid', bad)).message).toContain('expected 32 hex digits as 8-4-4-4-12');
    }
  });

  it('reads bytea hex output', () => {
    expect(read('bytes', '\\x')).toEqual(new Uint8Array());
    expect(read('bytes', '\\x0001fFAb')).toEqual(new Uint8Array([0, 1, 255, 171]));
    expect(failure(() => read('bytes', 'abc\\000')).message).toContain('(bytea_output = hex)');
    expect(failure(() => read('bytes', '\\x123')).message).toContain('odd number of hex digits');
    expect(failure(() => read('bytes', '\\x12zz')).message).toContain('not a hex digit at character 5');
  });
});

describe('date', () => {
  it.each<[string, number | InfiniteValue]>([
    ['1970-01-01', 0],
    ['1970-01-02', 1],
    ['1969-12-31', -1],
    ['2000-02-29', 11016],
    ['2023-03-23', 19439],
    ['0001-01-01', -719162],
    ['0001-12-31 BC', -719163],
    ['0001-01-01 BC', -719528],
    ['0005-02-29 BC', -720930],
    ['4714-11-24 BC', -2440588],
    ['5874897-12-31', 2145042905],
    ['10000-01-01', 2932897],
    ['infinity', 'infinity'],
    ['-infinity', '-infinity'],
  ])('%s → %s', (text, days) => {
    expect(read('date', text)).toBe(days);
  });

  it.each([
    ['31/01/2020', 'expected YYYY-MM-DD'],
    ['01-31-2020', 'expected YYYY-MM-DD'],
    ['31.01.2020', 'expected YYYY-MM-DD'],
    ['2020-1-31', 'expected YYYY-MM-DD'],
    ['2021-02-29', 'no such date'],
    ['0004-02-29 BC', 'no such date'],
    ['2020-13-01', 'no such date'],
    ['0000-01-01', 'there is no year 0'],
    ['2020-01-01 AD', 'expected YYYY-MM-DD'],
    ['2020-01-01 10:00:00', 'expected YYYY-MM-DD'],
    ['Infinity', 'expected YYYY-MM-DD'],
  ])('refuses %j: %s', (text, message) => {
    const error = failure(() => read('date', text));
    expect(error.message).toContain(`as date: ${message}`);
    expect(error.logicalType).toBe('date');
    expect(error.value).toBe(text);
    // The value stays on the error for the caller, but not in its context, which error_log records.
    expect(error.context).toEqual({ logicalType: 'date' });
  });
});

describe('time', () => {
  it.each([
    ['00:00:00', 0n],
    ['12:34:56.789', 45296789000n],
    ['00:00:00.000001', 1n],
    ['23:59:59.999999', US_PER_DAY - 1n],
    ['24:00:00', US_PER_DAY],
  ])('%s → %s', (text, micros) => {
    expect(read('time', text)).toBe(micros);
  });

  it.each(['24:00:00.000001', '25:00:00', '12:60:00', '12:00', '12:00:00.1234567', '12:00:00+01', '12:00:00.', '1:00:00'])('refuses %j', (text) => {
    expect(failure(() => read('time', text)).code).toBe('VALUE_TEXT_INVALID');
  });
});

describe('timestamp and timestamptz', () => {
  it.each<[string, bigint | InfiniteValue]>([
    ['1970-01-01 00:00:00', 0n],
    ['2020-01-01 10:00:00.5', 1577872800500000n],
    ['1969-12-31 23:59:59.999999', -1n],
    ['0044-03-15 12:00:00 BC', -63517780800000000n],
    ['4714-11-24 00:00:00 BC', -2440588n * US_PER_DAY],
    ['294276-12-31 23:59:59.999999', 9224318015999999999n],
    ['infinity', 'infinity'],
    ['-infinity', '-infinity'],
  ])('timestamp %s → %s', (text, micros) => {
    expect(read('timestamp', text)).toBe(micros);
  });

  it.each<[string, bigint | InfiniteValue]>([
    ['2020-01-01 10:00:00.5+00', 1577872800500000n],
    ['2020-01-01 15:30:00.5+05:30', 1577872800500000n],
    ['2020-01-01 07:30:00.5-02:30', 1577872800500000n],
    ['1900-01-01 00:00:00+00:19:32', -2208989972000000n],
    ['1900-01-01 00:00:00-03:30:52', -2208976148000000n],
    ['0044-03-15 12:00:00+00 BC', -63517780800000000n],
    ['0044-03-15 12:00:00+00:19:32 BC', -63517781972000000n],
    ['infinity', 'infinity'],
  ])('timestamptz %s → %s', (text, micros) => {
    expect(read('timestamptz', text)).toBe(micros);
  });

  it.each([
    ['timestamp', '2020-01-01T10:00:00', 'expected "YYYY-MM-DD HH:MM:SS" (DateStyle ISO)'],
    ['timestamp', '2020-01-01 10:00:00+00', 'unexpected text after the time of day'],
    ['timestamp', '2020-01-01 24:00:00', 'time of day out of range'],
    ['timestamptz', '2020-01-01 10:00:00', 'expected the UTC offset'],
    ['timestamptz', '2020-01-01 10:00:00 UTC', 'expected the UTC offset'],
    ['timestamptz', '31/01/2020 10:00:00 UTC', 'expected YYYY-MM-DD'],
    ['timestamptz', 'Fri Jan 31 10:00:00 2020 UTC', 'expected YYYY-MM-DD'],
    ['timestamptz', '2020-01-01 10:00:00+05:3', 'malformed UTC offset'],
    ['timestamptz', '2020-01-01 10:00:00+05 AD', 'unexpected text after the UTC offset'],
  ])('%s refuses %j: %s', (type, text, message) => {
    expect(failure(() => read(type, text)).message).toContain(message);
  });
});

describe('interval', () => {
  const iv = (months: number, days: number, microseconds: bigint): IntervalValue => ({ months, days, microseconds });
  it.each<[string, IntervalValue | InfiniteValue]>([
    ['00:00:00', iv(0, 0, 0n)],
    ['1 year 2 mons -3 days +04:05:06.5', iv(14, -3, 14706500000n)],
    ['-1 years -2 mons +3 days -04:05:06', iv(-14, 3, -14706000000n)],
    ['1 day', iv(0, 1, 0n)],
    ['-00:00:00.000001', iv(0, 0, -1n)],
    ['100:00:00', iv(0, 0, 360000000000n)],
    ['178956970 years 7 mons 2147483647 days 2562047788:00:54.775807', iv(2147483647, 2147483647, 9223372036854775807n)],
    ['-178956970 years -8 mons -2147483648 days -2562047788:00:54.775808', iv(-2147483648, -2147483648, -9223372036854775808n)],
    // IntervalStyle iso_8601, and Debezium's io.debezium.time.Interval strings.
    ['PT0S', iv(0, 0, 0n)],
    ['P1Y2M-3DT4H5M6.5S', iv(14, -3, 14706500000n)],
    ['P-1Y-2M3DT-4H-5M-6S', iv(-14, 3, -14706000000n)],
    ['PT-0.000001S', iv(0, 0, -1n)],
    ['PT-1.5S', iv(0, 0, -1500000n)],
    ['P1D', iv(0, 1, 0n)],
    ['infinity', 'infinity'],
    ['-infinity', '-infinity'],
  ])('%s', (text, value) => {
    expect(read('interval', text)).toEqual(value);
  });

  it.each([
    // sql_standard
    '+1-2 -3 +4:05:06.5',
    '1-2',
    '3 0:00:00',
    // postgres_verbose
    '@ 1 year 2 mons',
    '1 year 1 year',
    '1 day 1 year',
    '1 fortnight',
    '',
    'P',
    'PT',
    'P1.5Y',
    'P1H',
    '12:5:00',
    '2147483648 days',
    '178956971 years',
  ])('refuses %j', (text) => {
    expect(failure(() => read('interval', text)).message).toMatch(/as interval: (expected IntervalStyle postgres|interval out of range)/);
  });
});

describe('arrays', () => {
  it('reads one and several dimensions, NULL and empty arrays', () => {
    expect(read('array<int32>', '{}')).toEqual([]);
    expect(read('array<int32>', '{1,2,NULL}')).toEqual([1, 2, null]);
    expect(read('array<int32>', '{{1,2},{3,4}}')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(read('array<int32>', '{{{1},{2}},{{3},{4}}}')).toEqual([[[1], [2]], [[3], [4]]]);
    expect(read('array<int32>', '[0:1]={7,8}')).toEqual([7, 8]);
    expect(read('array<int32>', '[0:1][1:1]={{7},{8}}')).toEqual([[7], [8]]);
    expect(read('array<int64>', '{ 1 , null ,3}')).toEqual([1n, null, 3n]);
  });

  it('unquotes and unescapes text elements; "NULL" quoted is text', () => {
    const literal = '{"a b","c\\"d","e\\\\f",NULL,"NULL","","x,y","{}",plain,"Grüße 🎉",a\\,b}';
    expect(read('array<text>', literal)).toEqual(['a b', 'c"d', 'e\\f', null, 'NULL', '', 'x,y', '{}', 'plain', 'Grüße 🎉', 'a,b']);
  });

  it('reads elements by the element type', () => {
    expect(read('array<decimal(5,2)>', '{1.50,NaN,-0.01}')).toEqual([{ unscaled: 150n, scale: 2 }, 'NaN', { unscaled: -1n, scale: 2 }]);
    expect(read('array<date>', '{"0001-01-01 BC",infinity,1970-01-01}')).toEqual([-719528, 'infinity', 0]);
    expect(read('array<timestamptz>', '{"2020-01-01 10:00:00.5+00",NULL}')).toEqual([1577872800500000n, null]);
    expect(read('array<bytes>', '{"\\\\x00ff"}')).toEqual([new Uint8Array([0, 255])]);
    expect(read('array<interval>', '{"1 day","-00:00:01"}')).toEqual([
      { months: 0, days: 1, microseconds: 0n },
      { months: 0, days: 0, microseconds: -1000000n },
    ]);
    expect(read('array<bool>', '{t,f}')).toEqual([true, false]);
  });

  it('names the element that cannot be read', () => {
    const error = failure(() => read('array<int32>', '{{1,2},{3,x}}'));
    expect(error.message).toBe('cannot read "{{1,2},{3,x}}" as array<int32>: element [1][1] "x": expected an integer (digits, optionally after -)');
    expect(error.logicalType).toBe('array<int32>');
  });

  it.each([
    ['{1,2', 'unterminated array'],
    ['{"a}', 'unterminated quoted element'],
    ['{1,,2}', 'empty unquoted element'],
    ['1,2', 'expected "{"'],
    ['{1} x', 'unexpected text after the array'],
    ['[0:1]{1,2}', 'malformed dimension decoration'],
    ['{1"2"}', 'unexpected " in an unquoted element'],
    ['{"a"b}', 'expected "," or "}"'],
  ])('refuses %j: %s', (text, message) => {
    expect(failure(() => read('array<text>', text)).message).toContain(message);
  });
});

describe('decodeTextValue and decoderFor', () => {
  it('types the result by the logical type', () => {
    const micros: bigint | InfiniteValue = decodeTextValue({ kind: 'timestamptz' }, '2020-01-01 10:00:00+00');
    const days: number | InfiniteValue = decodeTextValue({ kind: 'date' }, '1970-01-01');
    const ints: (number | null | unknown[])[] = decodeTextValue({ kind: 'array', element: { kind: 'int32' } }, '{1}');
    expect([micros, days, ints]).toEqual([1577872800000000n, 0, [1]]);
  });

  it('decoderFor gives the same values and errors', () => {
    const types: LogicalType[] = [{ kind: 'int32' }, { kind: 'array', element: { kind: 'text' } }, { kind: 'decimal', precision: 4, scale: 1 }];
    for (const type of types) {
      const decode = decoderFor(type);
      for (const text of ['12', '{a,b}', '1.5', 'nope']) {
        let expected: unknown;
        let actual: unknown;
        try {
          expected = decodeTextValue(type, text);
        } catch (error) {
          expected = (error as Error).message;
        }
        try {
          actual = decode(text);
        } catch (error) {
          actual = (error as Error).message;
        }
        expect(actual).toEqual(expected);
      }
    }
  });

  it('raises a CdcError with a code, a remedy and context, and cuts long values in the message', () => {
    const long = 'x'.repeat(500);
    const error = failure(() => read('int32', long));
    expect(error).toBeInstanceOf(CdcError);
    expect(error.name).toBe('ValueTextError');
    expect(error.code).toBe('VALUE_TEXT_INVALID');
    expect(error.remedy).toMatch(/DateStyle ISO/);
    expect(error.message).toContain('… (500 characters) as int32');
    expect(error.value).toBe(long);
  });
});
