import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { CdcError } from '../../errors.js';
import { logicalTypeOf, mapColumnType } from '../../schema/type-map.js';
import { formatLogicalType } from '../../schema/logical-type.js';
import { parseConnectSchema } from './connect-schema.js';
import { connectLogicalType, connectPostgresType, connectTypes } from './connect-types.js';
import { parseJson } from './json.js';

const schema = (json: object) => parseConnectSchema(parseJson(JSON.stringify(json)), ['schema']);

/** PostgreSQL types in the file that come from extensions, so the PostgreSQL type map does not list them. */
const EXTENSION_TYPES = new Set(['ltree', 'geometry', 'geography']);

describe('type-maps/debezium-connect.yaml', () => {
  it('spells every PostgreSQL type as format_type() prints it', () => {
    const { physical, logical } = connectTypes();
    const types = [...Object.values(physical), ...[...logical.values()].flatMap((e) => [e.to.replace(/\{[a-z]+\}/g, '5'), e.otherwise ?? e.to])];
    for (const type of types) {
      if (EXTENSION_TYPES.has(type)) continue;
      const mapped = mapColumnType('postgresql', type, { table: 'debezium-connect.yaml', column: type });
      expect(mapped, type).toMatchObject({ type, known: true });
    }
  });

  it('gives the Debezium types the logical types a lake sink needs', () => {
    const logical = (json: object) => {
      const s = schema(json);
      const entry = connectLogicalType(s);
      const pgType = entry ? connectPostgresType(entry, s, ['schema']) : connectTypes().physical[s.type as 'int64'];
      return formatLogicalType(logicalTypeOf(pgType));
    };
    expect(logical({ type: 'int64' })).toBe('int64');
    expect(logical({ type: 'int8' })).toBe('int16');
    expect(logical({ type: 'double' })).toBe('float64');
    expect(logical({ type: 'bytes' })).toBe('bytes');
    expect(logical({ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2', 'connect.decimal.precision': '10' } })).toBe('decimal(10,2)');
    expect(logical({ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } })).toBe('decimal');
    expect(logical({ type: 'struct', name: 'io.debezium.data.VariableScaleDecimal', fields: [] })).toBe('decimal');
    expect(logical({ type: 'int32', name: 'io.debezium.time.Date' })).toBe('date');
    expect(logical({ type: 'int64', name: 'io.debezium.time.MicroTime' })).toBe('time');
    expect(logical({ type: 'int64', name: 'io.debezium.time.MicroTimestamp' })).toBe('timestamp');
    expect(logical({ type: 'string', name: 'io.debezium.time.ZonedTimestamp' })).toBe('timestamptz');
    expect(logical({ type: 'int64', name: 'io.debezium.time.MicroDuration' })).toBe('interval');
    expect(logical({ type: 'string', name: 'io.debezium.data.Uuid' })).toBe('uuid');
    expect(logical({ type: 'string', name: 'io.debezium.data.Json' })).toBe('json');
    expect(logical({ type: 'bytes', name: 'io.debezium.data.Bits', parameters: { length: '3' } })).toBe('text');
  });

  it('applies a name only on the physical types it lists', () => {
    expect(connectLogicalType(schema({ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '1' } }))?.reader).toBe('decimal');
    expect(connectLogicalType(schema({ type: 'int32', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '1' } }))).toBeUndefined();
    expect(connectLogicalType(schema({ type: 'string', name: 'com.example.Unknown' }))).toBeUndefined();
    expect(connectLogicalType(schema({ type: 'string' }))).toBeUndefined();
  });

  it('fills parameters within their range, otherwise falls back', () => {
    const bits = (length?: string) => {
      const s = schema({ type: 'bytes', name: 'io.debezium.data.Bits', ...(length === undefined ? {} : { parameters: { length } }) });
      return connectPostgresType(connectLogicalType(s)!, s, ['schema']);
    };
    expect(bits('1')).toBe('bit(1)');
    expect(bits('2147483646')).toBe('bit(2147483646)');
    expect(bits('2147483647')).toBe('bit varying');
    expect(bits('0')).toBe('bit varying');
    expect(bits()).toBe('bit varying');
    expect(() => bits('x')).toThrow(/schema\.parameters\.length: schema parameter length is "x", expected an integer/);
  });

  it('lists each logical name once', () => {
    const data = parse(readFileSync(new URL('../../../type-maps/debezium-connect.yaml', import.meta.url), 'utf8')) as { logical: { name: string }[] };
    expect(connectTypes().logical.size).toBe(data.logical.length);
  });
});

describe('data file validation', () => {
  afterEach(() => {
    vi.doUnmock('node:fs');
    vi.resetModules();
  });

  const physical = 'physical: { int8: smallint, int16: smallint, int32: integer, int64: bigint, float32: real, float64: double precision, boolean: boolean, string: text, bytes: bytea }\n';

  /** A fresh module that reads `yaml` as the data file. */
  async function withFile(yaml: string) {
    vi.resetModules();
    vi.doMock('node:fs', async (importOriginal) => {
      const fs = await importOriginal<typeof import('node:fs')>();
      const readFileSync = ((path: unknown, ...rest: unknown[]) =>
        String(path).endsWith('debezium-connect.yaml') ? yaml : (fs.readFileSync as (...a: unknown[]) => unknown)(path, ...rest)) as typeof fs.readFileSync;
      return { ...fs, readFileSync, default: { ...fs, readFileSync } };
    });
    return import('./connect-types.js');
  }

  it.each([
    [`${physical}logical:\n  - { name: a.B, reader: nope, to: text }\n`, /debezium-connect\.yaml:3: logical\[0\]\.reader: /],
    [`${physical}logical:\n  - { name: a.B, reader: string, to: text }\n  - { name: a.B, reader: string, to: text }\n`, /:4: logical\[1\]\.name: a\.B is listed twice/],
    [`${physical}logical:\n  - { name: a.B, reader: bits, to: "bit({n})" }\n`, /:3: logical\[0\]\.to: n is not one of params \[\]/],
    [`${physical}logical:\n  - { name: a.B, reader: bits, params: { n: length }, to: "bit({n})" }\n`, /:3: logical\[0\]: an entry with params needs `otherwise`/],
    [`${physical}logical:\n  - { name: a.B, reader: bits, params: { n: length }, to: "bit({n})", range: { n: [1, m] }, otherwise: bit varying }\n`, /logical\[0\]\.range\.n: m is not one of params \[n\]/],
    ['physical: { int8: smallint }\nlogical: []\n', /debezium-connect\.yaml:1: physical\.int16: /],
  ])('rejects a malformed file with file:line (%#)', async (yaml, message) => {
    const { connectTypes: load } = await withFile(yaml);
    let error: unknown;
    try {
      load();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as CdcError).code).toBe('TYPE_MAP_INVALID');
    expect((error as CdcError).message).toMatch(message);
  });
});
