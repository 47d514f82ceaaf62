/**
 * The typed-value decoder against a real PostgreSQL: a "type zoo" with a table per column type
 * (every type of type-maps/postgresql-postgresql.yaml whose logical type is not text, plus some
 * that fall back to text), edge values in each, read back as PostgreSQL prints them (the type's
 * output function, which is what pgoutput sends), decoded, and compared with what PostgreSQL
 * computes itself from the stored value without printing it: days by date subtraction,
 * microseconds by interval arithmetic and extract(), scale() and the unscaled digits of numerics,
 * float8send() bits, encode(bytea, 'hex'), uuid_send(), extract() of interval fields, and for
 * arrays array_dims() and every element through unnest(). Under several TimeZone, DateStyle and
 * IntervalStyle settings; the styles the decoder does not read must fail loudly.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatLogicalType, parseLogicalType, type LogicalType } from '../../schema/logical-type.js';
import { logicalTypeOf, normalizeSourceType } from '../../schema/type-map.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../../testing/throwaway-cluster.js';
import { decodeTextValue, ValueTextError, type ArrayValue, type ScalarValue } from './typed-value.js';

/** One column type of the zoo and the values stored in it (as input literals). */
interface Specimen {
  /** The column type as written in CREATE TABLE, spelled by a key of the PostgreSQL type map. */
  readonly type: string;
  /** The logical type expected for the type as format_type() prints it. */
  readonly logical: string;
  readonly values: readonly string[];
  /** SQL turning the column `v` into what the oracle reads, when it cannot read `v` itself. */
  readonly as?: string;
}

const BIG_NUMERIC = `${'9'.repeat(900)}.${'0123456789'.repeat(30)}`;
const RANDOM_BYTES = `\\x${Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) % 256)).toString('hex')}`;

