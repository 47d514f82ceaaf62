import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../change.js';
import { parseConnectSchema } from './connect-schema.js';
import { InvalidField } from './errors.js';
import { parseJson } from './json.js';
import { columnValueWithSchema, postgresTypeOf } from './logical-types.js';
import { UnavailableValue } from './unavailable-value.js';
import type { ValueSettings } from './value-readers.js';

const settings: ValueSettings = { binaryHandlingMode: 'bytes', unavailable: UnavailableValue.of() };

/** Decodes one JSON value (as text) under one schema (as an object). */
function decode(schema: object, value: string, s: ValueSettings = settings) {
  return columnValueWithSchema(parseJson(value), parseConnectSchema(parseJson(JSON.stringify(schema)), ['schema']), ['after', 'c'], s);
}
function pgType(schema: object) {
  return postgresTypeOf(parseConnectSchema(parseJson(JSON.stringify(schema)), ['schema']), ['schema']);
}
function reason(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    if (error instanceof InvalidField) return error.message;
    throw error;
  }
  throw new Error('expected a failure');
}
const b64 = (bytes: number[]) => JSON.stringify(Buffer.from(bytes).toString('base64'));

const decimal = (scale: number, precision?: number) => ({
  type: 'bytes',
  name: 'org.apache.kafka.connect.data.Decimal',
  parameters: { scale: String(scale), ...(precision === undefined ? {} : { 'connect.decimal.precision': String(precision) }) },
});
const named = (type: string, name: string, parameters?: Record<string, string>) => ({ type, name, ...(parameters ? { parameters } : {}) });

