import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { CdcError } from '../errors.js';
import { parseLogicalType } from './logical-type.js';
import { isToastable, logicalTypeOf, mapColumnType, normalizeSourceType } from './type-map.js';

const where = { table: 'dbo.T', column: 'X' };
const mssql = (t: string) => mapColumnType('mssql', t, where);
const pg = (t: string) => mapColumnType('postgresql', t, where);

/** Keys of one data file's `types`, and which of them are aliases. */
function dataFile(name: string): { key: string; alias: boolean }[] {
  const data = parse(readFileSync(new URL(`../../type-maps/${name}`, import.meta.url), 'utf8')) as { types: Record<string, { alias?: string }> };
  return Object.entries(data.types).map(([key, rule]) => ({ key, alias: rule.alias !== undefined }));
}

describe('normalizeSourceType', () => {
  it.each([
    ['mssql', 'NVARCHAR(MAX)', 'nvarchar(max)'],
    ['mssql', 'NUMERIC(10, 2)', 'numeric(10,2)'],
    ['mssql', 'int', 'int'],
    ['mssql', '  [nvarchar] ( 160 ) ', 'nvarchar(160)'],
    ['mssql', '"DateTime2"(7)', 'datetime2(7)'],
    ['mssql', 'National  Character   Varying (20)', 'national character varying(20)'],
    ['mssql', '[dbo] . [Phone]', 'dbo.phone'],
    ['postgresql', 'TIMESTAMP (3) WITH TIME ZONE', 'timestamp(3) with time zone'],
    ['postgresql', 'INT4', 'int4'],
    ['postgresql', 'integer [ ]', 'integer[]'],
    ['postgresql', 'VARCHAR(10)[]', 'varchar(10)[]'],
    ['postgresql', 'integer ARRAY', 'integer array'],
    ['postgresql', '"char"', '"char"'],
    ['postgresql', '"MyType"', '"MyType"'],
  ] as const)('%s %j → %j', (dialect, input, expected) => {
    expect(normalizeSourceType(dialect, input)).toBe(expected);
  });
});

