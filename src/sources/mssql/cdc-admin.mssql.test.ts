/**
 * enable-cdc and clean-cdc against a real SQL Server. Runs only when MSSQL_URL is set, e.g.
 *   MSSQL_URL='mssql://sa:Passw0rd!@localhost:1433/cdc_test?trustServerCertificate=true'
 * Needs: an edition with CDC (Developer, Enterprise, Standard; e.g. the
 * mcr.microsoft.com/mssql/server:2022-latest image, ideally with MSSQL_AGENT_ENABLED=true), an
 * existing database, and a sysadmin login (sys.sp_cdc_enable_db requires it).
 * Creates uniquely named tables in dbo and removes them (and their capture instances) after;
 * disables CDC on the database again if it was off before the test.
 */
import mssql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableId } from '../../schema/table.js';
import { quoteTsqlIdentifier, quoteTsqlString } from './cdc-admin.js';
import { cleanCdc, connectMssql, enableCdc, mssqlConnectionFromEnv, type MssqlConnectionOptions, type MssqlSession } from './client.js';

const suffix = `${Date.now().toString(36)}_${process.pid}`;
const keyed: TableId = { schema: 'dbo', name: `cdc_merge_keyed_${suffix}` };
const keyless: TableId = { schema: 'dbo', name: `cdc_merge_keyless_${suffix}` };
const odd: TableId = { schema: 'dbo', name: `cdc merge o'dd ${suffix}` };
const ALL = [keyed, keyless, odd];

const qualified = (t: TableId): string => `${quoteTsqlIdentifier(t.schema)}.${quoteTsqlIdentifier(t.name)}`;

