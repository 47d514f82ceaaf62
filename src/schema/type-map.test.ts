import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { CdcError } from '../errors.js';
import { isToastable, mapColumnType, normalizeSourceType } from './type-map.js';

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
    ['tinyint', 'smallint'],
    ['smallint', 'smallint'],
    ['int', 'integer'],
    ['integer', 'integer'],
    ['bigint', 'bigint'],
    ['bit', 'boolean'],
    ['decimal', 'numeric(18,0)'],
    ['decimal(9)', 'numeric(9,0)'],
    ['decimal(38,10)', 'numeric(38,10)'],
    ['dec(5,2)', 'numeric(5,2)'],
    ['numeric', 'numeric(18,0)'],
    ['NUMERIC(10, 2)', 'numeric(10,2)'],
    ['money', 'numeric(19,4)'],
    ['smallmoney', 'numeric(10,4)'],
    ['float', 'double precision'],
    ['float(1)', 'real'],
    ['float(24)', 'real'],
    ['float(25)', 'double precision'],
    ['float(53)', 'double precision'],
    ['real', 'real'],
    ['double precision', 'double precision'],
    ['date', 'date'],
    ['time', 'time(6) without time zone'],
    ['time(0)', 'time(0) without time zone'],
    ['time(3)', 'time(3) without time zone'],
    ['time(7)', 'time(6) without time zone'],
    ['datetime', 'timestamp(3) without time zone'],
    ['datetime2', 'timestamp(6) without time zone'],
    ['datetime2(0)', 'timestamp(0) without time zone'],
    ['datetime2(3)', 'timestamp(3) without time zone'],
    ['datetime2(7)', 'timestamp(6) without time zone'],
    ['smalldatetime', 'timestamp(0) without time zone'],
    ['datetimeoffset', 'timestamp(6) with time zone'],
    ['datetimeoffset(2)', 'timestamp(2) with time zone'],
    ['datetimeoffset(7)', 'timestamp(6) with time zone'],
    ['char', 'character(1)'],
    ['char(10)', 'character(10)'],
    ['character(3)', 'character(3)'],
    ['nchar', 'character(1)'],
    ['nchar(4)', 'character(4)'],
    ['national character(2)', 'character(2)'],
    ['varchar', 'character varying(1)'],
    ['varchar(50)', 'character varying(50)'],
    ['varchar(max)', 'text'],
    ['char varying(8)', 'character varying(8)'],
    ['nvarchar(160)', 'character varying(160)'],
    ['NVARCHAR(MAX)', 'text'],
    ['national character varying(20)', 'character varying(20)'],
    ['text', 'text'],
    ['ntext', 'text'],
    ['binary', 'bytea'],
    ['binary(16)', 'bytea'],
    ['varbinary(100)', 'bytea'],
    ['varbinary(max)', 'bytea'],
    ['image', 'bytea'],
    ['uniqueidentifier', 'uuid'],
    ['xml', 'xml'],
    ['sql_variant', 'text'],
    ['hierarchyid', 'text'],
    ['geography', 'text'],
    ['geometry', 'text'],
    ['rowversion', 'bytea'],
    ['timestamp', 'bytea'],
    ['sysname', 'character varying(128)'],
    ['json', 'jsonb'],
    ['vector(1536)', 'text'],
    ['[nvarchar](10)', 'character varying(10)'],
  ])('%s → %s', (source, expected) => {
    expect(mssql(source)).toMatchObject({ type: expected, known: true });
  });

  it('returns a warning with the mappings that lose something', () => {
    expect(mssql('geography')).toEqual({
      type: 'text',
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
    ['char', 'character(1)'],
    ['char(10)', 'character(10)'],
    ['varchar', 'character varying'],
    ['varchar(10)', 'character varying(10)'],
    ['character varying(5)', 'character varying(5)'],
    ['bpchar', 'bpchar'],
    ['"char"', '"char"'],
    ['national character varying(4)', 'character varying(4)'],
    ['nchar(3)', 'character(3)'],
    ['numeric', 'numeric'],
    ['numeric(10)', 'numeric(10,0)'],
    ['numeric(10,2)', 'numeric(10,2)'],
    ['decimal', 'numeric'],
    ['decimal(5,1)', 'numeric(5,1)'],
    ['dec(4)', 'numeric(4,0)'],
    ['float', 'double precision'],
    ['float(10)', 'real'],
    ['float(24)', 'real'],
    ['float(25)', 'double precision'],
    ['float(53)', 'double precision'],
    ['real', 'real'],
    ['double precision', 'double precision'],
    ['float4', 'real'],
    ['float8', 'double precision'],
    ['time', 'time without time zone'],
    ['time(3)', 'time(3) without time zone'],
    ['time(7)', 'time(6) without time zone'],
    ['timetz', 'time with time zone'],
    ['time(2) with time zone', 'time(2) with time zone'],
    ['timestamp', 'timestamp without time zone'],
    ['timestamp(0)', 'timestamp(0) without time zone'],
    ['timestamptz', 'timestamp with time zone'],
    ['timestamptz(3)', 'timestamp(3) with time zone'],
    ['timestamp(6) with time zone', 'timestamp(6) with time zone'],
    ['interval', 'interval'],
    ['interval(3)', 'interval(3)'],
    ['interval year', 'interval year'],
    ['interval day to second(2)', 'interval day to second(2)'],
    ['interval minute to second', 'interval minute to second'],
    ['interval second(3)', 'interval second(3)'],
    ['bit', 'bit(1)'],
    ['bit(5)', 'bit(5)'],
    ['varbit', 'bit varying'],
    ['varbit(7)', 'bit varying(7)'],
    ['bit varying(3)', 'bit varying(3)'],
    ['int[]', 'integer[]'],
    ['int4[][]', 'integer[]'],
    ['varchar(10)[]', 'character varying(10)[]'],
    ['integer array', 'integer[]'],
    ['integer array[3]', 'integer[]'],
    ['timestamp(3)[]', 'timestamp(3) without time zone[]'],
    ['numeric(5,2)[]', 'numeric(5,2)[]'],
    ['"char"[]', '"char"[]'],
    ['serial', 'integer'],
    ['bigserial', 'bigint'],
    ['smallserial', 'smallint'],
    ['int', 'integer'],
    ['int2', 'smallint'],
    ['int8', 'bigint'],
    ['bool', 'boolean'],
    ['character(3)', 'character(3)'],
    ['uuid', 'uuid'],
    ['jsonb', 'jsonb'],
    ['json', 'json'],
    ['xml', 'xml'],
    ['bytea', 'bytea'],
    ['text', 'text'],
    ['inet', 'inet'],
    ['money', 'money'],
    ['tstzrange', 'tstzrange'],
    ['pg_lsn', 'pg_lsn'],
  ])('%s → %s', (source, expected) => {
    expect(pg(source)).toEqual({ type: expected, known: true });
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
      known: false,
      warning: 'unknown PostgreSQL type "mood" for column "current_mood" of table "public.person": mapped to text; add it to type-maps/postgresql-postgresql.yaml',
    });
    expect(pg('public.citext[]')).toMatchObject({ type: 'text', known: false });
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
    ['source: mssql\ntypes:\n  int: { to: integer, fixed: true }\n', /mssql-postgresql\.yaml:3: types\.int\.fixed: only means something for PostgreSQL types/],
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
    const { mapColumnType: map } = await withMssqlFile('source: mssql\ntypes:\n  int: { to: bigint }\n');
    expect(map('mssql', 'int', where)).toEqual({ type: 'bigint', known: true });
    expect(map('mssql', 'INT', where)).toEqual({ type: 'bigint', known: true });
  });
});