describe('mapColumnType, SQL Server', () => {
  // Every SQL Server type, with the rules from type-maps/mssql-postgresql.yaml.
  it.each([
    ['tinyint', 'smallint', 'int16'],
    ['smallint', 'smallint', 'int16'],
    ['int', 'integer', 'int32'],
    ['integer', 'integer', 'int32'],
    ['bigint', 'bigint', 'int64'],
    ['bit', 'boolean', 'bool'],
    ['decimal', 'numeric(18,0)', 'decimal(18,0)'],
    ['decimal(9)', 'numeric(9,0)', 'decimal(9,0)'],
    ['decimal(38,10)', 'numeric(38,10)', 'decimal(38,10)'],
    ['dec(5,2)', 'numeric(5,2)', 'decimal(5,2)'],
    ['numeric', 'numeric(18,0)', 'decimal(18,0)'],
    ['NUMERIC(10, 2)', 'numeric(10,2)', 'decimal(10,2)'],
    ['money', 'numeric(19,4)', 'decimal(19,4)'],
    ['smallmoney', 'numeric(10,4)', 'decimal(10,4)'],
    ['float', 'double precision', 'float64'],
    ['float(1)', 'real', 'float32'],
    ['float(24)', 'real', 'float32'],
    ['float(25)', 'double precision', 'float64'],
    ['float(53)', 'double precision', 'float64'],
    ['real', 'real', 'float32'],
    ['double precision', 'double precision', 'float64'],
    ['date', 'date', 'date'],
    ['time', 'time(6) without time zone', 'time'],
    ['time(0)', 'time(0) without time zone', 'time'],
    ['time(3)', 'time(3) without time zone', 'time'],
    ['time(7)', 'time(6) without time zone', 'time'],
    ['datetime', 'timestamp(3) without time zone', 'timestamp'],
    ['datetime2', 'timestamp(6) without time zone', 'timestamp'],
    ['datetime2(0)', 'timestamp(0) without time zone', 'timestamp'],
    ['datetime2(3)', 'timestamp(3) without time zone', 'timestamp'],
    ['datetime2(7)', 'timestamp(6) without time zone', 'timestamp'],
    ['smalldatetime', 'timestamp(0) without time zone', 'timestamp'],
    ['datetimeoffset', 'timestamp(6) with time zone', 'timestamptz'],
    ['datetimeoffset(2)', 'timestamp(2) with time zone', 'timestamptz'],
    ['datetimeoffset(7)', 'timestamp(6) with time zone', 'timestamptz'],
    ['char', 'character(1)', 'text'],
    ['char(10)', 'character(10)', 'text'],
    ['character(3)', 'character(3)', 'text'],
    ['nchar', 'character(1)', 'text'],
    ['nchar(4)', 'character(4)', 'text'],
    ['national character(2)', 'character(2)', 'text'],
    ['varchar', 'character varying(1)', 'text'],
    ['varchar(50)', 'character varying(50)', 'text'],
    ['varchar(max)', 'text', 'text'],
    ['char varying(8)', 'character varying(8)', 'text'],
    ['nvarchar(160)', 'character varying(160)', 'text'],
    ['NVARCHAR(MAX)', 'text', 'text'],
    ['national character varying(20)', 'character varying(20)', 'text'],
    ['text', 'text', 'text'],
    ['ntext', 'text', 'text'],
    ['binary', 'bytea', 'bytes'],
    ['binary(16)', 'bytea', 'bytes'],
    ['varbinary(100)', 'bytea', 'bytes'],
    ['varbinary(max)', 'bytea', 'bytes'],
    ['image', 'bytea', 'bytes'],
    ['uniqueidentifier', 'uuid', 'uuid'],
    ['xml', 'xml', 'text'],
    ['sql_variant', 'text', 'text'],
    ['hierarchyid', 'text', 'text'],
    ['geography', 'text', 'text'],
    ['geometry', 'text', 'text'],
    ['rowversion', 'bytea', 'bytes'],
    ['timestamp', 'bytea', 'bytes'],
    ['sysname', 'character varying(128)', 'text'],
    ['json', 'jsonb', 'json'],
    ['vector(1536)', 'text', 'text'],
    ['[nvarchar](10)', 'character varying(10)', 'text'],
  ])('%s → %s, %s', (source, expected, logical) => {
    expect(mssql(source)).toMatchObject({ type: expected, logical: parseLogicalType(logical), known: true });
  });

  it('returns a warning with the mappings that lose something', () => {
    expect(mssql('geography')).toEqual({
      type: 'text',
      logical: { kind: 'text' },
      known: true,
      warning:
        'SQL Server type "geography" for column "X" of table "dbo.T" → text: geography values are kept as Well-Known Text; change type-maps/mssql-postgresql.yaml to a PostGIS type if you need spatial queries',
    });
    expect(mssql('sql_variant').warning).toMatch(/base type of each value is lost/);
    expect(mssql('nvarchar(10)').warning).toBeUndefined();
  });

  it('maps an unknown type to text with a warning naming table, column and type', () => {
    expect(mapColumnType('mssql', 'FOO(3)', { table: 'dbo.T', column: 'X' })).toEqual({
      type: 'text',
      logical: { kind: 'text' },
      known: false,
      warning: 'unknown SQL Server type "foo(3)" for column "X" of table "dbo.T": mapped to text; add it to type-maps/mssql-postgresql.yaml',
    });
    expect(mssql('dbo.PhoneNumber')).toMatchObject({ type: 'text', known: false });
  });

  it.each([
    ['int(4)', 'int takes no arguments'],
    ['char(max)', 'char does not take max'],
    ['decimal(10,2,1)', 'decimal takes at most 2 argument(s)'],
    ['nvarchar(abc)', 'argument "abc" is not a whole number'],
  ])('maps %s to text: %s', (source, problem) => {
    const mapped = mssql(source);
    expect(mapped).toMatchObject({ type: 'text', known: false });
    expect(mapped.warning).toContain(`(${problem})`);
    expect(mapped.warning).toContain('for column "X" of table "dbo.T"');
  });

  it('produces only canonical PostgreSQL spellings (each output maps to itself)', () => {
    for (const { key } of dataFile('mssql-postgresql.yaml')) {
      for (const source of [key, `${key}(5)`, `${key}(10,2)`, `${key}(max)`]) {
        const mapped = mssql(source);
        if (mapped.known) expect(pg(mapped.type).type, `${source} → ${mapped.type}`).toBe(mapped.type);
      }
    }
  });
});

