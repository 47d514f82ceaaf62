import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../change.js';
import { arrayElementType, columnValueByType, type ColumnTypeSettings } from './column-types.js';
import { InvalidField } from './errors.js';
import { parseJson } from './json.js';
import { UnavailableValue } from './unavailable-value.js';

const base: ColumnTypeSettings = {
  binaryHandlingMode: 'bytes',
  timePrecisionMode: 'adaptive',
  decimalHandlingMode: 'precise',
  unavailable: UnavailableValue.of(),
};

function read(value: string, type: string | undefined, settings: Partial<ColumnTypeSettings> = {}) {
  return columnValueByType(parseJson(value), type, ['after', 'c'], { ...base, ...settings });
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

describe('schemaless values without a column type: as they come', () => {
  it('keeps strings, numbers as written, booleans, and arrays as literals', () => {
    expect(read('"Anne"', undefined)).toBe('Anne');
    expect(read('9223372036854775807', undefined)).toBe('9223372036854775807');
    expect(read('3.140000104904175', undefined)).toBe('3.140000104904175');
    expect(read('1.0', undefined)).toBe('1.0');
    expect(read('true', undefined)).toBe('true');
    expect(read('null', undefined)).toBeNull();
    expect(read('[1,2,null]', undefined)).toBe('{1,2,NULL}');
    expect(read('[["a","b c"],["d","e"]]', undefined)).toBe('{{a,"b c"},{d,e}}');
  });

  it('refuses objects, whose meaning depends on the type', () => {
    expect(reason(() => read('{"x":1,"y":2}', undefined))).toMatch(/^after\.c: a JSON object needs a column type/);
  });

  it('still recognises the unavailable-value placeholder', () => {
    expect(read('"__debezium_unavailable_value"', undefined)).toBe(UNCHANGED);
    expect(read('["__debezium_unavailable_value"]', undefined)).toBe(UNCHANGED);
    expect(read('{"__debezium_unavailable_value":"__debezium_unavailable_value"}', undefined)).toBe(UNCHANGED);
  });
});

describe('schemaless values read by a supplied PostgreSQL type', () => {
  it('date: days since 1970 or an ISO date string', () => {
    expect(read('19439', 'date')).toBe('2023-03-23');
    expect(read('-1', 'date')).toBe('1969-12-31');
    expect(read('"1999-09-09"', 'date')).toBe('1999-09-09');
    expect(reason(() => read('"09/09/1999"', 'date'))).toBe('after.c: expected days since 1970-01-01 or a date (YYYY-MM-DD), found string "09/09/1999"');
    expect(read('"2020-01-01 10:00:00.5"', 'timestamp(1)')).toBe('2020-01-01 10:00:00.5');
    expect(reason(() => read('"noon"', 'time'))).toMatch(/expected a count since midnight or a time/);
  });

  it('time and timestamp: the unit follows time.precision.mode and the type precision', () => {
    expect(read('45296789', 'time(3) without time zone')).toBe('12:34:56.789');
    expect(read('45296789123', 'time without time zone')).toBe('12:34:56.789123');
    expect(read('40271000000', 'time(0) without time zone', { timePrecisionMode: 'adaptive_time_microseconds' })).toBe('11:11:11');
    expect(read('45296789', 'time(6)', { timePrecisionMode: 'connect' })).toBe('12:34:56.789');
    expect(read('1679581805123', 'timestamp(3) without time zone')).toBe('2023-03-23 14:30:05.123');
    expect(read('1679581805123456', 'timestamp without time zone')).toBe('2023-03-23 14:30:05.123456');
    expect(read('-1', 'timestamp(6)')).toBe('1969-12-31 23:59:59.999999');
    expect(read('1321009871000', 'timestamp(6)', { timePrecisionMode: 'connect' })).toBe('2011-11-11 11:11:11');
    expect(read('"2011-11-11T03:11:11.123456Z"', 'timestamp with time zone')).toBe('2011-11-11 03:11:11.123456+00');
    expect(read('"11:11:11Z"', 'timetz')).toBe('11:11:11+00');
    expect(reason(() => read('1', 'timestamptz'))).toMatch(/expected a string for timestamptz/);
  });

  it('numeric: numbers exactly; strings by decimal.handling.mode', () => {
    expect(read('123456.789', 'numeric')).toBe('123456.789');
    expect(read('1.5', 'numeric(10,3)')).toBe('1.500');
    expect(read('123.12', 'money')).toBe('123.12');
    expect(read('"AeJA"', 'numeric(10,2)')).toBe('1234.56');
    expect(read('"-12.50"', 'numeric', { decimalHandlingMode: 'string' })).toBe('-12.50');
    expect(read('{"scale":2,"value":"AeJA"}', 'numeric')).toBe('1234.56');
    expect(reason(() => read('"AeJA"', 'numeric'))).toMatch(/a base64 Decimal needs its scale/);
    expect(reason(() => read('"1.5"', 'numeric', { decimalHandlingMode: 'double' }))).toMatch(/decimal.handling.mode=double/);
  });

  it('bytea under each binary.handling.mode', () => {
    expect(read('"ASNFZ4mrze8="', 'bytea')).toBe('\\x0123456789abcdef');
    expect(read('"0123456789ABCDEF"', 'bytea', { binaryHandlingMode: 'hex' })).toBe('\\x0123456789abcdef');
    expect(read('"_-8"', 'bytea', { binaryHandlingMode: 'base64-url-safe' })).toBe('\\xffef');
    expect(reason(() => read('"01-3"', 'bytea', { binaryHandlingMode: 'base64' }))).toBe('after.c: expected base64 for bytea, found string "01-3"');
    expect(reason(() => read('"xyz"', 'bytea', { binaryHandlingMode: 'hex' }))).toBe('after.c: expected hex for bytea, found string "xyz"');
    const hexPlaceholder = Buffer.from('__debezium_unavailable_value').toString('hex');
    expect(read(`"${hexPlaceholder}"`, 'bytea', { binaryHandlingMode: 'hex' })).toBe(UNCHANGED);
  });

  it('integers, floats and booleans', () => {
    expect(read('32767', 'smallint')).toBe('32767');
    expect(read('"NaN"', 'double precision')).toBe('NaN');
    expect(read('1', 'boolean')).toBe('true');
    expect(read('0', 'bool')).toBe('false');
    expect(read('false', 'boolean')).toBe('false');
    expect(reason(() => read('2', 'boolean'))).toMatch(/expected true or false/);
    expect(reason(() => read('"1"', 'integer'))).toMatch(/expected an integer for integer/);
  });

  it('bit, point, geometry, hstore, json, interval', () => {
    expect(read('true', 'bit(1)')).toBe('1');
    expect(read('"AQAAAAAAAAA="', 'bit(64)')).toBe(`${'0'.repeat(63)}1`);
    expect(read('{"x":1.0,"y":2.0,"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAABA","srid":null}', 'point')).toBe('(1.0,2.0)');
    expect(read('{"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAPA/","srid":123}', 'geometry')).toBe('01010000207B000000000000000000F03F000000000000F03F');
    expect(read('{"k":"v"}', 'hstore')).toBe('"k"=>"v"');
    expect(read('{"k": [1, 2.50]}', 'jsonb')).toBe('{"k":[1,2.50]}');
    expect(read('"{\\"k\\": 1}"', 'json')).toBe('{"k": 1}');
    expect(read('"P1Y2M3DT4H5M6.78S"', 'interval')).toBe('P1Y2M3DT4H5M6.78S');
    expect(read('3600000000', 'interval')).toBe('01:00:00');
  });

  it('arrays by element type', () => {
    expect(arrayElementType('integer[]')).toBe('integer');
    expect(arrayElementType('_int4')).toBe('int4');
    expect(arrayElementType('text')).toBeUndefined();
    expect(read('[19439,null]', 'date[]')).toBe('{2023-03-23,NULL}');
    expect(read('["a b","c"]', 'text[]')).toBe('{"a b",c}');
    expect(read('"__debezium_unavailable_value"', 'text[]')).toBe(UNCHANGED);
    expect(reason(() => read('"x"', 'integer[]'))).toMatch(/expected an array for integer\[\]/);
  });

  it('text-like types take strings and scalars as written, never objects', () => {
    expect(read('"hahaha"', 'character varying(10)')).toBe('hahaha');
    expect(read('24', 'text')).toBe('24');
    expect(read('"60f14fe2-f857-404a-b586-3b5375b3259f"', 'uuid')).toBe('60f14fe2-f857-404a-b586-3b5375b3259f');
    expect(reason(() => read('{"a":1}', 'text'))).toMatch(/needs a column type/);
  });
});