describe('org.apache.kafka.connect.data.Decimal', () => {
  it('decodes base64 unscaled bytes with the scale parameter, negatives included', () => {
    expect(decode(decimal(2, 10), b64([0x01, 0xe2, 0x40]))).toBe('1234.56');
    expect(decode(decimal(2, 10), b64([0xfe, 0x1d, 0xc0]))).toBe('-1234.56');
    expect(decode(decimal(2, 10), b64([0xff]))).toBe('-0.01');
    expect(decode(decimal(0), b64([0x00, 0xff]))).toBe('255');
    expect(decode(decimal(3), b64([0x00]))).toBe('0.000');
  });

  it('keeps a large scale and a value wider than 64 bits exact', () => {
    const unscaled = 10n ** 30n + 7n; // 31 digits
    const hex = unscaled.toString(16).padStart(26, '0');
    expect(decode(decimal(20, 38), JSON.stringify(Buffer.from(hex, 'hex').toString('base64')))).toBe('10000000000.00000000000000000007');
  });

  it('accepts JSON numbers (JsonConverter decimal.format=NUMERIC), padded to the scale', () => {
    expect(decode(decimal(3, 8), '12345.11')).toBe('12345.110');
    expect(decode(decimal(1, 2), '-1.1')).toBe('-1.1');
    expect(decode(decimal(10, 38), '2222222222222222300000001111.123456789')).toBe('2222222222222222300000001111.1234567890');
  });

  it('maps to numeric(p,s), or numeric without a usable precision', () => {
    expect(pgType(decimal(2, 10))).toBe('numeric(10,2)');
    expect(pgType(decimal(0))).toBe('numeric');
    expect(pgType(decimal(-2, 5))).toBe('numeric');
  });

  it('fails with the field path on anything but base64 or a number', () => {
    expect(reason(() => decode(decimal(2), '"not base64!"'))).toBe('after.c: expected base64 for Decimal, found string "not base64!"');
    expect(reason(() => decode(decimal(2), 'true'))).toBe('after.c: expected base64 for Decimal, found boolean');
    expect(reason(() => decode(decimal(2), '""'))).toBe('after.c: a decimal needs at least one byte of unscaled value');
    expect(reason(() => decode({ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal' }, '"AQ=="'))).toMatch(/no scale parameter/);
  });
});

describe('io.debezium.data.VariableScaleDecimal', () => {
  const vsd = { type: 'struct', name: 'io.debezium.data.VariableScaleDecimal', fields: [{ type: 'int32', field: 'scale' }, { type: 'bytes', field: 'value' }] };
  it('reads {scale, value}', () => {
    expect(decode(vsd, `{"scale":3,"value":${b64([0x30, 0x39])}}`)).toBe('12.345');
    expect(decode(vsd, `{"scale":0,"value":${b64([0x85])}}`)).toBe('-123');
    expect(decode(vsd, `{"scale":5,"value":${b64([0xff, 0xfe])}}`)).toBe('-0.00002');
    expect(pgType(vsd)).toBe('numeric');
  });
  it('fails on a missing scale', () => {
    expect(reason(() => decode(vsd, `{"value":${b64([1])}}`))).toMatch(/^after\.c\.scale: expected an integer/);
  });
});

describe('temporal logical types', () => {
  it('Date: days since epoch, leap days and before 1970', () => {
    expect(decode(named('int32', 'io.debezium.time.Date'), '19439')).toBe('2023-03-23');
    expect(decode(named('int32', 'io.debezium.time.Date'), '11016')).toBe('2000-02-29');
    expect(decode(named('int32', 'io.debezium.time.Date'), '-1')).toBe('1969-12-31');
    expect(decode(named('int32', 'org.apache.kafka.connect.data.Date'), '-25508')).toBe('1900-03-01');
    expect(pgType(named('int32', 'io.debezium.time.Date'))).toBe('date');
  });

  it('Time / MicroTime / NanoTime / Connect Time', () => {
    expect(decode(named('int32', 'io.debezium.time.Time'), '45296789')).toBe('12:34:56.789');
    expect(decode(named('int64', 'io.debezium.time.MicroTime'), '36803000000')).toBe('10:13:23');
    expect(decode(named('int64', 'io.debezium.time.NanoTime'), '45296123456789')).toBe('12:34:56.123456');
    expect(decode(named('int32', 'org.apache.kafka.connect.data.Time'), '1')).toBe('00:00:00.001');
    expect(pgType(named('int64', 'io.debezium.time.MicroTime'))).toBe('time(6) without time zone');
    expect(pgType(named('int32', 'io.debezium.time.Time'))).toBe('time(3) without time zone');
    expect(reason(() => decode(named('int64', 'io.debezium.time.MicroTime'), '-1'))).toMatch(/^after\.c: .*outside PostgreSQL's time range/);
  });

  it('Timestamp / MicroTimestamp / NanoTimestamp / Connect Timestamp, before and after 1970', () => {
    expect(decode(named('int64', 'io.debezium.time.Timestamp'), '1679581805123')).toBe('2023-03-23 14:30:05.123');
    expect(decode(named('int64', 'io.debezium.time.MicroTimestamp'), '1679581805123456')).toBe('2023-03-23 14:30:05.123456');
    expect(decode(named('int64', 'io.debezium.time.MicroTimestamp'), '-1')).toBe('1969-12-31 23:59:59.999999');
    expect(decode(named('int64', 'io.debezium.time.NanoTimestamp'), '-1')).toBe('1969-12-31 23:59:59.999999');
    expect(decode(named('int64', 'io.debezium.time.NanoTimestamp'), '1500')).toBe('1970-01-01 00:00:00.000001');
    expect(decode(named('int64', 'org.apache.kafka.connect.data.Timestamp'), '-2208988800000')).toBe('1900-01-01 00:00:00');
    expect(pgType(named('int64', 'io.debezium.time.MicroTimestamp'))).toBe('timestamp(6) without time zone');
    expect(pgType(named('int64', 'io.debezium.time.Timestamp'))).toBe('timestamp(3) without time zone');
  });

  it("turns Debezium's infinity stand-ins into PostgreSQL's infinity", () => {
    expect(decode(named('int64', 'io.debezium.time.MicroTimestamp'), '9223372036825200000')).toBe('infinity');
    expect(decode(named('int64', 'io.debezium.time.Timestamp'), '-9223372036832400000')).toBe('-infinity');
  });

  it('ZonedTimestamp and ZonedTime', () => {
    expect(decode(named('string', 'io.debezium.time.ZonedTimestamp'), '"2023-03-23T22:00:10.123456Z"')).toBe('2023-03-23 22:00:10.123456+00');
    expect(decode(named('string', 'io.debezium.time.ZonedTime'), '"11:11:11.00001Z"')).toBe('11:11:11.00001+00');
    expect(pgType(named('string', 'io.debezium.time.ZonedTimestamp'))).toBe('timestamp with time zone');
    expect(pgType(named('string', 'io.debezium.time.ZonedTime'))).toBe('time with time zone');
    expect(reason(() => decode(named('string', 'io.debezium.time.ZonedTimestamp'), '"2023-02-29T00:00:00Z"'))).toMatch(/no such date/);
  });

  it('Year, MicroDuration and Interval', () => {
    expect(decode(named('int32', 'io.debezium.time.Year'), '2023')).toBe('2023');
    expect(decode(named('int64', 'io.debezium.time.MicroDuration'), '90061500000')).toBe('25:01:01.5');
    expect(decode(named('string', 'io.debezium.time.Interval'), '"P1Y2M3DT4H5M6.78S"')).toBe('P1Y2M3DT4H5M6.78S');
    expect(pgType(named('int64', 'io.debezium.time.MicroDuration'))).toBe('interval');
  });
});

describe('string-based logical types', () => {
  it('pass Uuid, Json, Xml, Enum, EnumSet through and name their PostgreSQL types', () => {
    expect(decode(named('string', 'io.debezium.data.Uuid'), '"60f14fe2-f857-404a-b586-3b5375b3259f"')).toBe('60f14fe2-f857-404a-b586-3b5375b3259f');
    expect(decode(named('string', 'io.debezium.data.Json'), '"{\\"a\\": [1, 2.50]}"')).toBe('{"a": [1, 2.50]}');
    expect(decode(named('string', 'io.debezium.data.Xml'), '"<a>b</a>"')).toBe('<a>b</a>');
    expect(decode(named('string', 'io.debezium.data.Enum', { allowed: 'a,b' }), '"a"')).toBe('a');
    expect(decode(named('string', 'io.debezium.data.EnumSet', { allowed: 'a,b,c' }), '"a,c"')).toBe('a,c');
    expect(pgType(named('string', 'io.debezium.data.Uuid'))).toBe('uuid');
    expect(pgType(named('string', 'io.debezium.data.Json'))).toBe('jsonb');
    expect(pgType(named('string', 'io.debezium.data.Xml'))).toBe('xml');
    expect(pgType(named('string', 'io.debezium.data.Enum'))).toBe('text');
  });

  it('refuses NUL, which PostgreSQL text cannot hold', () => {
    expect(reason(() => decode({ type: 'string' }, '"a\\u0000b"'))).toMatch(/NUL/);
  });
});

describe('io.debezium.data.Bits', () => {
  it('reads little-endian bytes into a bit string of `length` bits', () => {
    // MySQL BIT(64) value b'11111000111' (0x07C7): bytes c7 07 00 …
    expect(decode(named('bytes', 'io.debezium.data.Bits', { length: '64' }), '"xwcAAAAAAAA="')).toBe(`${'0'.repeat(53)}11111000111`);
    expect(decode(named('bytes', 'io.debezium.data.Bits', { length: '3' }), b64([0b101]))).toBe('101');
    expect(decode(named('bytes', 'io.debezium.data.Bits', { length: '10' }), b64([0x01, 0x02]))).toBe('1000000001');
    expect(pgType(named('bytes', 'io.debezium.data.Bits', { length: '10' }))).toBe('bit(10)');
    expect(pgType(named('bytes', 'io.debezium.data.Bits', { length: '2147483647' }))).toBe('bit varying');
  });
  it('refuses more significant bits than the length', () => {
    expect(reason(() => decode(named('bytes', 'io.debezium.data.Bits', { length: '2' }), b64([0b111])))).toMatch(/more than its length 2/);
  });
});

describe('physical types', () => {
  it('integers, floats, booleans, strings, bytes', () => {
    expect(decode({ type: 'int64' }, '9223372036854775807')).toBe('9223372036854775807');
    expect(decode({ type: 'int16' }, '-32768')).toBe('-32768');
    expect(decode({ type: 'double' }, '3.140000104904175')).toBe('3.140000104904175');
    expect(decode({ type: 'float' }, '1E+10')).toBe('1E+10');
    expect(decode({ type: 'double' }, '"NaN"')).toBe('NaN');
    expect(decode({ type: 'boolean' }, 'false')).toBe('false');
    expect(decode({ type: 'string' }, '"Anne Marie"')).toBe('Anne Marie');
    expect(decode({ type: 'bytes' }, '"ASNFZ4mrze8="')).toBe('\\x0123456789abcdef');
    expect(decode({ type: 'bytes' }, '""')).toBe('\\x');
    expect(decode({ type: 'int32', optional: true }, 'null')).toBeNull();
  });

  it('maps physical types to PostgreSQL', () => {
    expect(pgType({ type: 'int8' })).toBe('smallint');
    expect(pgType({ type: 'int16' })).toBe('smallint');
    expect(pgType({ type: 'int32' })).toBe('integer');
    expect(pgType({ type: 'int64' })).toBe('bigint');
    expect(pgType({ type: 'float' })).toBe('real');
    expect(pgType({ type: 'float64' })).toBe('double precision');
    expect(pgType({ type: 'boolean' })).toBe('boolean');
    expect(pgType({ type: 'string' })).toBe('text');
    expect(pgType({ type: 'bytes' })).toBe('bytea');
    expect(pgType({ type: 'string', name: 'some.unknown.Logical' })).toBe('text');
  });

  it('refuses wrong JSON types and out-of-range integers, naming the path', () => {
    expect(reason(() => decode({ type: 'int32' }, '"12"'))).toBe('after.c: expected an integer for int32, found string "12"');
    expect(reason(() => decode({ type: 'int32' }, '1.5'))).toBe('after.c: expected an integer for int32, found number 1.5');
    expect(reason(() => decode({ type: 'int16' }, '40000'))).toBe('after.c: 40000 does not fit the 16-bit integer of int16');
    expect(reason(() => decode({ type: 'boolean' }, '1'))).toBe('after.c: expected true or false, found number 1');
    expect(reason(() => decode({ type: 'bytes' }, '"a b"'))).toMatch(/expected base64 for bytes/);
    expect(reason(() => decode({ type: 'struct', fields: [] }, '{}'))).toMatch(/has no PostgreSQL column form/);
  });
});

describe('arrays and maps', () => {
  it('writes array literals, quoting only where needed', () => {
    expect(decode({ type: 'array', items: { type: 'int32' } }, '[10000,10001,null]')).toBe('{10000,10001,NULL}');
    expect(decode({ type: 'array', items: { type: 'string' } }, '["a","b c","","null","q\\"x","back\\\\slash","{}"]')).toBe(
      '{a,"b c","","null","q\\"x","back\\\\slash","{}"}',
    );
    expect(decode({ type: 'array', items: { type: 'bytes' } }, '["AQI="]')).toBe('{"\\\\x0102"}');
    expect(decode({ type: 'array', items: { type: 'int64', name: 'io.debezium.time.MicroTimestamp' } }, '[0]')).toBe('{"1970-01-01 00:00:00"}');
    expect(decode({ type: 'array', items: { type: 'array', items: { type: 'int32' } } }, '[[1,2],[3,4]]')).toBe('{{1,2},{3,4}}');
    expect(pgType({ type: 'array', items: { type: 'int32' } })).toBe('integer[]');
    expect(pgType({ type: 'array', items: named('string', 'io.debezium.data.Uuid') })).toBe('uuid[]');
    expect(pgType({ type: 'array', items: { type: 'array', items: { type: 'string' } } })).toBe('text[]');
  });

  it('writes string maps as hstore', () => {
    const map = { type: 'map', keys: { type: 'string' }, values: { type: 'string', optional: true } };
    expect(decode(map, '{"a":"1","b \\"x\\"":null}')).toBe('"a"=>"1", "b \\"x\\""=>NULL');
    expect(pgType(map)).toBe('hstore');
  });

  it('names the element that fails', () => {
    expect(reason(() => decode({ type: 'array', items: { type: 'int32' } }, '[1,"x"]'))).toBe('after.c[1]: expected an integer for int32, found string "x"');
  });
});

describe('PostGIS and points', () => {
  const geometry = { type: 'struct', name: 'io.debezium.data.geometry.Geometry', fields: [{ type: 'bytes', field: 'wkb' }, { type: 'int32', optional: true, field: 'srid' }] };
  it('folds the SRID into hex EWKB', () => {
    // POINT(1 1), little-endian
    expect(decode(geometry, '{"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAPA/","srid":null}')).toBe('0101000000000000000000F03F000000000000F03F');
    expect(decode(geometry, '{"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAPA/","srid":4326}')).toBe('0101000020E6100000000000000000F03F000000000000F03F');
    expect(pgType(geometry)).toBe('geometry');
  });
  it('writes a geometric point as (x,y)', () => {
    const point = { type: 'struct', name: 'io.debezium.data.geometry.Point', fields: [{ type: 'double', field: 'x' }, { type: 'double', field: 'y' }] };
    expect(decode(point, '{"x":1.5,"y":-2,"wkb":null,"srid":null}')).toBe('(1.5,-2)');
    expect(pgType(point)).toBe('point');
  });
});

describe('the unavailable-value placeholder becomes UNCHANGED in every form', () => {
  const placeholder = '__debezium_unavailable_value';
  const bytesB64 = 'X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==';
  it('as text, for text and text-based logical types', () => {
    expect(decode({ type: 'string' }, `"${placeholder}"`)).toBe(UNCHANGED);
    expect(decode(named('string', 'io.debezium.data.Json'), `"${placeholder}"`)).toBe(UNCHANGED);
    expect(decode(named('string', 'io.debezium.data.Uuid'), `"${placeholder}"`)).toBe(UNCHANGED);
  });
  it('as base64 bytes, for bytes, Decimal and Bits', () => {
    expect(Buffer.from(placeholder).toString('base64')).toBe(bytesB64);
    expect(decode({ type: 'bytes' }, `"${bytesB64}"`)).toBe(UNCHANGED);
    expect(decode(decimal(2), `"${bytesB64}"`)).toBe(UNCHANGED);
    expect(decode(named('bytes', 'io.debezium.data.Bits', { length: '8' }), `"${bytesB64}"`)).toBe(UNCHANGED);
  });
  it('inside arrays: text, binary, integer (the bytes as numbers) and uuid arrays', () => {
    expect(decode({ type: 'array', items: { type: 'string' } }, `["${placeholder}"]`)).toBe(UNCHANGED);
    expect(decode({ type: 'array', items: { type: 'bytes' } }, `["${bytesB64}"]`)).toBe(UNCHANGED);
    const codes = JSON.stringify([...Buffer.from(placeholder)]);
    expect(decode({ type: 'array', items: { type: 'int32' } }, codes)).toBe(UNCHANGED);
    expect(decode({ type: 'array', items: { type: 'int64' } }, codes)).toBe(UNCHANGED);
    const uuid = UnavailableValue.of().uuid;
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(decode({ type: 'array', items: named('string', 'io.debezium.data.Uuid') }, `["${uuid}"]`)).toBe(UNCHANGED);
    // A real array that merely contains other values is not the placeholder.
    expect(decode({ type: 'array', items: { type: 'int32' } }, '[95,95]')).toBe('{95,95}');
  });
  it('as an hstore map', () => {
    const map = { type: 'map', keys: { type: 'string' }, values: { type: 'string' } };
    expect(decode(map, `{"${placeholder}":"${placeholder}"}`)).toBe(UNCHANGED);
  });
  it('under a custom placeholder, including hex: bytes', () => {
    const custom: ValueSettings = { binaryHandlingMode: 'bytes', unavailable: UnavailableValue.of('hex:deadbeef') };
    expect(decode({ type: 'bytes' }, '"3q2+7w=="', custom)).toBe(UNCHANGED);
    expect(decode({ type: 'string' }, `"${placeholder}"`, custom)).toBe(placeholder);
  });
});