describe('mapColumnType, PostgreSQL', () => {
  // Left: a column type as written in CREATE TABLE; right: what format_type() printed for it
  // (PostgreSQL 15).
  it.each([
    ['char', 'character(1)', 'text'],
    ['char(10)', 'character(10)', 'text'],
    ['varchar', 'character varying', 'text'],
    ['varchar(10)', 'character varying(10)', 'text'],
    ['character varying(5)', 'character varying(5)', 'text'],
    ['bpchar', 'bpchar', 'text'],
    ['"char"', '"char"', 'text'],
    ['national character varying(4)', 'character varying(4)', 'text'],
    ['nchar(3)', 'character(3)', 'text'],
    ['numeric', 'numeric', 'decimal'],
    ['numeric(10)', 'numeric(10,0)', 'decimal(10,0)'],
    ['numeric(10,2)', 'numeric(10,2)', 'decimal(10,2)'],
    ['decimal', 'numeric', 'decimal'],
    ['decimal(5,1)', 'numeric(5,1)', 'decimal(5,1)'],
    ['dec(4)', 'numeric(4,0)', 'decimal(4,0)'],
    ['float', 'double precision', 'float64'],
    ['float(10)', 'real', 'float32'],
    ['float(24)', 'real', 'float32'],
    ['float(25)', 'double precision', 'float64'],
    ['float(53)', 'double precision', 'float64'],
    ['real', 'real', 'float32'],
    ['double precision', 'double precision', 'float64'],
    ['float4', 'real', 'float32'],
    ['float8', 'double precision', 'float64'],
    ['time', 'time without time zone', 'time'],
    ['time(3)', 'time(3) without time zone', 'time'],
    ['time(7)', 'time(6) without time zone', 'time'],
    ['timetz', 'time with time zone', 'text'],
    ['time(2) with time zone', 'time(2) with time zone', 'text'],
    ['timestamp', 'timestamp without time zone', 'timestamp'],
    ['timestamp(0)', 'timestamp(0) without time zone', 'timestamp'],
    ['timestamptz', 'timestamp with time zone', 'timestamptz'],
    ['timestamptz(3)', 'timestamp(3) with time zone', 'timestamptz'],
    ['timestamp(6) with time zone', 'timestamp(6) with time zone', 'timestamptz'],
    ['interval', 'interval', 'interval'],
    ['interval(3)', 'interval(3)', 'interval'],
    ['interval year', 'interval year', 'interval'],
    ['interval day to second(2)', 'interval day to second(2)', 'interval'],
    ['interval minute to second', 'interval minute to second', 'interval'],
    ['interval second(3)', 'interval second(3)', 'interval'],
    ['bit', 'bit(1)', 'text'],
    ['bit(5)', 'bit(5)', 'text'],
    ['varbit', 'bit varying', 'text'],
    ['varbit(7)', 'bit varying(7)', 'text'],
    ['bit varying(3)', 'bit varying(3)', 'text'],
    ['int[]', 'integer[]', 'array<int32>'],
    ['int4[][]', 'integer[]', 'array<int32>'],
    ['varchar(10)[]', 'character varying(10)[]', 'array<text>'],
    ['integer array', 'integer[]', 'array<int32>'],
    ['integer array[3]', 'integer[]', 'array<int32>'],
    ['timestamp(3)[]', 'timestamp(3) without time zone[]', 'array<timestamp>'],
    ['numeric(5,2)[]', 'numeric(5,2)[]', 'array<decimal(5,2)>'],
    ['"char"[]', '"char"[]', 'array<text>'],
    ['serial', 'integer', 'int32'],
    ['bigserial', 'bigint', 'int64'],
    ['smallserial', 'smallint', 'int16'],
    ['int', 'integer', 'int32'],
    ['int2', 'smallint', 'int16'],
    ['int8', 'bigint', 'int64'],
    ['bool', 'boolean', 'bool'],
    ['character(3)', 'character(3)', 'text'],
    ['uuid', 'uuid', 'uuid'],
    ['jsonb', 'jsonb', 'json'],
    ['json', 'json', 'json'],
    ['xml', 'xml', 'text'],
    ['bytea', 'bytea', 'bytes'],
    ['text', 'text', 'text'],
    ['inet', 'inet', 'text'],
    ['money', 'money', 'text'],
    ['tstzrange', 'tstzrange', 'text'],
    ['pg_lsn', 'pg_lsn', 'text'],
  ])('%s → %s, %s', (source, expected, logical) => {
    expect(pg(source)).toEqual({ type: expected, logical: parseLogicalType(logical), known: true });
  });

  it('maps every rule to a spelling that maps to itself', () => {
    for (const { key } of dataFile('postgresql-postgresql.yaml')) {
      for (const source of [key, `${key}[]`]) {
        const mapped = pg(source);
        expect(mapped.known, source).toBe(true);
        expect(pg(mapped.type), `${source} → ${mapped.type}`).toEqual(mapped);
      }
    }
  });

  it('maps an enum, a domain or an extension type to text with a warning', () => {
    expect(mapColumnType('postgresql', 'mood', { table: 'public.person', column: 'current_mood' })).toEqual({
      type: 'text',
      logical: { kind: 'text' },
      known: false,
      warning: 'unknown PostgreSQL type "mood" for column "current_mood" of table "public.person": mapped to text; add it to type-maps/postgresql-postgresql.yaml',
    });
    expect(pg('public.citext[]')).toMatchObject({ type: 'text', known: false });
  });
});