const ZOO: readonly Specimen[] = [
  { type: 'smallint', logical: 'int16', values: ['-32768', '32767', '0'] },
  { type: 'integer', logical: 'int32', values: ['-2147483648', '2147483647', '42'] },
  { type: 'bigint', logical: 'int64', values: ['-9223372036854775808', '9223372036854775807', '-1'] },
  { type: 'smallserial', logical: 'int16', values: ['7'] },
  { type: 'serial', logical: 'int32', values: ['2147483647'] },
  { type: 'bigserial', logical: 'int64', values: ['9007199254740993'] },
  { type: 'numeric(10,2)', logical: 'decimal(10,2)', values: ['12345678.9', '-0.01', '0', 'NaN'] },
  { type: 'numeric(5,-2)', logical: 'decimal(5,-2)', values: ['12345', '-99949'] },
  { type: 'numeric', logical: 'decimal', values: ['NaN', 'Infinity', '-Infinity', BIG_NUMERIC, `-${BIG_NUMERIC}`, '0.000000000000000000001', '-123.4500', '0', '1e20'] },
  { type: 'real', logical: 'float32', values: ['0.1', '3.4028235e+38', '1e-45', '-0', 'NaN', 'Infinity', '-Infinity', '16777217'] },
  { type: 'double precision', logical: 'float64', values: ['0.1', '1.7976931348623157e+308', '5e-324', '-0', 'NaN', 'Infinity', '-Infinity', '3.141592653589793'] },
  { type: 'float(10)', logical: 'float32', values: ['1.1'] },
  { type: 'float(40)', logical: 'float64', values: ['1.1'] },
  { type: 'boolean', logical: 'bool', values: ['true', 'false'] },
  { type: 'text', logical: 'text', values: ['', 'plain', 'Grüße, 世界 🎉', 'quote " backslash \\ tab\tnewline\n', 'NULL'] },
  { type: 'character varying(20)', logical: 'text', values: ['', 'a, b', ' padded '] },
  { type: 'character(5)', logical: 'text', values: ['ab', '', 'äöü'] },
  { type: 'bpchar', logical: 'text', values: ['x  '] },
  { type: 'name', logical: 'text', values: ['pg_class'] },
  { type: '"char"', logical: 'text', values: ['z'] },
  { type: 'bytea', logical: 'bytes', values: ['\\x', '\\x00ff10', 'hello', RANDOM_BYTES] },
  { type: 'date', logical: 'date', values: ['1970-01-01', '2000-02-29', '1582-10-10', '0001-01-01 BC', '0005-02-29 BC', '4714-11-24 BC', '5874897-12-31', 'infinity', '-infinity'] },
  { type: 'time without time zone', logical: 'time', values: ['00:00:00', '23:59:59.999999', '24:00:00', '12:34:56.789'] },
  { type: 'time(3) without time zone', logical: 'time', values: ['12:34:56.7891'] },
  {
    type: 'timestamp without time zone',
    logical: 'timestamp',
    values: ['1970-01-01 00:00', '1969-12-31 23:59:59.999999', '2020-02-29 10:00:00.5', '0044-03-15 12:00 BC', '4714-11-24 00:00:00 BC', '294276-12-31 23:59:59.999999', 'infinity', '-infinity'],
  },
  { type: 'timestamp(0) without time zone', logical: 'timestamp', values: ['2020-01-01 10:00:00.6'] },
  {
    type: 'timestamp with time zone',
    logical: 'timestamptz',
    values: ['2020-01-01 10:00:00.5+00', '2024-06-01 12:00:00+02', '1900-01-01 00:00:00+00', '1883-11-18 12:00:00-05', '0044-03-15 12:00+00 BC', '1969-12-31 23:59:59.999999+00', 'infinity', '-infinity'],
  },
  { type: 'timestamp(3) with time zone', logical: 'timestamptz', values: ['2020-06-01 12:00:00.1234+05:30'] },
  {
    type: 'interval',
    logical: 'interval',
    values: [
      '1 year 2 mons -3 days 04:05:06.5',
      '-1 year -2 mons +3 days -04:05:06',
      '0',
      '-0.000001 seconds',
      '100 hours',
      '1 mon -1 day',
      '-1 day +1 hour',
      '178956970 years 7 mons 2147483647 days 2562047788:00:54.775807',
      '-178956970 years -8 mons -2147483647 days -2562047788:00:54.775807',
    ],
  },
  { type: 'interval(2)', logical: 'interval', values: ['1.234 seconds'] },
  { type: 'interval year', logical: 'interval', values: ['3 years 5 months'] },
  { type: 'interval month', logical: 'interval', values: ['14 months'] },
  { type: 'interval day', logical: 'interval', values: ['3 days 4 hours'] },
  { type: 'interval hour', logical: 'interval', values: ['-26 hours'] },
  { type: 'interval minute', logical: 'interval', values: ['90 minutes 30 seconds'] },
  { type: 'interval second(3)', logical: 'interval', values: ['61.2345 seconds'] },
  { type: 'interval year to month', logical: 'interval', values: ['-1 year 3 months'] },
  { type: 'interval day to hour', logical: 'interval', values: ['1 day 5 hours 6 minutes'] },
  { type: 'interval day to minute', logical: 'interval', values: ['1 day 00:05:59'] },
  { type: 'interval day to second(2)', logical: 'interval', values: ['1 day 02:03:04.567'] },
  { type: 'interval hour to minute', logical: 'interval', values: ['-02:30:45'] },
  { type: 'interval hour to second', logical: 'interval', values: ['02:30:45.5'] },
  { type: 'interval minute to second', logical: 'interval', values: ['150:30'] },
  { type: 'uuid', logical: 'uuid', values: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', '00000000-0000-0000-0000-000000000000'] },
  { type: 'json', logical: 'json', values: ['{"a": [1, 2.50, "x"],  "b": null}', '"Grüße"', '[]', '12345678901234567890'] },
  { type: 'jsonb', logical: 'json', values: ['{"b": null, "a": [1, 2.50, "x"]}', '"\\u00e9🎉"', '{}'] },
  { type: 'oid', logical: 'int64', values: ['0', '4294967295'] },
  // xid and cid have no cast to a number; the oracle reads their text as numeric.
  { type: 'xid', logical: 'int64', values: ['4294967295', '3'], as: 'v::text::numeric' },
  { type: 'cid', logical: 'int64', values: ['7'], as: 'v::text::numeric' },
  { type: 'xid8', logical: 'decimal(20,0)', values: ['18446744073709551615', '0'], as: 'v::text::numeric' },
  // Arrays: one and more dimensions, lower bounds, NULL elements, quoting.
  { type: 'integer[]', logical: 'array<int32>', values: ['{}', '{1,2,NULL}', '{{1,2,3},{4,5,6}}', '[0:2]={7,8,9}', '{{{1},{2}},{{3},{4}}}'] },
  { type: 'bigint[]', logical: 'array<int64>', values: ['{{9223372036854775807},{-9223372036854775808}}'] },
  {
    type: 'text[]',
    logical: 'array<text>',
    values: ['{"a b","c\\"d","e\\\\f",NULL,"NULL","","x,y","{}","Grüße 🎉"," lead",trail}', '{{"a,1","b}2"},{NULL,"\\""}}', '{}'],
  },
  { type: 'character varying(10)[]', logical: 'array<text>', values: ['{"x y",z}'] },
  { type: 'numeric(5,2)[]', logical: 'array<decimal(5,2)>', values: ['{1.5,NaN,NULL,-999.99}'] },
  { type: 'numeric[]', logical: 'array<decimal>', values: ['{1e-10,Infinity,-Infinity}'] },
  { type: 'double precision[]', logical: 'array<float64>', values: ['{NaN,Infinity,-0,0.1}'] },
  { type: 'boolean[]', logical: 'array<bool>', values: ['{t,f,NULL}'] },
  { type: 'bytea[]', logical: 'array<bytes>', values: ['{"\\\\x00ff","\\\\x",NULL}'] },
  { type: 'date[]', logical: 'array<date>', values: ['{"0001-01-01 BC",infinity,2020-02-29}'] },
  { type: 'timestamp with time zone[]', logical: 'array<timestamptz>', values: ['{"2020-01-01 10:00:00.5+00","0044-03-15 12:00+00 BC",-infinity}'] },
  { type: 'interval[]', logical: 'array<interval>', values: ['{"1 year -2 days","-00:00:01.5"}'] },
  { type: 'uuid[]', logical: 'array<uuid>', values: ['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'] },
  { type: 'jsonb[]', logical: 'array<json>', values: ['{"{\\"a\\": 1}","[1, 2]"}'] },
  // Types without a faithful logical type: their PostgreSQL text, as printed.
  { type: 'money', logical: 'text', values: ['1234.56'] },
  { type: 'inet', logical: 'text', values: ['192.168.0.1/24'] },
  { type: 'bit(5)', logical: 'text', values: ['10110'] },
  { type: 'tsvector', logical: 'text', values: ['a fat cat'] },
  { type: 'point', logical: 'text', values: ['(1.5,-2)'] },
  { type: 'int4range', logical: 'text', values: ['[1,10)'] },
  { type: 'xml', logical: 'text', values: ['<a>x</a>'] },
  { type: 'time with time zone', logical: 'text', values: ['12:00:00+05:30'] },
  { type: 'box[]', logical: 'text', values: ['{(1,1),(0,0);(3,3),(2,2)}'] },
];

/** How PostgreSQL computes a value's typed form itself, and how a decoded value is put in that form. */
interface Oracle {
  /** SQL over the value `e` (never NULL here), returning text. */
  sql(e: string): string;
  /** The decoded value in the same text form. */
  js(value: ScalarValue): string;
}

const float8Hex = (value: number) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return Buffer.from(view.buffer).toString('hex');
};

