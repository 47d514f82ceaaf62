/**
 * Issue 11 item 11: rows an external writer committed into staging must survive a crash of the
 * target before they are merged. A project's staging tables are LOGGED by default (the sink's
 * `staging: logged | unlogged`, read by `cdc migrations` and by `cdc run` through the one DDL
 * assembler); UNLOGGED staging is emptied by crash recovery. Through the built CLI, on a real
 * cluster crashed with `pg_ctl stop -m immediate`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli } from './support/cli.js';

let cluster: ThrowawayCluster;
let root: string;
let config: string;
let sourceUrl: string;
let env: NodeJS.ProcessEnv;

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const cdc = async (args: string[]) => {
  const r = await runCli([...args, '--config', config], env);
  expect(r.code, `cdc ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
  return r;
};

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'staging-crash' });
  sourceUrl = await cluster.createDatabase('shop');
  env = { PG_DEV_HOST: '127.0.0.1', PG_DEV_PORT: String(cluster.port), PG_DEV_USER: 'postgres' };
  await cluster.psql('shop', ['-c', 'CREATE TABLE public.orders (id int PRIMARY KEY, total numeric(10,2))']);
  root = mkdtempSync(join(tmpdir(), 'cdc-staging-crash-'));
  config = join(root, 'cdc.yaml');
  expect((await runCli(['init', root, '--service', 'shop', '--dialect', 'postgresql'])).code).toBe(0);
  await cdc(['schema', 'inspect', '--source', sourceUrl, '--service', 'shop', '--tables', 'public.orders']);
});
afterAll(async () => {
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Applies the project's migrations to a fresh database with the sink's `staging:` setting, stages 3 rows, crashes, merges. */
async function stageCrashAndMerge(database: string, staging: 'logged' | 'unlogged' | undefined): Promise<{ persistence: string; merged: number }> {
  const url = await cluster.createDatabase(database);
  const template = readFileSync(config, 'utf8').replace(/database: \w+/g, `database: ${database}`);
  const withStaging = staging ? template.replace(/\n {4}staging: logged/, `\n    staging: ${staging}`) : template;
  writeFileSync(config, withStaging);
  await cdc(['migrations', 'generate']);
  await cdc(['migrations', 'apply', '--env', 'dev']);
  const [{ persistence }] = (await query<{ persistence: string }>(url, `SELECT relpersistence AS persistence FROM pg_class WHERE oid = 'cdc_staging."public.orders"'::regclass`)) as [{ persistence: string }];
  // An external writer commits three rows (synchronously: the commit is on disk when it returns).
  await query(url, `SET synchronous_commit = on;
    INSERT INTO cdc_staging."public.orders" (id, total, _cdc_op, _cdc_position) SELECT g, g * 1.5, 'I', cdc_management.row_position(1, g) FROM generate_series(1, 3) g`);
  await cluster.restart('immediate');
  await query(url, `CALL cdc_management.manual_merge('public', 'orders')`);
  const [{ merged }] = (await query<{ merged: number }>(url, 'SELECT count(*)::int AS merged FROM public.orders')) as [{ merged: number }];
  return { persistence, merged };
}

describe('deferred mode: staged rows survive a target crash (issue 11 item 11)', () => {
  it('a project sink stages into LOGGED tables by default: committed rows are merged after the crash', async () => {
    expect(readFileSync(config, 'utf8')).toMatch(/\n {4}staging: logged/);
    expect(await stageCrashAndMerge('logged_dev', undefined)).toEqual({ persistence: 'p', merged: 3 });
  });

  it("staging: unlogged is the sink's choice, and then a crash empties staging (as the README says)", async () => {
    expect(await stageCrashAndMerge('unlogged_dev', 'unlogged')).toEqual({ persistence: 'u', merged: 0 });
  });
});
