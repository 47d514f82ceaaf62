import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { CdcError, isRetryable } from '../../errors.js';
import type { TableId } from '../../schema/table.js';
import type { CdcState, MssqlTableRef, TsqlStep } from './cdc-admin.js';
import {
  cleanCdc,
  connectMssql,
  describeMssqlTarget,
  enableCdc,
  explainMssqlConnectError,
  mssqlConnectionFromEnv,
  type MssqlConnectionOptions,
  type MssqlSession,
} from './client.js';

function caught(fn: () => unknown): CdcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CdcError) return error;
    throw error;
  }
  throw new Error('expected a CdcError');
}

describe('mssqlConnectionFromEnv', () => {
  it('reads MSSQL_URL, decoding user and password', () => {
    const options = mssqlConnectionFromEnv('dev', {
      MSSQL_URL: 'mssql://cdc%20admin:p%40ss%3Aw0rd@db.example:14330/Sales?encrypt=false&trustServerCertificate=true',
    });
    expect(options).toEqual({
      host: 'db.example',
      port: 14330,
      user: 'cdc admin',
      password: 'p@ss:w0rd',
      database: 'Sales',
      encrypt: false,
      trustServerCertificate: true,
    });
  });

  it('defaults the URL port to 1433 and unwraps an IPv6 host', () => {
    expect(mssqlConnectionFromEnv('dev', { MSSQL_URL: 'mssql://sa:pw@[::1]/cdc' })).toEqual({ host: '::1', port: 1433, user: 'sa', password: 'pw', database: 'cdc' });
  });

  it('lets MSSQL_URL win over per-environment variables', () => {
    const options = mssqlConnectionFromEnv('dev', { MSSQL_URL: 'mssql://sa:pw@url-host:1433/cdc', MSSQL_DEV_HOST: 'env-host' });
    expect(options.host).toBe('url-host');
  });

  it('rejects a malformed MSSQL_URL without showing the password', () => {
    for (const url of [
      'postgres://sa:secret@h/db',
      'mssql://sa:secret@h',
      'mssql://sa:secret@h:99999/db',
      'mssql://sa:secret@h/db?tls=1',
      'mssql://sa:secret@h/db?encrypt=maybe',
      'mssql://sa@h/db',
      'not a url secret',
    ]) {
      const error = caught(() => mssqlConnectionFromEnv('dev', { MSSQL_URL: url }));
      expect(error.code, url).toBe('CONFIG_INVALID');
      if (url.includes('://')) expect(error.message, url).not.toContain('secret');
    }
  });

  it('reads MSSQL_<ENV>_* with ENV upper-cased and non-alphanumerics as _', () => {
    const options = mssqlConnectionFromEnv('ci-east.2', {
      MSSQL_CI_EAST_2_HOST: 'sql.ci',
      MSSQL_CI_EAST_2_USER: 'sa',
      MSSQL_CI_EAST_2_PASSWORD: "it's",
      MSSQL_CI_EAST_2_DATABASE: 'cdc',
      MSSQL_CI_EAST_2_TRUST_SERVER_CERTIFICATE: 'true',
    });
    expect(options).toEqual({ host: 'sql.ci', port: 1433, user: 'sa', password: "it's", database: 'cdc', trustServerCertificate: true });
    expect(
      mssqlConnectionFromEnv('dev', { MSSQL_DEV_HOST: 'h', MSSQL_DEV_PORT: '1533', MSSQL_DEV_USER: 'u', MSSQL_DEV_PASSWORD: 'p', MSSQL_DEV_DATABASE: 'd', MSSQL_DEV_ENCRYPT: 'false' }),
    ).toEqual({ host: 'h', port: 1533, user: 'u', password: 'p', database: 'd', encrypt: false });
  });

  it('names every missing (or empty) variable and what to export', () => {
    const error = caught(() => mssqlConnectionFromEnv('prod', { MSSQL_PROD_HOST: 'h', MSSQL_PROD_USER: 'u', MSSQL_PROD_PASSWORD: '' }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('no SQL Server connection for --env prod: MSSQL_PROD_PASSWORD, MSSQL_PROD_DATABASE are not set');
    expect(error.remedy).toContain('export MSSQL_PROD_PASSWORD=… MSSQL_PROD_DATABASE=…');
    expect(error.remedy).toContain('MSSQL_URL=mssql://');
    expect(error.context).toEqual({ missing: ['MSSQL_PROD_PASSWORD', 'MSSQL_PROD_DATABASE'] });
  });

  it('rejects a bad port or flag and an environment name without letters or digits', () => {
    const base = { MSSQL_DEV_HOST: 'h', MSSQL_DEV_USER: 'u', MSSQL_DEV_PASSWORD: 'p', MSSQL_DEV_DATABASE: 'd' };
    expect(caught(() => mssqlConnectionFromEnv('dev', { ...base, MSSQL_DEV_PORT: '14x3' })).message).toContain('MSSQL_DEV_PORT');
    expect(caught(() => mssqlConnectionFromEnv('dev', { ...base, MSSQL_DEV_ENCRYPT: 'sure' })).message).toContain('MSSQL_DEV_ENCRYPT');
    expect(caught(() => mssqlConnectionFromEnv('--', {})).code).toBe('CONFIG_INVALID');
  });
});

describe('connectMssql', () => {
  async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    return port;
  }

  it('reports a closed port as CONNECTION_FAILED (retryable), naming host:port/database and not the password', async () => {
    const port = await freePort();
    const options: MssqlConnectionOptions = { host: '127.0.0.1', port, user: 'sa', password: 'Sup3r-secret', database: 'cdc', encrypt: false, connectTimeoutMs: 2000 };
    const started = Date.now();
    const error = await connectMssql(options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CdcError);
    const cdcError = error as CdcError;
    expect(cdcError.code).toBe('CONNECTION_FAILED');
    expect(cdcError.retryable).toBe(true);
    expect(isRetryable(cdcError)).toBe(true);
    expect(cdcError.message).toContain(`127.0.0.1:${port}/cdc`);
    expect(cdcError.message).not.toContain('Sup3r-secret');
    expect(JSON.stringify(cdcError.context)).not.toContain('Sup3r-secret');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('explainMssqlConnectError', () => {
  const options: MssqlConnectionOptions = { host: 'sql.example', user: 'cdc', password: 'pw', database: 'Sales' };
  const loginError = (message: string): Error => Object.assign(new Error(message), { code: 'ELOGIN' });

  it('tells a missing database (4060, reported before 18456) from a refused login', () => {
    const missing = explainMssqlConnectError(loginError("Login failed for user 'cdc'."), options, [4060, 18456]);
    expect(missing.code).toBe('DATABASE_NOT_FOUND');
    expect(missing.message).toContain('sql.example:1433/Sales');
    const refused = explainMssqlConnectError(loginError("Login failed for user 'cdc'."), options, [18456]);
    expect(refused.code).toBe('AUTHENTICATION_FAILED');
    expect(refused.retryable).toBe(false);
  });

  it('does not retry a refused TLS certificate, and says how to accept one', () => {
    const error = explainMssqlConnectError(Object.assign(new Error('Failed to connect to sql.example:1433 - self-signed certificate'), { code: 'ESOCKET' }), options, []);
    expect(error.code).toBe('CONNECTION_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.remedy).toContain('trustServerCertificate=true');
  });

  it('names IPv6 hosts in brackets', () => {
    expect(describeMssqlTarget({ ...options, host: '::1', port: 1533 })).toBe('[::1]:1533/Sales');
  });
});

/** An in-memory session: a catalog of tables, a CDC state, and a record of executed steps. */
function fakeSession(catalog: MssqlTableRef[], state: CdcState, messages: string[] = []): MssqlSession & { executed: TsqlStep[] } {
  const executed: TsqlStep[] = [];
  return {
    target: 'fake:1433/db',
    executed,
    readCdcState: async () => state,
    readTables: async (tables: readonly TableId[]) =>
      tables.map((t) => {
        const found = catalog.find((c) => c.schema.toLowerCase() === t.schema.toLowerCase() && c.name.toLowerCase() === t.name.toLowerCase());
        if (!found) throw new CdcError('TABLE_NOT_FOUND', `no table ${t.schema}.${t.name}`);
        return found;
      }),
    execute: async (step) => {
      executed.push(step);
      return messages;
    },
    close: async () => undefined,
  };
}

describe('enableCdc and cleanCdc', () => {
  const catalog: MssqlTableRef[] = [
    { schema: 'dbo', name: 'Invoice', hasPrimaryKey: true },
    { schema: 'dbo', name: 'AuditLog', hasPrimaryKey: false },
  ];

  it('prints the script in a dry run and executes nothing', async () => {
    const session = fakeSession(catalog, { databaseEnabled: true, tracked: [] });
    const lines: string[] = [];
    const plan = await enableCdc(session, [{ schema: 'dbo', name: 'auditlog' }], { dryRun: true, log: (line) => lines.push(line) });
    expect(session.executed).toEqual([]);
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]!.sql).toContain("@source_name = N'AuditLog', @role_name = NULL, @supports_net_changes = 0;"); // catalog spelling, key from the catalog
    expect(lines[0]).toBe('-- enable CDC on [dbo].[AuditLog] (no primary key: all changes only, no net changes)');
    expect(lines.at(-1)).toBe('GO');
  });

  it('executes the steps in order and logs descriptions, skips and server messages', async () => {
    const session = fakeSession(
      catalog,
      { databaseEnabled: false, tracked: [{ schema: 'dbo', name: 'Invoice', captureInstance: 'dbo_Invoice' }] },
      ['SQLServerAgent is not currently running so it cannot be notified of this action.'],
    );
    const lines: string[] = [];
    const plan = await enableCdc(session, catalog, { dryRun: false, log: (line) => lines.push(line) });
    expect(session.executed.map((s) => s.description)).toEqual(['enable CDC on the database', 'enable CDC on [dbo].[AuditLog] (no primary key: all changes only, no net changes)']);
    expect(plan.skipped).toEqual(['[dbo].[Invoice]: already tracked by CDC (capture instance dbo_Invoice)']);
    expect(lines).toEqual([
      'skip: [dbo].[Invoice]: already tracked by CDC (capture instance dbo_Invoice)',
      'enable CDC on the database',
      '  SQLServerAgent is not currently running so it cannot be notified of this action.',
      'enable CDC on [dbo].[AuditLog] (no primary key: all changes only, no net changes)',
      '  SQLServerAgent is not currently running so it cannot be notified of this action.',
    ]);
  });

  it('cleans with the default of 3 days and checks days before touching the server', async () => {
    const session = fakeSession(catalog, { databaseEnabled: true, tracked: [{ schema: 'dbo', name: 'Invoice', captureInstance: 'dbo_Invoice' }] });
    const plan = await cleanCdc(session, 'all', { dryRun: false, log: () => undefined });
    expect(session.executed).toHaveLength(1);
    expect(plan.steps[0]!.sql).toContain('DATEADD(day, -3, GETDATE())');
    const failing = { ...session, readTables: () => Promise.reject(new Error('must not be called')) };
    await expect(cleanCdc(failing, [{ schema: 'dbo', name: 'Invoice' }], { days: -2, dryRun: true, log: () => undefined })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