/** Microseconds from 1970 of a timestamp or timestamptz `e`, by interval arithmetic from 2000 (so no overflow at the end of the range). */
const timestampMicrosSql = (e: string, zoned: boolean) => {
  const d = `(${e} - '2000-01-01 00:00:00${zoned ? '+00' : ''}'::${zoned ? 'timestamptz' : 'timestamp'})`;
  return `case when ${e} = 'infinity' then 'infinity' when ${e} = '-infinity' then '-infinity' else trunc(extract(day from ${d}) * 86400000000 + extract(hour from ${d}) * 3600000000 + extract(minute from ${d}) * 60000000 + extract(microseconds from ${d}) + 946684800000000)::text end`;
};

const ORACLES: Readonly<Record<Exclude<LogicalType['kind'], 'array'>, Oracle>> = {
  int16: { sql: (e) => `to_json(${e})::text`, js: String },
  int32: { sql: (e) => `to_json(${e})::text`, js: String },
  int64: { sql: (e) => `trim(both '"' from to_json(${e})::text)`, js: String },
  decimal: {
    sql: (e) =>
      `case when ${e} = 'NaN' then 'NaN' when ${e} = 'Infinity' then 'Infinity' when ${e} = '-Infinity' then '-Infinity' else scale(${e}) || ':' || trunc(${e} * power(10::numeric, scale(${e})))::text end`,
    js: (v) => (typeof v === 'string' ? v : `${(v as { scale: number }).scale}:${(v as { unscaled: bigint }).unscaled}`),
  },
  float32: { sql: (e) => `encode(float8send(${e}::float8), 'hex')`, js: (v) => float8Hex(v as number) },
  float64: { sql: (e) => `encode(float8send(${e}), 'hex')`, js: (v) => float8Hex(v as number) },
  bool: { sql: (e) => `${e}::int::text`, js: (v) => (v ? '1' : '0') },
  // concat() prints with the output function (character(n) keeps its padding).
  text: { sql: (e) => `encode(convert_to(concat(${e}), 'UTF8'), 'hex')`, js: (v) => Buffer.from(v as string, 'utf8').toString('hex') },
  bytes: { sql: (e) => `encode(${e}, 'hex')`, js: (v) => Buffer.from(v as Uint8Array).toString('hex') },
  date: { sql: (e) => `case when ${e} = 'infinity' then 'infinity' when ${e} = '-infinity' then '-infinity' else (${e} - date '1970-01-01')::text end`, js: String },
  time: { sql: (e) => `trunc(extract(epoch from ${e}) * 1000000)::text`, js: String },
  timestamp: { sql: (e) => timestampMicrosSql(e, false), js: String },
  timestamptz: { sql: (e) => timestampMicrosSql(e, true), js: String },
  uuid: { sql: (e) => `encode(uuid_send(${e}), 'hex')`, js: (v) => (/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(v as string) ? (v as string).replaceAll('-', '') : `not canonical: ${v as string}`) },
  // PostgreSQL's own reading of the document, compared after JSON.parse on both sides.
  json: { sql: (e) => `(${e}::text::jsonb)::text`, js: (v) => JSON.stringify(JSON.parse(v as string)) },
  interval: {
    sql: (e) =>
      `(extract(year from ${e}) * 12 + extract(month from ${e}))::text || ' ' || extract(day from ${e})::text || ' ' || trunc(extract(hour from ${e}) * 3600000000 + extract(minute from ${e}) * 60000000 + extract(microseconds from ${e}))::text`,
    js: (v) => {
      const i = v as { months: number; days: number; microseconds: bigint };
      return `${i.months} ${i.days} ${i.microseconds}`;
    },
  },
};