describe.skipIf(!process.env.MSSQL_URL)('SQL Server CDC administration (needs MSSQL_URL, sysadmin, a CDC-capable edition)', () => {
  let options: MssqlConnectionOptions;
  let session: MssqlSession;
  /** A separate connection for setup and for checking results independently of the code under test. */
  let check: mssql.ConnectionPool;
  let databaseWasEnabled = false;

  async function tracking(table: TableId): Promise<{ tracked: boolean; netChanges: boolean[] }> {
    const result = await check
      .request()
      .input('schema', mssql.NVarChar(128), table.schema)
      .input('name', mssql.NVarChar(128), table.name)
      .query<{ is_tracked_by_cdc: boolean }>(
        'SELECT t.is_tracked_by_cdc FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE s.name = @schema AND t.name = @name',
      );
    const tracked = result.recordset[0]?.is_tracked_by_cdc === true;
    if (!tracked) return { tracked, netChanges: [] };
    const instances = await check
      .request()
      .input('table', mssql.NVarChar(300), qualified(table))
      .query<{ supports_net_changes: boolean }>('SELECT supports_net_changes FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(@table)');
    return { tracked, netChanges: instances.recordset.map((r) => r.supports_net_changes) };
  }

  beforeAll(async () => {
    options = { ...mssqlConnectionFromEnv('test'), connectTimeoutMs: 30_000 };
    session = await connectMssql(options);
    check = await new mssql.ConnectionPool({
      server: options.host,
      port: options.port ?? 1433,
      user: options.user,
      password: options.password,
      database: options.database,
      options: { encrypt: options.encrypt ?? true, trustServerCertificate: options.trustServerCertificate ?? false },
    }).connect();
    databaseWasEnabled = (await session.readCdcState()).databaseEnabled;
    await check.batch(
      [
        `CREATE TABLE ${qualified(keyed)} (id int NOT NULL PRIMARY KEY, note nvarchar(50) NULL);`,
        `CREATE TABLE ${qualified(keyless)} (id int NOT NULL, note nvarchar(50) NULL);`,
        `CREATE TABLE ${qualified(odd)} (id int NOT NULL PRIMARY KEY);`,
      ].join('\n'),
    );
  });

  afterAll(async () => {
    if (check) {
      for (const table of ALL) {
        const schema = quoteTsqlString(table.schema);
        const name = quoteTsqlString(table.name);
        await check
          .batch(
            [
              `IF EXISTS (SELECT 1 FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE s.name = ${schema} AND t.name = ${name} AND t.is_tracked_by_cdc = 1)`,
              `    EXEC sys.sp_cdc_disable_table @source_schema = ${schema}, @source_name = ${name}, @capture_instance = N'all';`,
              `DROP TABLE IF EXISTS ${qualified(table)};`,
            ].join('\n'),
          )
          .catch((error: unknown) => console.error(`cleanup of ${qualified(table)} failed:`, error));
      }
      if (!databaseWasEnabled) {
        await check.batch('IF EXISTS (SELECT 1 FROM sys.databases WHERE name = DB_NAME() AND is_cdc_enabled = 1) EXEC sys.sp_cdc_disable_db;').catch((error: unknown) => console.error('disabling CDC on the database failed:', error));
      }
      await check.close();
    }
    await session?.close();
  });

  it('changes nothing in a dry run', async () => {
    const lines: string[] = [];
    const plan = await enableCdc(session, [keyed], { dryRun: true, log: (line) => lines.push(line) });
    expect(plan.steps.at(-1)!.sql).toContain(`@source_name = ${quoteTsqlString(keyed.name)}, @role_name = NULL, @supports_net_changes = 1;`);
    expect(lines).toContain('GO');
    expect(await tracking(keyed)).toEqual({ tracked: false, netChanges: [] });
  });

  it('enables the database and tables once; a second run skips them', async () => {
    const log: string[] = [];
    const first = await enableCdc(session, [keyed, keyless], { dryRun: false, log: (line) => log.push(line) });
    expect(first.skipped).toEqual([]);
    expect(first.steps.map((s) => s.description).slice(-2)).toEqual([
      `enable CDC on [dbo].[${keyed.name}] (net changes)`,
      `enable CDC on [dbo].[${keyless.name}] (no primary key: all changes only, no net changes)`,
    ]);
    expect(first.steps).toHaveLength(databaseWasEnabled ? 2 : 3);
    expect(await tracking(keyed)).toEqual({ tracked: true, netChanges: [true] });
    expect(await tracking(keyless)).toEqual({ tracked: true, netChanges: [false] });

    const second = await enableCdc(session, [keyed, keyless], { dryRun: false, log: () => undefined });
    expect(second.steps).toEqual([]);
    expect(second.skipped).toEqual([
      `[dbo].[${keyed.name}]: already tracked by CDC (capture instance dbo_${keyed.name})`,
      `[dbo].[${keyless.name}]: already tracked by CDC (capture instance dbo_${keyless.name})`,
    ]);
    const state = await session.readCdcState();
    expect(state.databaseEnabled).toBe(true);
    expect(state.tracked).toEqual(
      expect.arrayContaining([
        { schema: 'dbo', name: keyed.name, captureInstance: `dbo_${keyed.name}` },
        { schema: 'dbo', name: keyless.name, captureInstance: `dbo_${keyless.name}` },
      ]),
    );
  });

  it('cleans the change tables (or says nothing is old enough)', async () => {
    await check.batch(`INSERT INTO ${qualified(keyed)} (id, note) VALUES (1, N'a'), (2, N'b'); INSERT INTO ${qualified(keyless)} (id) VALUES (1);`);
    const log: string[] = [];
    const plan = await cleanCdc(session, [keyed, keyless], { days: 0, dryRun: false, log: (line) => log.push(line) });
    expect(plan.skipped).toEqual([]);
    expect(plan.steps).toHaveLength(2);
    expect(log[0]).toBe(`clean [dbo].[${keyed.name}] (capture instance dbo_${keyed.name}): delete changes older than 0 days`);
    const all = await cleanCdc(session, 'all', { dryRun: false, log: () => undefined });
    expect(all.steps.length).toBeGreaterThanOrEqual(2);
  });

  it('handles a table name with spaces and a quote', async () => {
    const plan = await enableCdc(session, [{ schema: 'dbo', name: odd.name }], { dryRun: false, log: () => undefined });
    expect(plan.steps.at(-1)!.description).toBe(`enable CDC on ${qualified(odd)} (net changes)`);
    expect(await tracking(odd)).toEqual({ tracked: true, netChanges: [true] });
    const cleaned = await cleanCdc(session, [odd], { days: 1, dryRun: false, log: () => undefined });
    expect(cleaned.steps).toHaveLength(1);
  });

  it('reports tables that do not exist', async () => {
    await expect(enableCdc(session, [{ schema: 'dbo', name: `no_such_table_${suffix}` }], { dryRun: true, log: () => undefined })).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
    });
  });
});
