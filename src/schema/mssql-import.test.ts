import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CdcError } from '../errors.js';
import { importMssqlDdl, type ImportedTable } from './mssql-import.js';
import { mapColumnType } from './type-map.js';

const CHINOOK = new URL('../../../shared/data/chinook/Chinook_SqlServer.sql', import.meta.url);

const table = (tables: readonly ImportedTable[], name: string) => {
  const found = tables.find((t) => t.name === name);
  if (!found) throw new Error(`no table ${name}`);
  return found;
};

function importError(text: string): CdcError {
  try {
    importMssqlDdl(text, 'bad.sql');
  } catch (error) {
    expect(error).toBeInstanceOf(CdcError);
    return error as CdcError;
  }
  throw new Error('expected an error');
}

describe('importMssqlDdl on Chinook_SqlServer.sql', () => {
  const text = readFileSync(CHINOOK, 'utf8');

  it('reads the 11 tables, fast, without warnings', () => {
    const started = performance.now();
    const { tables, warnings } = importMssqlDdl(text, 'Chinook_SqlServer.sql');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(warnings).toEqual([]);
    expect(tables.map((t) => [`${t.schema}.${t.name}`, t.line])).toEqual([
      ['dbo.Album', 40],
      ['dbo.Artist', 48],
      ['dbo.Customer', 55],
      ['dbo.Employee', 73],
      ['dbo.Genre', 93],
      ['dbo.Invoice', 100],
      ['dbo.InvoiceLine', 114],
      ['dbo.MediaType', 124],
      ['dbo.Playlist', 131],
      ['dbo.PlaylistTrack', 138],
      ['dbo.Track', 145],
    ]);
  });

  it('reads columns, types, nullability and keys exactly', () => {
    const { tables } = importMssqlDdl(text, 'Chinook_SqlServer.sql');
    expect(table(tables, 'Invoice')).toEqual({
      schema: 'dbo',
      name: 'Invoice',
      line: 100,
      primaryKey: ['InvoiceId'],
      columns: [
        { name: 'InvoiceId', type: 'int', nullable: false },
        { name: 'CustomerId', type: 'int', nullable: false },
        { name: 'InvoiceDate', type: 'datetime', nullable: false },
        { name: 'BillingAddress', type: 'nvarchar(70)', nullable: true },
        { name: 'BillingCity', type: 'nvarchar(40)', nullable: true },
        { name: 'BillingState', type: 'nvarchar(40)', nullable: true },
        { name: 'BillingCountry', type: 'nvarchar(40)', nullable: true },
        { name: 'BillingPostalCode', type: 'nvarchar(10)', nullable: true },
        { name: 'Total', type: 'numeric(10,2)', nullable: false },
      ],
    });
    expect(table(tables, 'InvoiceLine')).toEqual({
      schema: 'dbo',
      name: 'InvoiceLine',
      line: 114,
      primaryKey: ['InvoiceLineId'],
      columns: [
        { name: 'InvoiceLineId', type: 'int', nullable: false },
        { name: 'InvoiceId', type: 'int', nullable: false },
        { name: 'TrackId', type: 'int', nullable: false },
        { name: 'UnitPrice', type: 'numeric(10,2)', nullable: false },
        { name: 'Quantity', type: 'int', nullable: false },
      ],
    });
    expect(table(tables, 'PlaylistTrack')).toEqual({
      schema: 'dbo',
      name: 'PlaylistTrack',
      line: 138,
      primaryKey: ['PlaylistId', 'TrackId'],
      columns: [
        { name: 'PlaylistId', type: 'int', nullable: false },
        { name: 'TrackId', type: 'int', nullable: false },
      ],
    });
    expect(table(tables, 'Track').columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`)).toEqual([
      'TrackId int NOT NULL',
      'Name nvarchar(200) NOT NULL',
      'AlbumId int',
      'MediaTypeId int NOT NULL',
      'GenreId int',
      'Composer nvarchar(220)',
      'Milliseconds int NOT NULL',
      'Bytes int',
      'UnitPrice numeric(10,2) NOT NULL',
    ]);
  });

  it('maps every Chinook column type to a known PostgreSQL type', () => {
    const { tables } = importMssqlDdl(text, 'Chinook_SqlServer.sql');
    const mapped = tables.flatMap((t) => t.columns.map((c) => mapColumnType('mssql', c.type, { table: `${t.schema}.${t.name}`, column: c.name })));
    expect(mapped.every((m) => m.known && m.warning === undefined)).toBe(true);
    expect(new Set(mapped.map((m) => m.type))).toEqual(
      new Set(['integer', 'character varying(160)', 'character varying(120)', 'character varying(40)', 'character varying(20)', 'character varying(80)', 'character varying(70)', 'character varying(10)', 'character varying(24)', 'character varying(60)', 'character varying(30)', 'timestamp(3) without time zone', 'numeric(10,2)', 'character varying(200)', 'character varying(220)']),
    );
  });
});

/** Exercises what SSMS and hand-written scripts contain; line numbers matter below. */
const SYNTHETIC = `-- synthetic.sql: everything the importer reads or passes over
USE [Shop]
GO
/* CREATE TABLE commented_out (x int) /* nested */ still a comment */
IF OBJECT_ID(N'dbo.Orders') IS NULL
BEGIN
create table Orders (
  OrderId int identity(1,1) primary key,
  [Created] datetime2(3) not null constraint [DF_Orders_Created] default (getdate()),
  "Note" nvarchar(max) NULL DEFAULT N'it''s',   -- trailing comment
  Qty int NOT NULL DEFAULT ((0)),
  Total AS (Qty * 2) PERSISTED,
  CustomerId int NOT NULL CONSTRAINT FK_Orders_Customer FOREIGN KEY REFERENCES dbo.Customer (Id) ON DELETE CASCADE,
  Guid uniqueidentifier ROWGUIDCOL NOT NULL DEFAULT newid(),
  CONSTRAINT UQ_Orders_Guid UNIQUE NONCLUSTERED (Guid),
  CHECK (Qty >= 0)
)
END
GO
INSERT INTO Orders (Note) VALUES (N'CREATE TABLE x (y int)');
GO
CREATE TABLE [Sales].[Order Lines]
(
    [Order]]Id] INT NOT NULL,
    [Line] SMALLINT NOT NULL,
    [Größe] national character varying (20) NULL,
    [Price] money NOT NULL CONSTRAINT [DF_Price] DEFAULT 0,
    FOREIGN KEY ([Order]]Id]) REFERENCES dbo.Orders (OrderId) ON DELETE NO ACTION ON UPDATE NO ACTION
) ON [PRIMARY] TEXTIMAGE_ON [PRIMARY]
GO
ALTER TABLE [Sales].[Order Lines] WITH CHECK ADD CONSTRAINT [PK_OrderLines] PRIMARY KEY NONCLUSTERED ([Order]]Id] ASC, [line] DESC) WITH (FILLFACTOR = 90) ON [PRIMARY]
GO
ALTER TABLE [Sales].[Order Lines] ADD [Extra] int NULL
GO
CREATE TABLE #scratch (a int)
GO
CREATE TABLE [Shop].[hr].[People] (
  [Id] bigint IDENTITY(1000, 5) NOT NULL,
  Login sysname,
  Tag char NULL,
  Counter int IDENTITY,
  CONSTRAINT PK_People PRIMARY KEY CLUSTERED (Id ASC) WITH (PAD_INDEX = OFF) ON [PRIMARY]
)
GO
CREATE TABLE "audit"."Log Entries" ("Entry Id" int NOT NULL CONSTRAINT "PK_Log" PRIMARY KEY CLUSTERED, "When" datetimeoffset(3) NOT NULL DEFAULT (sysdatetimeoffset()))
GO
`;

describe('importMssqlDdl on a synthetic script', () => {
  it('reads identity, defaults, keys, quoted names; skips the rest with warnings', () => {
    const { tables, warnings } = importMssqlDdl(SYNTHETIC, 'synthetic.sql');
    expect(tables).toEqual([
      {
        schema: 'dbo',
        name: 'Orders',
        line: 7,
        primaryKey: ['OrderId'],
        columns: [
          { name: 'OrderId', type: 'int', nullable: false, identity: { seed: 1, increment: 1 } },
          { name: 'Created', type: 'datetime2(3)', nullable: false, default: 'getdate()' },
          { name: 'Note', type: 'nvarchar(max)', nullable: true, default: "N'it''s'" },
          { name: 'Qty', type: 'int', nullable: false, default: '0' },
          { name: 'CustomerId', type: 'int', nullable: false },
          { name: 'Guid', type: 'uniqueidentifier', nullable: false, default: 'newid()' },
        ],
      },
      {
        schema: 'Sales',
        name: 'Order Lines',
        line: 22,
        primaryKey: ['Order]Id', 'Line'],
        columns: [
          { name: 'Order]Id', type: 'int', nullable: false },
          { name: 'Line', type: 'smallint', nullable: false },
          { name: 'Größe', type: 'national character varying(20)', nullable: true },
          { name: 'Price', type: 'money', nullable: false, default: '0' },
        ],
      },
      {
        schema: 'hr',
        name: 'People',
        line: 37,
        primaryKey: ['Id'],
        columns: [
          { name: 'Id', type: 'bigint', nullable: false, identity: { seed: 1000, increment: 5 } },
          { name: 'Login', type: 'sysname', nullable: false },
          { name: 'Tag', type: 'char', nullable: true },
          { name: 'Counter', type: 'int', nullable: false, identity: { seed: 1, increment: 1 } },
        ],
      },
      {
        schema: 'audit',
        name: 'Log Entries',
        line: 45,
        primaryKey: ['Entry Id'],
        columns: [
          { name: 'Entry Id', type: 'int', nullable: false },
          { name: 'When', type: 'datetimeoffset(3)', nullable: false, default: 'sysdatetimeoffset()' },
        ],
      },
    ]);
    expect(warnings).toEqual([
      'synthetic.sql:12: column "Total" of table dbo.Orders is computed (AS …): not imported',
      'synthetic.sql:33: ALTER TABLE Sales.Order Lines ADD Extra: columns added by ALTER TABLE are not imported; add them to the CREATE TABLE',
      'synthetic.sql:35: temporary table #scratch skipped',
    ]);
  });

  it('reads a column of every SQL Server type', () => {
    const types = [
      'tinyint', 'smallint', 'int', 'bigint', 'bit', 'decimal(12, 3)', 'numeric', 'money', 'smallmoney', 'float(24)', 'float',
      'real', 'date', 'time(3)', 'datetime', 'datetime2(7)', 'smalldatetime', 'datetimeoffset', 'char(2)', 'nchar(4)',
      'varchar(50)', 'nvarchar(MAX)', 'text', 'ntext', 'binary(16)', 'varbinary(max)', 'image', 'uniqueidentifier', 'xml',
      'sql_variant', 'hierarchyid', 'geography', 'geometry', 'rowversion', 'timestamp', 'sysname', 'json', 'vector(3)',
      'double precision', '[nvarchar](10)', 'dbo.PhoneNumber',
    ];
    const ddl = `CREATE TABLE dbo.AllTypes (\n${types.map((t, i) => `  c${i} ${t.toUpperCase()} NULL`).join(',\n')}\n)`;
    const [all] = importMssqlDdl(ddl, 'types.sql').tables;
    const mapped = all!.columns.map((c) => [c.type, mapColumnType('mssql', c.type, { table: 'dbo.AllTypes', column: c.name }).type]);
    expect(mapped).toEqual([
      ['tinyint', 'smallint'],
      ['smallint', 'smallint'],
      ['int', 'integer'],
      ['bigint', 'bigint'],
      ['bit', 'boolean'],
      ['decimal(12,3)', 'numeric(12,3)'],
      ['numeric', 'numeric(18,0)'],
      ['money', 'numeric(19,4)'],
      ['smallmoney', 'numeric(10,4)'],
      ['float(24)', 'real'],
      ['float', 'double precision'],
      ['real', 'real'],
      ['date', 'date'],
      ['time(3)', 'time(3) without time zone'],
      ['datetime', 'timestamp(3) without time zone'],
      ['datetime2(7)', 'timestamp(6) without time zone'],
      ['smalldatetime', 'timestamp(0) without time zone'],
      ['datetimeoffset', 'timestamp(6) with time zone'],
      ['char(2)', 'character(2)'],
      ['nchar(4)', 'character(4)'],
      ['varchar(50)', 'character varying(50)'],
      ['nvarchar(max)', 'text'],
      ['text', 'text'],
      ['ntext', 'text'],
      ['binary(16)', 'bytea'],
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
      ['vector(3)', 'text'],
      ['double precision', 'double precision'],
      ['nvarchar(10)', 'character varying(10)'],
      ['dbo.phonenumber', 'text'],
    ]);
    expect(all!.columns.every((c) => c.nullable)).toBe(true);
  });

  it('warns about a NULL primary-key column, and a key or default for a table or column it does not create', () => {
    const { tables, warnings } = importMssqlDdl(
      'CREATE TABLE t (a int NULL, CONSTRAINT pk PRIMARY KEY (A))\nALTER TABLE dbo.other ADD PRIMARY KEY (x)\nALTER TABLE t ADD DEFAULT 0 FOR zz',
      'k.sql',
    );
    expect(tables[0]).toMatchObject({ primaryKey: ['a'], columns: [{ name: 'a', nullable: false }] });
    expect(warnings).toEqual([
      'k.sql:2: primary key of table dbo.other: the table is not created in this script; ignored',
      'k.sql:3: default for column "zz" of table dbo.t: no such column; ignored',
      'k.sql:1: column "a" of table dbo.t is declared NULL but is part of the primary key: imported as NOT NULL',
    ]);
  });
});

/** The shape of SSMS "Script Table as → CREATE To" output: defaults and foreign keys come as ALTER TABLE. */
const SSMS = `USE [Shop]
GO
/****** Object:  Table [dbo].[Customer]    Script Date: 01.02.2026 10:00:00 ******/
SET ANSI_NULLS ON
GO
SET QUOTED_IDENTIFIER ON
GO
CREATE TABLE [dbo].[Customer](
	[CustomerId] [int] IDENTITY(1,1) NOT FOR REPLICATION NOT NULL,
	[Name] [nvarchar](100) COLLATE Latin1_General_CI_AS NOT NULL,
	[Created] [datetime2](7) NOT NULL,
	[Active] [bit] NOT NULL,
	[Notes] [nvarchar](max) NULL,
 CONSTRAINT [PK_Customer] PRIMARY KEY CLUSTERED 
(
	[CustomerId] ASC
)WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF, IGNORE_DUP_KEY = OFF, ALLOW_ROW_LOCKS = ON, ALLOW_PAGE_LOCKS = ON, OPTIMIZE_FOR_SEQUENTIAL_KEY = OFF) ON [PRIMARY]
) ON [PRIMARY] TEXTIMAGE_ON [PRIMARY]
GO
ALTER TABLE [dbo].[Customer] ADD  CONSTRAINT [DF_Customer_Created]  DEFAULT (sysutcdatetime()) FOR [Created]
GO
ALTER TABLE [dbo].[Customer] ADD  DEFAULT ((1)) FOR [Active]
GO
ALTER TABLE [dbo].[Customer]  WITH CHECK ADD  CONSTRAINT [FK_Customer_Region] FOREIGN KEY([RegionId])
REFERENCES [dbo].[Region] ([RegionId])
GO
ALTER TABLE [dbo].[Customer] CHECK CONSTRAINT [FK_Customer_Region]
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'CREATE TABLE in a string' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'Customer'
GO
`;

describe('importMssqlDdl on an SSMS-style script', () => {
  it('reads the table and the defaults SSMS adds by ALTER TABLE', () => {
    expect(importMssqlDdl(SSMS, 'ssms.sql')).toEqual({
      warnings: [],
      tables: [
        {
          schema: 'dbo',
          name: 'Customer',
          line: 8,
          primaryKey: ['CustomerId'],
          columns: [
            { name: 'CustomerId', type: 'int', nullable: false, identity: { seed: 1, increment: 1 } },
            { name: 'Name', type: 'nvarchar(100)', nullable: false },
            { name: 'Created', type: 'datetime2(7)', nullable: false, default: 'sysutcdatetime()' },
            { name: 'Active', type: 'bit', nullable: false, default: '1' },
            { name: 'Notes', type: 'nvarchar(max)', nullable: true },
          ],
        },
      ],
    });
  });
});

describe('importMssqlDdl errors', () => {
  it.each([
    ['CREATE TABLE dbo.T (\n  a int NOT NULL,\n  b nvarchar(10) NOT NULL FOO,\n  c int\n)', 'bad.sql:3: cannot parse column "b" of table dbo.T: unexpected "FOO"', 3],
    ['CREATE TABLE dbo.T (\n  a int NOT NULL,\n  b NOT NULL\n)', 'bad.sql:3: column "b" of table dbo.T has no data type', 3],
    ['GO\nCREATE TABLE dbo.T (\n  a int NOT NULL,\n  b nvarchar(10\n)\nGO\nSELECT 1', 'bad.sql:2: CREATE TABLE dbo.T: the column list is not closed before GO at line 6', 2],
    ['CREATE TABLE dbo.T (a int', 'bad.sql:1: CREATE TABLE dbo.T: the column list is not closed before the end of the file', 1],
    ['\nCREATE TABLE dbo.T a int', 'bad.sql:2: CREATE TABLE dbo.T: expected "(" and the column list after the name', 2],
    ["CREATE TABLE dbo.T (a int DEFAULT 'abc)", 'bad.sql:1: string starting here is not closed', 1],
    ['/* open\nCREATE TABLE dbo.T (a int)', 'bad.sql:1: /* comment starting here is not closed', 1],
    ['CREATE TABLE dbo.T (a int,\n A int)', 'bad.sql:2: column "A" appears twice in table dbo.T', 2],
    ['CREATE TABLE dbo.T (a int PRIMARY KEY,\n b int, PRIMARY KEY (b))', 'bad.sql:2: table dbo.T has two primary keys', 2],
    ['CREATE TABLE dbo.T (a int, CONSTRAINT pk PRIMARY KEY (zz))', 'bad.sql:1: the primary key of table dbo.T names "zz", which is not a column of the table', 1],
    ['CREATE TABLE dbo.T (a int)\nGO\ncreate table DBO.t (b int)', 'bad.sql:3: table DBO.t is created twice (first at line 1)', 3],
    ['CREATE TABLE dbo.T (a int, CONSTRAINT pk PRIMARY KEY (a))\nALTER TABLE dbo.T ADD PRIMARY KEY (a)', 'bad.sql:2: table dbo.T already has a primary key (CREATE TABLE at line 1)', 2],
    ['CREATE TABLE dbo.T (a int)\nALTER TABLE dbo.T ADD CONSTRAINT PK PRIMARY KEY (a b)', 'bad.sql:2: cannot parse the primary key of table dbo.T: unexpected "b"', 2],
    ['CREATE TABLE dbo.T (a int DEFAULT 1)\nALTER TABLE dbo.T ADD DEFAULT 2 FOR a', 'bad.sql:2: column "a" of table dbo.T already has a default', 2],
    ['CREATE TABLE dbo.T (a int)\nALTER TABLE dbo.T ADD DEFAULT 2', 'bad.sql:2: cannot parse a default of table dbo.T: expected DEFAULT expression FOR column', 2],
  ])('%j', (ddl, message, line) => {
    const error = importError(ddl);
    expect(error.code).toBe('SCHEMA_IMPORT_INVALID');
    expect(error.message).toBe(message);
    expect(error.context).toMatchObject({ file: 'bad.sql', line });
    expect(error.remedy).toBeTruthy();
  });

  it('chains the parser error as the cause', () => {
    const error = importError('CREATE TABLE dbo.T (a int NOT NULL FOO)');
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.context).toMatchObject({ table: 'dbo.T', column: 'a' });
  });

  it('rejects a script without CREATE TABLE', () => {
    const error = importError('USE x\nGO\nINSERT INTO t VALUES (1)\nCREATE TABLE #tmp (a int)');
    expect(error.message).toBe('bad.sql: no CREATE TABLE statement found (temporary tables are skipped)');
    expect(error.remedy).toMatch(/pass a script with CREATE TABLE statements/);
  });
});
