import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import {
  OFFLINE_STATE,
  parseTsqlTableName,
  planCleanCdc,
  planEnableCdc,
  quoteTsqlIdentifier,
  quoteTsqlString,
  READ_CDC_STATE_SQL,
  readTablesSql,
  renderTsqlScript,
  type CdcState,
} from './cdc-admin.js';

const ENABLE_DB = ['IF EXISTS (SELECT 1 FROM sys.databases WHERE name = DB_NAME() AND is_cdc_enabled = 0)', '    EXEC sys.sp_cdc_enable_db;'].join('\n');

function enableTable(schema: string, name: string, netChanges: 0 | 1): string {
  return [
    `IF NOT EXISTS (SELECT 1 FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE s.name = ${schema} AND t.name = ${name} AND t.is_tracked_by_cdc = 1)`,
    `    EXEC sys.sp_cdc_enable_table @source_schema = ${schema}, @source_name = ${name}, @role_name = NULL, @supports_net_changes = ${netChanges};`,
  ].join('\n');
}

function cleanInstance(instance: string, days: number): string {
  return [
    `DECLARE @lsn binary(10) = sys.fn_cdc_map_time_to_lsn(N'largest less than or equal', DATEADD(day, -${days}, GETDATE()));`,
    'DECLARE @rc int;',
    `IF @lsn IS NULL OR @lsn < sys.fn_cdc_get_min_lsn(N'${instance}')`,
    `    PRINT N'${instance}: no change older than ${days} days to clean';`,
    'ELSE',
    'BEGIN',
    `    EXEC @rc = sys.sp_cdc_cleanup_change_table @capture_instance = N'${instance}', @low_water_mark = @lsn, @threshold = 5000;`,
    `    IF @rc <> 0 THROW 50000, N'sys.sp_cdc_cleanup_change_table failed for capture instance ${instance}', 1;`,
    'END;',
  ].join('\n');
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof CdcError ? error.code : 'not a CdcError';
  }
  return undefined;
}

