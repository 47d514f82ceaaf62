/**
 * One `migration_history` naming scheme for `cdc run` and `cdc migrations apply` (issue 10), and
 * targets whose history an earlier version wrote under two schemes: `apply` recorded a table's
 * files by path (`01-tables/account.sql`), `cdc run` its objects by name (`table public.account`,
 * `staging …`, `staging trigger …`, `merge procedure …`, `schema public`). The earlier records are
 * reproduced by hand from what that version wrote; `apply` must rename them in place, once, never
 * re-create a table, and restore a merge procedure that `cdc run` had replaced.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../src/schema/table.js';
import { mergeProcedureSql } from '../src/sinks/postgres/merge-procedure.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli } from './support/cli.js';

const account: TableSchema = {
  id: { schema: 'public', name: 'account' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'owner', type: 'text', nullable: false, toastable: true },
  ],
  primaryKey: ['id'],
};

let cluster: ThrowawayCluster;
let root: string;
let config: string;
let sourceUrl: string;
let env: NodeJS.ProcessEnv;

async function query(database: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const cdc = (args: string[]) => runCli([...args, '--config', config], env);
const dir = () => join(root, 'migrations', 'postgres');
const body = (path: string) => readFileSync(join(dir(), path), 'utf8').split('\n\n').slice(1).join('\n\n');
const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const history = (database: string) => query(database, 'SELECT name, kind FROM cdc_management.migration_history ORDER BY name');
const isSoftDelete = async (database: string) =>
  (await query(database, `SELECT prosrc ~ '"_cdc_deleted" = true' AS soft FROM pg_proc WHERE proname = 'sp_merge_public.account'`))[0]!.soft;

/** Records of the previous version, as its `cdc run` left them next to `apply`'s (see the module comment). */
async function previousVersionRecords(database: string, withPathRows: boolean): Promise<void> {
  const h = 'cdc_management.migration_history';
  if (withPathRows) {
    await query(database, `UPDATE ${h} SET name = '01-tables/account.sql' WHERE name = 'table public.account'`);
    await query(database, `UPDATE ${h} SET name = '01-tables/account-staging.sql' WHERE name = 'staging public.account'`);
  }
  const rows: [string, string, string][] = [
    ['schema public', 'repeatable', sha('CREATE SCHEMA IF NOT EXISTS "public"')],
    ['table public.account', 'table', sha(body('01-tables/account.sql').replace(/\n$/, ''))],
    ['staging public.account', 'table', sha('CREATE UNLOGGED TABLE …')],
    ['staging trigger public.account', 'repeatable', sha('DROP TRIGGER …')],
    ['merge procedure public.account', 'repeatable', sha('CREATE OR REPLACE PROCEDURE …')],
  ];
  for (const [name, kind, checksum] of rows) {
    await query(database, `INSERT INTO ${h} (name, kind, checksum, success) VALUES ($1, $2, $3, true) ON CONFLICT (name) DO NOTHING`, [name, kind, checksum]);
  }
  // That `cdc run` replaced the project's soft-delete procedure with its own, hard-delete one.
  await query(database, mergeProcedureSql(account, { softDelete: false }));
  // And a manifest without history names, as that version wrote it.
  const manifest = join(dir(), 'manifest.yaml');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/^ {4}history_name: .*\n/gm, ''));
}

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'history-names' });
  sourceUrl = await cluster.createDatabase('shop');
  await cluster.createDatabase('app_dev');
  env = { PG_DEV_HOST: '127.0.0.1', PG_DEV_PORT: String(cluster.port), PG_DEV_USER: 'postgres', PG_CI_HOST: '127.0.0.1', PG_CI_PORT: String(cluster.port), PG_CI_USER: 'postgres' };
  await cluster.psql('shop', ['-c', 'CREATE TABLE public.account (id int PRIMARY KEY, owner text NOT NULL); CREATE TABLE public.note (id int PRIMARY KEY, body text);']);
  root = mkdtempSync(join(tmpdir(), 'cdc-history-'));
  config = join(root, 'cdc.yaml');
  expect((await runCli(['init', root, '--service', 'shop', '--dialect', 'postgresql'])).code).toBe(0);
  writeFileSync(config, readFileSync(config, 'utf8').replace('environments:\n', 'environments:\n  ci:\n    database: app_ci\n'));
  expect((await cdc(['schema', 'inspect', '--source', sourceUrl, '--service', 'shop', '--tables', 'public.account,public.note'])).code).toBe(0);
  writeFileSync(join(root, 'schemas', 'shop', 'public', 'account.yaml'), `${readFileSync(join(root, 'schemas', 'shop', 'public', 'account.yaml'), 'utf8')}options:\n  soft_delete: true\n`);
  expect((await cdc(['migrations', 'generate'])).code).toBe(0);
});
afterAll(async () => {
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('one migration_history naming scheme', () => {
  it('apply records a table as its units, `table …` and `staging …`, the names cdc run uses', async () => {
    const apply = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/applied 01-tables\/account\.sql/);
    expect(await history('app_dev')).toEqual([
      { name: '00-infrastructure/001-management.sql', kind: 'infrastructure' },
      { name: 'staging public.account', kind: 'repeatable' },
      { name: 'staging public.note', kind: 'repeatable' },
      { name: 'table public.account', kind: 'table' },
      { name: 'table public.note', kind: 'table' },
    ]);
    expect(readFileSync(join(dir(), 'manifest.yaml'), 'utf8')).toMatch(/- path: 01-tables\/account\.sql\n(?: {4}.*\n)* {4}history_name: table public\.account\n/);
  });

  it("renames an earlier version's records in place, once, and restores the merge procedure cdc run had replaced", async () => {
    await query('app_dev', 'INSERT INTO public.account (id, owner) VALUES (1, $1)', ['kept']);
    await previousVersionRecords('app_dev', true);
    expect(await isSoftDelete('app_dev')).toBe(false);
    const apply = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/re-applied 01-tables\/account-staging\.sql/);
    expect(apply.stdout).not.toMatch(/01-tables\/account\.sql|note/);
    expect(await isSoftDelete('app_dev')).toBe(true);
    expect(await history('app_dev')).toEqual([
      { name: '00-infrastructure/001-management.sql', kind: 'infrastructure' },
      { name: 'staging public.account', kind: 'repeatable' },
      { name: 'staging public.note', kind: 'repeatable' },
      { name: 'table public.account', kind: 'table' },
      { name: 'table public.note', kind: 'table' },
    ]);
    expect(await query('app_dev', 'SELECT owner FROM public.account')).toEqual([{ owner: 'kept' }]);
    const again = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(again.stdout).toMatch(/every migration is applied/);
    const status = await cdc(['migrations', 'status', '--env', 'dev']);
    expect(status.code, status.stdout).toBe(0);
  });

  it('a table cdc run created before the project (same DDL) is taken as applied, not refused as changed', async () => {
    await cluster.createDatabase('app_ci');
    expect((await cdc(['migrations', 'apply', '--env', 'ci'])).code).toBe(0);
    // As an earlier cdc run left it: only its own records, none by path.
    await query('app_ci', "DELETE FROM cdc_management.migration_history WHERE name LIKE 'table %' OR name LIKE 'staging %'");
    await previousVersionRecords('app_ci', false);
    const apply = await cdc(['migrations', 'apply', '--env', 'ci']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).not.toMatch(/01-tables\/account\.sql/);
    expect(apply.stdout).toMatch(/re-applied 01-tables\/account-staging\.sql/);
    expect(await isSoftDelete('app_ci')).toBe(true);
    expect((await history('app_ci')).map((r) => r.name)).toEqual([
      '00-infrastructure/001-management.sql',
      'staging public.account',
      'staging public.note',
      'table public.account',
      'table public.note',
    ]);
  });

  it('a dropped table stays dropped: its base file keeps its history name after its state is gone', async () => {
    unlinkSync(join(root, 'schemas', 'shop', 'public', 'note.yaml'));
    const write = await cdc(['migrations', 'diff', '--write', '--allow-destructive']);
    expect(write.stdout).toMatch(/wrote 02-changes\/0001-note\.sql/);
    expect(readFileSync(join(dir(), 'manifest.yaml'), 'utf8')).toMatch(/- path: 01-tables\/note\.sql\n(?: {4}.*\n)* {4}history_name: table public\.note\n/);
    const apply = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/applied 02-changes\/0001-note\.sql/);
    expect(await query('app_dev', "SELECT to_regclass('public.note') AS t")).toEqual([{ t: null }]);
    const again = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(again.stdout).toMatch(/every migration is applied/);
    expect(await query('app_dev', "SELECT to_regclass('public.note') AS t")).toEqual([{ t: null }]);
  });
});
