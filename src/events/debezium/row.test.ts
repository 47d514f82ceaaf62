import { describe, expect, it } from 'vitest';
import { parseConnectSchema } from './connect-schema.js';
import { InvalidField } from './errors.js';
import { parseJson } from './json.js';
import { columnValueWithSchema } from './logical-types.js';
import { resolveOptions } from './options.js';
import { columnsFromSchema, decodeRowWithSchema, type RowReading } from './row.js';

/** What reading gave: the value, or the error with its path. */
function outcome(read: () => unknown): unknown {
  try {
    return read();
  } catch (error) {
    if (error instanceof InvalidField) return `error at ${error.path.join('.')}: ${error.reason}`;
    throw error;
  }
}

const PLACEHOLDER = '__debezium_unavailable_value';
const TYPES = ['int8', 'int16', 'int32', 'int64', 'string', 'boolean', 'float', 'double', 'bytes'];
const VALUES = [
  '0', '-0', '7', '-99', '99', '127', '128', '-128', '-129', '9999', '32767', '32768', '-32769', '999999999', '2147483647', '2147483648',
  '-2147483649', '999999999999999999', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '1.5', '1e2', '-1.0E-3',
  '"x"', '""', '"a\\u0000b"', `"${PLACEHOLDER}"`, '"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="', '"5f5f646562657a69756d5f756e617661696c61626c655f76616c7565"',
  '"NaN"', '"Infinity"', 'true', 'false', '[1]', '{"a":1}',
];

describe('rows read with their schema', () => {
  it('give every value exactly what reading that value alone under its field schema gives', () => {
    for (const mode of ['bytes', 'base64', 'hex'] as const) {
      const settings = resolveOptions({ binaryHandlingMode: mode }).settings;
      for (const type of TYPES) {
        const fieldJson = { type, optional: true, field: 'v' };
        const schema = parseConnectSchema(parseJson(JSON.stringify({ type: 'struct', fields: [fieldJson] })), ['schema']);
        const field = parseConnectSchema(parseJson(JSON.stringify(fieldJson)), ['schema']);
        const reading: RowReading = { types: undefined, settings };
        for (const text of VALUES) {
          const value = parseJson(text);
          const alone = outcome(() => columnValueWithSchema(value, field, ['payload', 'after', 'v'], settings));
          const inRow = outcome(() => decodeRowWithSchema(parseJson(`{"v":${text}}`), schema, ['payload', 'after'], reading));
          const got = typeof inRow === 'string' ? inRow : (inRow as Record<string, unknown>).v;
          expect(got, `${type} ${text} (${mode})`).toEqual(alone);
        }
      }
    }
  });

  it('refuse a missing or an undeclared member, naming it', () => {
    const schema = parseConnectSchema(parseJson('{"type":"struct","fields":[{"type":"int32","field":"a"},{"type":"string","optional":true,"field":"b"}]}'), ['s']);
    const reading: RowReading = { types: undefined, settings: resolveOptions().settings };
    expect(outcome(() => decodeRowWithSchema(parseJson('{"a":1}'), schema, ['after'], reading))).toBe('error at after.b: missing: the schema declares this field but the row does not have it');
    expect(outcome(() => decodeRowWithSchema(parseJson('{"a":1,"b":null,"c":2}'), schema, ['after'], reading))).toBe('error at after.c: not declared in the schema');
    // A field left out by the column filter may be absent, and is still declared.
    const filtered: RowReading = { ...reading, isColumn: (name) => name !== 'b' };
    expect(outcome(() => decodeRowWithSchema(parseJson('{"a":1}'), schema, ['after'], filtered))).toEqual({ a: '1' });
    expect(outcome(() => decodeRowWithSchema(parseJson('{"a":1,"b":"x"}'), schema, ['after'], filtered))).toEqual({ a: '1' });
    expect(outcome(() => decodeRowWithSchema(parseJson('{"a":1,"z":"x"}'), schema, ['after'], filtered))).toBe('error at after.z: not declared in the schema');
  });

  it('share one frozen column list per schema, types and filter', () => {
    const schema = parseConnectSchema(parseJson('{"type":"struct","fields":[{"type":"int32","field":"a"},{"type":"string","optional":true,"field":"b"}]}'), ['s']);
    const settings = resolveOptions().settings;
    const plain = columnsFromSchema(schema, ['schema'], { types: undefined, settings });
    expect(columnsFromSchema(schema, ['schema'], { types: undefined, settings })).toBe(plain);
    expect(Object.isFrozen(plain) && plain.every((c) => Object.isFrozen(c))).toBe(true);
    expect(plain).toEqual([
      { name: 'a', type: 'integer', nullable: false },
      { name: 'b', type: 'text', nullable: true },
    ]);
    const types = new Map([['b', 'character varying(20)']]);
    const typed = columnsFromSchema(schema, ['schema'], { types, settings });
    expect(typed).not.toBe(plain);
    expect(typed.map((c) => c.type)).toEqual(['integer', 'character varying(20)']);
    expect(columnsFromSchema(schema, ['schema'], { types, settings })).toBe(typed);
  });
});