/** The oracle's text on the PostgreSQL side, normalized like the JavaScript side (json is re-serialized). */
function normalizeExpected(kind: string, text: string): string {
  return kind === 'json' ? JSON.stringify(JSON.parse(text)) : text;
}

/** Every scalar of a (nested) array value, in row-major order, as unnest() returns them. */
function flatten(value: ArrayValue<ScalarValue>): (ScalarValue | null)[] {
  return value.flatMap((e) => (Array.isArray(e) ? flatten(e) : [e]));
}

/** The lengths of each dimension of a rectangular nested array: `[[1,2,3],[4,5,6]]` → `[2, 3]`. */
function lengths(value: ArrayValue<ScalarValue>): number[] {
  const out: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    out.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return out;
}

/** `[0:2][1:3]` → `[3, 3]`; null (an empty array) → `[0]`. */
function dimsLengths(dims: string | null): number[] {
  if (dims === null) return [0];
  return [...dims.matchAll(/\[(-?\d+):(-?\d+)\]/g)].map((m) => Number(m[2]) - Number(m[1]) + 1);
}

/** Session settings the decoder reads. */
const SESSIONS = [
  { TimeZone: 'UTC', DateStyle: 'ISO, MDY', IntervalStyle: 'postgres' },
  { TimeZone: 'Asia/Kolkata', DateStyle: 'ISO, DMY', IntervalStyle: 'iso_8601' },
  { TimeZone: 'America/St_Johns', DateStyle: 'ISO, YMD', IntervalStyle: 'postgres' },
  { TimeZone: 'Europe/Amsterdam', DateStyle: 'ISO', IntervalStyle: 'iso_8601' },
] as const;