describe('logicalTypeOf', () => {
  // Left: a type as format_type() prints it (or another spelling); right: its logical type.
  it.each([
    ['smallint', 'int16'],
    ['integer', 'int32'],
    ['int4', 'int32'],
    ['bigint', 'int64'],
    ['numeric(10,2)', 'decimal(10,2)'],
    ['numeric(5,-2)', 'decimal(5,-2)'],
    ['numeric', 'decimal'],
    ['real', 'float32'],
    ['double precision', 'float64'],
    ['float(10)', 'float32'],
    ['boolean', 'bool'],
    ['text', 'text'],
    ['character varying(40)', 'text'],
    ['character varying', 'text'],
    ['character(3)', 'text'],
    ['bpchar', 'text'],
    ['"char"', 'text'],
    ['name', 'text'],
    ['bytea', 'bytes'],
    ['date', 'date'],
    ['time without time zone', 'time'],
    ['time(3) without time zone', 'time'],
    ['time with time zone', 'text'],
    ['timestamp(6) without time zone', 'timestamp'],
    ['timestamp(3) with time zone', 'timestamptz'],
    ['timestamp with time zone', 'timestamptz'],
    ['interval', 'interval'],
    ['interval day to second(2)', 'interval'],
    ['interval year to month', 'interval'],
    ['uuid', 'uuid'],
    ['json', 'json'],
    ['jsonb', 'json'],
    ['oid', 'int64'],
    ['xid', 'int64'],
    ['xid8', 'decimal(20,0)'],
    ['money', 'text'],
    ['inet', 'text'],
    ['bit(5)', 'text'],
    ['tsvector', 'text'],
    ['int4range', 'text'],
    ['point', 'text'],
    ['xml', 'text'],
    ['pg_lsn', 'text'],
    ['regclass', 'text'],
    ['text[]', 'array<text>'],
    ['integer[]', 'array<int32>'],
    ['int4[][]', 'array<int32>'],
    ['numeric(5,2)[]', 'array<decimal(5,2)>'],
    ['timestamp(3) with time zone[]', 'array<timestamptz>'],
    ['point[]', 'array<text>'],
    // box[] literals separate elements with ';', so the whole array is its text.
    ['box[]', 'text'],
    ['mood', 'text'],
    ['public.citext[]', 'text'],
    // PostgreSQL's numeric precision stops at 1000.
    ['numeric(2000,0)', 'text'],
  ])('%s → %s', (type, logical) => {
    expect(logicalTypeOf(type)).toEqual(parseLogicalType(logical));
  });

  it('agrees with mapColumnType for every PostgreSQL rule', () => {
    for (const { key } of dataFile('postgresql-postgresql.yaml')) {
      for (const source of [key, `${key}[]`, `${key}(3)`, `${key}(10,2)`]) {
        const mapped = pg(source);
        if (mapped.known) expect(logicalTypeOf(mapped.type), `${source} → ${mapped.type}`).toEqual(mapped.logical);
      }
    }
  });

  it('gives every SQL Server type the logical type of the PostgreSQL type it maps to', () => {
    for (const { key } of dataFile('mssql-postgresql.yaml')) {
      for (const source of [key, `${key}(5)`, `${key}(10,2)`, `${key}(30)`, `${key}(max)`]) {
        const mapped = mssql(source);
        if (mapped.known) expect(mapped.logical, `${source} → ${mapped.type}`).toEqual(logicalTypeOf(mapped.type));
      }
    }
  });
});

describe('isToastable', () => {
  it.each([
    'text',
    'character varying(160)',
    'character varying',
    'character(10)',
    'bpchar',
    'numeric(10,2)',
    'numeric',
    'bytea',
    'json',
    'jsonb',
    'xml',
    'inet',
    'cidr',
    'bit(5)',
    'bit varying',
    'tsvector',
    'int4range',
    'path',
    'integer[]',
    'timestamp(3) without time zone[]',
    'varchar(10)',
    'mood',
  ])('%s is variable-length', (type) => {
    expect(isToastable(type)).toBe(true);
  });

  it.each([
    'smallint',
    'integer',
    'bigint',
    'int4',
    'real',
    'double precision',
    'boolean',
    'date',
    'time without time zone',
    'time(3) with time zone',
    'timestamp(6) without time zone',
    'timestamp with time zone',
    'timestamptz(3)',
    'interval',
    'interval day to second(2)',
    'uuid',
    'money',
    'oid',
    'regclass',
    '"char"',
    'name',
    'macaddr',
    'point',
    'pg_lsn',
    'serial',
  ])('%s is fixed-width', (type) => {
    expect(isToastable(type)).toBe(false);
  });
});