describe('T-SQL quoting', () => {
  it('brackets identifiers, doubling ]', () => {
    expect(quoteTsqlIdentifier('Invoice')).toBe('[Invoice]');
    expect(quoteTsqlIdentifier('a]b]]c')).toBe('[a]]b]]]]c]');
    expect(quoteTsqlIdentifier("it's [x]")).toBe("[it's [x]]]");
  });

  it('writes N literals, doubling single quotes', () => {
    expect(quoteTsqlString('dbo')).toBe("N'dbo'");
    expect(quoteTsqlString("O'Brien''s")).toBe("N'O''Brien''''s'");
    expect(quoteTsqlString('')).toBe("N''");
  });

  it('refuses names SQL Server cannot have', () => {
    expect(codeOf(() => quoteTsqlIdentifier(''))).toBe('CONFIG_INVALID');
    expect(codeOf(() => quoteTsqlIdentifier('x'.repeat(129)))).toBe('CONFIG_INVALID');
    expect(quoteTsqlIdentifier('x'.repeat(128))).toHaveLength(130);
    expect(codeOf(() => quoteTsqlIdentifier('a\u0000b'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => quoteTsqlString('a\u0000b'))).toBe('CONFIG_INVALID');
  });
});

describe('parseTsqlTableName', () => {
  it('reads plain, qualified and bracketed names', () => {
    expect(parseTsqlTableName('Invoice')).toEqual({ schema: 'dbo', name: 'Invoice' });
    expect(parseTsqlTableName('Invoice', 'sales')).toEqual({ schema: 'sales', name: 'Invoice' });
    expect(parseTsqlTableName(' sales.Invoice ')).toEqual({ schema: 'sales', name: 'Invoice' });
    expect(parseTsqlTableName('[my.schema].[Odd]]Name]')).toEqual({ schema: 'my.schema', name: 'Odd]Name' });
    expect(parseTsqlTableName("[it's]")).toEqual({ schema: 'dbo', name: "it's" });
  });

  it('round-trips anything quoteTsqlIdentifier writes', () => {
    for (const name of [']', ']]', '[', 'a.b', "x'y", ' padded ', '[a]']) {
      const text = `${quoteTsqlIdentifier('s]')}.${quoteTsqlIdentifier(name)}`;
      expect(parseTsqlTableName(text)).toEqual({ schema: 's]', name });
    }
  });

  it('rejects malformed names with TABLE_PATTERN_INVALID', () => {
    for (const bad of ['', '.', 'a.', '.a', '[a', '[a]]', 'a]b', '[]', '[a]b', 'db.dbo.t']) {
      expect(codeOf(() => parseTsqlTableName(bad)), bad).toBe('TABLE_PATTERN_INVALID');
    }
  });
});

describe('planEnableCdc', () => {
  it('enables the database and two tables, the keyless one without net changes', () => {
    const plan = planEnableCdc(
      [
        { schema: 'dbo', name: 'Invoice', hasPrimaryKey: true },
        { schema: 'dbo', name: 'AuditLog', hasPrimaryKey: false },
      ],
      OFFLINE_STATE,
    );
    expect(plan.skipped).toEqual([]);
    expect(plan.steps).toEqual([
      { description: 'enable CDC on the database', sql: ENABLE_DB },
      { description: 'enable CDC on [dbo].[Invoice] (net changes)', sql: enableTable("N'dbo'", "N'Invoice'", 1) },
      { description: 'enable CDC on [dbo].[AuditLog] (no primary key: all changes only, no net changes)', sql: enableTable("N'dbo'", "N'AuditLog'", 0) },
    ]);
    expect(plan.steps[1]!.sql).toBe(
      "IF NOT EXISTS (SELECT 1 FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE s.name = N'dbo' AND t.name = N'Invoice' AND t.is_tracked_by_cdc = 1)\n" +
        "    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Invoice', @role_name = NULL, @supports_net_changes = 1;",
    );
  });

  it('skips the database and a table already tracked, and plans a table once', () => {
    const state: CdcState = { databaseEnabled: true, tracked: [{ schema: 'dbo', name: 'Invoice', captureInstance: 'dbo_Invoice' }] };
    const plan = planEnableCdc(
      [
        { schema: 'dbo', name: 'Invoice', hasPrimaryKey: true },
        { schema: 'sales', name: 'Order', hasPrimaryKey: true },
        { schema: 'sales', name: 'Order', hasPrimaryKey: true },
      ],
      state,
    );
    expect(plan.skipped).toEqual(['[dbo].[Invoice]: already tracked by CDC (capture instance dbo_Invoice)']);
    expect(plan.steps).toEqual([{ description: 'enable CDC on [sales].[Order] (net changes)', sql: enableTable("N'sales'", "N'Order'", 1) }]);
  });

  it('has nothing to do when everything is tracked', () => {
    const state: CdcState = {
      databaseEnabled: true,
      tracked: [
        { schema: 'dbo', name: 'Invoice', captureInstance: 'dbo_Invoice' },
        { schema: 'dbo', name: 'Invoice', captureInstance: 'dbo_Invoice_v2' },
      ],
    };
    const plan = planEnableCdc([{ schema: 'dbo', name: 'Invoice', hasPrimaryKey: true }], state);
    expect(plan).toEqual({ steps: [], skipped: ['[dbo].[Invoice]: already tracked by CDC (capture instance dbo_Invoice, dbo_Invoice_v2)'] });
    expect(renderTsqlScript({ steps: [], skipped: [] })).toBe('-- nothing to do\n');
  });

  it("quotes names with ] and ' (string literals double ', descriptions bracket and double ])", () => {
    const plan = planEnableCdc([{ schema: "O'Neil]s", name: "Odd]'Name", hasPrimaryKey: false }], { databaseEnabled: true, tracked: [] });
    expect(plan.steps).toEqual([
      {
        description: "enable CDC on [O'Neil]]s].[Odd]]'Name] (no primary key: all changes only, no net changes)",
        sql:
          "IF NOT EXISTS (SELECT 1 FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE s.name = N'O''Neil]s' AND t.name = N'Odd]''Name' AND t.is_tracked_by_cdc = 1)\n" +
          "    EXEC sys.sp_cdc_enable_table @source_schema = N'O''Neil]s', @source_name = N'Odd]''Name', @role_name = NULL, @supports_net_changes = 0;",
      },
    ]);
  });

  it('keeps line breaks in names out of descriptions and script comments', () => {
    const plan = planEnableCdc([{ schema: 'dbo', name: 'a\nDROP TABLE x', hasPrimaryKey: true }], { databaseEnabled: true, tracked: [] });
    expect(plan.steps[0]!.description).toBe('enable CDC on [dbo].[a\\u000aDROP TABLE x] (net changes)');
    const script = renderTsqlScript(plan);
    expect(script.split('\n')[0]).toBe('-- enable CDC on [dbo].[a\\u000aDROP TABLE x] (net changes)');
    expect(plan.steps[0]!.sql).toContain("N'a\nDROP TABLE x'"); // inside a literal: data, not code
  });

  it('refuses to print a script a tool would cut at a GO line inside a name', () => {
    const plan = planEnableCdc([{ schema: 'dbo', name: 'a\nGO\nDROP TABLE x', hasPrimaryKey: true }], { databaseEnabled: true, tracked: [] });
    expect(codeOf(() => renderTsqlScript(plan))).toBe('TABLE_UNSUPPORTED');
  });

  it('renders a dry-run script with skipped notes, descriptions and GO', () => {
    const state: CdcState = { databaseEnabled: false, tracked: [{ schema: 'dbo', name: 'Invoice', captureInstance: 'dbo_Invoice' }] };
    const plan = planEnableCdc(
      [
        { schema: 'dbo', name: 'Invoice', hasPrimaryKey: true },
        { schema: 'dbo', name: 'Line', hasPrimaryKey: true },
      ],
      state,
    );
    expect(renderTsqlScript(plan)).toBe(
      [
        '-- skipped: [dbo].[Invoice]: already tracked by CDC (capture instance dbo_Invoice)',
        '-- enable CDC on the database',
        ENABLE_DB,
        'GO',
        '-- enable CDC on [dbo].[Line] (net changes)',
        enableTable("N'dbo'", "N'Line'", 1),
        'GO',
        '',
      ].join('\n'),
    );
  });
});

describe('planCleanCdc', () => {
  const state: CdcState = {
    databaseEnabled: true,
    tracked: [
      { schema: 'dbo', name: 'Invoice', captureInstance: 'dbo_Invoice' },
      { schema: 'dbo', name: 'Invoice', captureInstance: 'dbo_Invoice_v2' },
      { schema: 'sales', name: 'Order', captureInstance: 'sales_Order' },
    ],
  };

  it('cleans each capture instance of the requested tables, older than N days', () => {
    const plan = planCleanCdc(
      [
        { schema: 'dbo', name: 'Invoice' },
        { schema: 'dbo', name: 'Missing' },
      ],
      state,
      7,
    );
    expect(plan.skipped).toEqual(['[dbo].[Missing]: not tracked by CDC, nothing to clean']);
    expect(plan.steps).toEqual([
      { description: 'clean [dbo].[Invoice] (capture instance dbo_Invoice): delete changes older than 7 days', sql: cleanInstance('dbo_Invoice', 7) },
      { description: 'clean [dbo].[Invoice] (capture instance dbo_Invoice_v2): delete changes older than 7 days', sql: cleanInstance('dbo_Invoice_v2', 7) },
    ]);
    expect(plan.steps[0]!.sql).toBe(
      [
        "DECLARE @lsn binary(10) = sys.fn_cdc_map_time_to_lsn(N'largest less than or equal', DATEADD(day, -7, GETDATE()));",
        'DECLARE @rc int;',
        "IF @lsn IS NULL OR @lsn < sys.fn_cdc_get_min_lsn(N'dbo_Invoice')",
        "    PRINT N'dbo_Invoice: no change older than 7 days to clean';",
        'ELSE',
        'BEGIN',
        "    EXEC @rc = sys.sp_cdc_cleanup_change_table @capture_instance = N'dbo_Invoice', @low_water_mark = @lsn, @threshold = 5000;",
        "    IF @rc <> 0 THROW 50000, N'sys.sp_cdc_cleanup_change_table failed for capture instance dbo_Invoice', 1;",
        'END;',
      ].join('\n'),
    );
  });

  it("cleans every tracked capture instance for 'all'", () => {
    const plan = planCleanCdc('all', state, 3);
    expect(plan.skipped).toEqual([]);
    expect(plan.steps.map((s) => s.sql)).toEqual([cleanInstance('dbo_Invoice', 3), cleanInstance('dbo_Invoice_v2', 3), cleanInstance('sales_Order', 3)]);
    expect(plan.steps[2]!.description).toBe('clean [sales].[Order] (capture instance sales_Order): delete changes older than 3 days');
  });

  it("says why 'all' has nothing to clean", () => {
    expect(planCleanCdc('all', OFFLINE_STATE, 3)).toEqual({ steps: [], skipped: ['CDC is not enabled on the database'] });
    expect(planCleanCdc('all', { databaseEnabled: true, tracked: [] }, 3)).toEqual({ steps: [], skipped: ['no table is tracked by CDC'] });
  });

  it("quotes an odd capture instance name in every literal", () => {
    const odd: CdcState = { databaseEnabled: true, tracked: [{ schema: 'x', name: "it's]", captureInstance: "x_it's]" }] };
    const [step] = planCleanCdc('all', odd, 0).steps;
    expect(step!.sql).toBe(cleanInstance("x_it''s]", 0));
    expect(step!.sql).toContain("sys.fn_cdc_get_min_lsn(N'x_it''s]')");
    expect(step!.description).toBe("clean [x].[it's]]] (capture instance x_it's]): delete changes older than 0 days");
  });

  it('accepts whole days from 0 to 36 500 only', () => {
    for (const days of [-1, 1.5, Number.NaN, 36_501, Number.POSITIVE_INFINITY]) {
      expect(codeOf(() => planCleanCdc('all', state, days)), String(days)).toBe('CONFIG_INVALID');
    }
    expect(planCleanCdc('all', state, 36_500).steps).toHaveLength(3);
  });
});

describe('catalog queries', () => {
  it('reads the state in two result sets, the second only when cdc.change_tables exists', () => {
    expect(READ_CDC_STATE_SQL).toBe(
      [
        'SELECT CAST(d.is_cdc_enabled AS bit) AS database_enabled FROM sys.databases AS d WHERE d.name = DB_NAME();',
        "IF OBJECT_ID(N'cdc.change_tables') IS NULL",
        '    SELECT CAST(NULL AS sysname) AS source_schema, CAST(NULL AS sysname) AS source_name, CAST(NULL AS sysname) AS capture_instance WHERE 1 = 0;',
        'ELSE',
        "    EXEC sys.sp_executesql N'SELECT s.name AS source_schema, t.name AS source_name, ct.capture_instance FROM cdc.change_tables AS ct " +
          'JOIN sys.tables AS t ON t.object_id = ct.source_object_id JOIN sys.schemas AS s ON s.schema_id = t.schema_id ' +
          "ORDER BY s.name, t.name, ct.capture_instance;';",
      ].join('\n'),
    );
  });

  it('looks tables up by ordinal with quoted literals', () => {
    expect(
      readTablesSql([
        { schema: 'dbo', name: 'Invoice' },
        { schema: 'dbo', name: "it's" },
      ]),
    ).toBe(
      [
        'SELECT v.ordinal, s.name AS table_schema, t.name AS table_name,',
        '    CAST(CASE WHEN EXISTS (SELECT 1 FROM sys.indexes AS i WHERE i.object_id = t.object_id AND i.is_primary_key = 1) THEN 1 ELSE 0 END AS bit) AS has_primary_key',
        "FROM (VALUES (0, N'dbo', N'Invoice'), (1, N'dbo', N'it''s')) AS v (ordinal, requested_schema, requested_name)",
        'LEFT JOIN sys.schemas AS s ON s.name = v.requested_schema',
        'LEFT JOIN sys.tables AS t ON t.schema_id = s.schema_id AND t.name = v.requested_name',
        'ORDER BY v.ordinal;',
      ].join('\n'),
    );
    expect(codeOf(() => readTablesSql([]))).toBe('CONFIG_INVALID');
  });
});