let cluster: ThrowawayCluster;
let client: pg.Client;
/** Table name of each specimen, by its index in ZOO. */
const tables: string[] = [];

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'typed-values' });
  const url = await cluster.createDatabase('zoo');
  // No type parsers: every value comes back as PostgreSQL printed it (as pgoutput sends it).
  client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (text: string) => text } });
  await client.connect();
  for (const [i, specimen] of ZOO.entries()) {
    const table = `zoo_${i}`;
    tables.push(table);
    await client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, v ${specimen.type})`);
    for (const [row, value] of specimen.values.entries()) {
      await client.query(`INSERT INTO ${table} VALUES ($1, $2)`, [row, value]);
    }
  }
});

afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

/** The column type of a specimen as format_type() prints it. */
async function formatType(table: string): Promise<string> {
  const { rows } = await client.query<{ type: string }>(`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'v'`, [table]);
  return rows[0]!.type;
}

/** Reads every row of a specimen's table: the printed value, and PostgreSQL's own typed form of it. */
async function readSpecimen(index: number, logical: LogicalType) {
  const specimen = ZOO[index]!;
  const v = specimen.as ?? 'v';
  const table = tables[index]!;
  if (logical.kind === 'array') {
    const element = ORACLES[logical.element.kind as keyof typeof ORACLES];
    const { rows } = await client.query<{ v: string; dims: string | null; elements: string | null }>(
      `SELECT v, array_dims(v) AS dims, (SELECT json_agg(CASE WHEN e IS NULL THEN NULL ELSE ${element.sql('e')} END) FROM unnest(v) AS u(e))::text AS elements FROM ${table} ORDER BY id`,
    );
    return rows.map((r) => ({ text: r.v, dims: r.dims, elements: r.elements === null ? [] : (JSON.parse(r.elements) as (string | null)[]) }));
  }
  const oracle = ORACLES[logical.kind];
  const { rows } = await client.query<{ v: string; expected: string }>(`SELECT v, ${oracle.sql(v)} AS expected FROM ${table} ORDER BY id`);
  return rows.map((r) => ({ text: r.v, expected: r.expected }));
}

describe('the type zoo', () => {
  it('holds every type of the PostgreSQL type map with a logical type other than text', () => {
    const file = parse(readFileSync(new URL('../../../type-maps/postgresql-postgresql.yaml', import.meta.url), 'utf8')) as { types: Record<string, { alias?: string; logical?: string }> };
    const wanted = Object.entries(file.types)
      .filter(([, rule]) => rule.alias === undefined && rule.logical !== 'text')
      .map(([key]) => key);
    const present = new Set(ZOO.map((s) => normalizeSourceType('postgresql', s.type).replace(/\[\]$/, '').replace(/\(.*?\)/g, '')));
    expect(wanted.filter((key) => !present.has(key))).toEqual([]);
  });

  it.each(ZOO.map((s, i) => [s.type, i] as const))('%s: format_type() gives the expected logical type', async (_type, index) => {
    expect(formatLogicalType(logicalTypeOf(await formatType(tables[index]!)))).toBe(ZOO[index]!.logical);
  });

  describe.each(SESSIONS)('TimeZone $TimeZone, DateStyle $DateStyle, IntervalStyle $IntervalStyle', (session) => {
    beforeAll(async () => {
      for (const [name, value] of Object.entries(session)) await client.query(`SELECT set_config($1, $2, false)`, [name, value]);
    });

    it.each(ZOO.map((s, i) => [s.type, i] as const))('%s: decoded values equal what PostgreSQL computes', async (_type, index) => {
      const logical = parseLogicalType(ZOO[index]!.logical);
      const rows = await readSpecimen(index, logical);
      expect(rows).toHaveLength(ZOO[index]!.values.length);
      for (const row of rows) {
        if (logical.kind === 'array') {
          const { dims, elements } = row as { dims: string | null; elements: (string | null)[] };
          const decoded = decodeTextValue(logical, row.text);
          const element = ORACLES[logical.element.kind as keyof typeof ORACLES];
          expect(lengths(decoded), row.text).toEqual(dimsLengths(dims));
          expect(
            flatten(decoded).map((e) => (e === null ? null : element.js(e))),
            row.text,
          ).toEqual(elements.map((e) => (e === null ? null : normalizeExpected(logical.element.kind, e))));
        } else {
          const decoded = decodeTextValue(logical, row.text);
          const oracle = ORACLES[logical.kind];
          expect(oracle.js(decoded), `${ZOO[index]!.type} ${JSON.stringify(row.text)}`).toBe(normalizeExpected(logical.kind, (row as { expected: string }).expected));
        }
      }
    });
  });
});

describe('output styles the decoder does not read fail loudly', () => {
  /** Reads one value printed under `settings` and decodes it as `logical`. */
  async function decodeUnder(settings: Record<string, string>, sql: string, logical: string): Promise<unknown> {
    await client.query('BEGIN');
    try {
      for (const [name, value] of Object.entries(settings)) await client.query(`SELECT set_config($1, $2, true)`, [name, value]);
      const { rows } = await client.query<{ v: string }>(`SELECT ${sql} AS v`);
      return decodeTextValue(parseLogicalType(logical), rows[0]!.v);
    } finally {
      await client.query('ROLLBACK');
    }
  }

  it.each([
    [{ DateStyle: 'SQL, DMY' }, `date '2020-01-31'`, 'date', '31/01/2020'],
    [{ DateStyle: 'German' }, `date '2020-01-31'`, 'date', '31.01.2020'],
    [{ DateStyle: 'Postgres, MDY' }, `date '2020-01-31'`, 'date', '01-31-2020'],
    [{ DateStyle: 'SQL, MDY' }, `timestamp '2020-01-31 10:00'`, 'timestamp', '01/31/2020 10:00:00'],
    [{ DateStyle: 'Postgres', TimeZone: 'UTC' }, `timestamptz '2020-01-31 10:00+00'`, 'timestamptz', 'Fri Jan 31 10:00:00 2020 UTC'],
    [{ IntervalStyle: 'sql_standard' }, `interval '1 year 2 mons 3 days 04:05:06'`, 'interval', '+1-2 +3 +4:05:06'],
    [{ IntervalStyle: 'postgres_verbose' }, `interval '1 year 2 mons'`, 'interval', '@ 1 year 2 mons'],
    [{ bytea_output: 'escape' }, `'ab'::bytea`, 'bytes', 'ab'],
  ])('%j: %s as %s', async (settings, sql, logical, printed) => {
    let error: unknown;
    try {
      await decodeUnder(settings, sql, logical);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValueTextError);
    expect((error as ValueTextError).message).toMatch(new RegExp(`^cannot read ${JSON.stringify(printed).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} as ${logical}: `));
  });
});