describe('data file validation', () => {
  afterEach(() => {
    vi.doUnmock('node:fs');
    vi.resetModules();
  });

  /** A fresh type-map module that reads `yaml` as the SQL Server data file. */
  async function withMssqlFile(yaml: string) {
    vi.resetModules();
    vi.doMock('node:fs', async (importOriginal) => {
      const fs = await importOriginal<typeof import('node:fs')>();
      const readFileSync = ((path: unknown, ...rest: unknown[]) =>
        String(path).endsWith('mssql-postgresql.yaml') ? yaml : (fs.readFileSync as (...a: unknown[]) => unknown)(path, ...rest)) as typeof fs.readFileSync;
      return { ...fs, readFileSync, default: { ...fs, readFileSync } };
    });
    return import('./type-map.js');
  }

  function failure(run: () => unknown): CdcError {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
      return error as CdcError;
    }
    throw new Error('expected an error');
  }

  it.each([
    ['source: mssql\ntypes:\n  int: { to: integer, colour: red }\n', /mssql-postgresql\.yaml:3: types\.int colour: /],
    ['source: mssql\ntypes:\n  int: { params: [n] }\n', /mssql-postgresql\.yaml:3: types\.int: needs `to` \(or `alias`\)/],
    ['source: mssql\ntypes:\n  int:\n    to: "integer({p})"\n', /mssql-postgresql\.yaml:4: types\.int\.to: p is not one of params \[\]/],
    ['source: mssql\ntypes:\n  integer: { alias: nope }\n', /mssql-postgresql\.yaml:3: types\.integer\.alias: there is no type "nope" in this file/],
    ['source: mssql\ntypes:\n  INT: { to: integer }\n', /mssql-postgresql\.yaml:3: types\.INT: write the type name as normalizeSourceType\(\) does/],
    ['source: mssql\ntypes:\n  int: { to: integer, logical: int32, fixed: true }\n', /mssql-postgresql\.yaml:3: types\.int\.fixed: only means something for PostgreSQL types/],
    ['source: mssql\ntypes:\n  int: { to: integer }\n', /mssql-postgresql\.yaml:3: types\.int: needs `logical`/],
    ['source: mssql\ntypes:\n  int:\n    to: integer\n    logical: integer\n', /mssql-postgresql\.yaml:5: types\.int\.logical: logical type "integer": unknown type name "integer"/],
    ['source: mssql\ntypes:\n  dec:\n    params: [p]\n    to: "numeric({p},0)"\n    logical: "decimal({p},{s})"\n', /:6: types\.dec\.logical: s is not one of params \[p\]/],
    ['source: mssql\ntypes:\n  dec:\n    params: [p]\n    to: "numeric({p},0)"\n    logical: "decimal({p},0)"\n    bare: numeric\n', /:7: types\.dec\.bare: needs its own logical type/],
    ['source: mssql\ntypes:\n  f:\n    params: [n]\n    to: real\n    logical: float32\n    when: [{ upTo: { n: 1 }, to: real, logical: real }]\n', /types\.f\.when\[0\]\.logical: logical type "real": unknown type name/],
    ['source: mssql\ntypes:\n  box: { to: box, logical: text, delimiter: ";" }\n', /types\.box\.delimiter: only means something for PostgreSQL types/],
    ['source: postgresql\ntypes: {}\n', /mssql-postgresql\.yaml:1: source: is postgresql but this file holds the mssql rules/],
    ['source: mssql\ntypes:\n  int: { to: integer\n', /mssql-postgresql\.yaml:\d+:\d+: YAML syntax error/],
  ])('rejects a malformed file with file:line (%#)', async (yaml, message) => {
    const { mapColumnType: map } = await withMssqlFile(yaml);
    const error = failure(() => map('mssql', 'int', where));
    expect(error.name).toBe('CdcError');
    expect(error.code).toBe('TYPE_MAP_INVALID');
    expect(error.message).toMatch(message);
  });

  it('uses the rules of the file it reads', async () => {
    const { mapColumnType: map } = await withMssqlFile('source: mssql\ntypes:\n  int: { to: bigint, logical: int64 }\n');
    expect(map('mssql', 'int', where)).toEqual({ type: 'bigint', logical: { kind: 'int64' }, known: true });
    expect(map('mssql', 'INT', where)).toEqual({ type: 'bigint', logical: { kind: 'int64' }, known: true });
  });
});
