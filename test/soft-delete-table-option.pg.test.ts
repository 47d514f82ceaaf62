/**
 * Regression test for issue 10: a table whose YAML sets `options.soft_delete: true` under a sink
 * default of `false` got a soft-delete merge procedure from `cdc migrations apply`, and the first
 * `cdc run` replaced it with a hard-delete one (it named its migrations differently, so it did not
 * see the project's, and it did not know the table's option), so rows deleted on the source
 * vanished from the target instead of being flagged. Through the built CLI, on a throwaway
 * cluster, as a user runs it.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
let targetUrl: string;
let env: NodeJS.ProcessEnv;

async function rows(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
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
  cluster = await startThrowawayCluster({ label: 'soft-delete-option' });
  sourceUrl = await cluster.createDatabase('shop');
  targetUrl = await cluster.createDatabase('app_dev');
  env = { PG_DEV_HOST: '127.0.0.1', PG_DEV_PORT: String(cluster.port), PG_DEV_USER: 'postgres' };
  await cluster.psql('shop', [
    '-c',
    `CREATE TABLE public.account (id int PRIMARY KEY, owner text NOT NULL);
     CREATE TABLE public.note (id int PRIMARY KEY, body text);
     INSERT INTO public.account SELECT g, 'owner ' || g FROM generate_series(1, 3) g;
     INSERT INTO public.note SELECT g, 'note ' || g FROM generate_series(1, 3) g;`,
  ]);
  root = mkdtempSync(join(tmpdir(), 'cdc-soft-delete-'));
  config = join(root, 'cdc.yaml');
});
afterAll(async () => {
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('issue 10: per-table soft delete survives cdc run', () => {
  it('a row deleted on the source stays on the target flagged _cdc_deleted when its table YAML sets options.soft_delete: true under a sink default of false', async () => {
    expect((await runCli(['init', root, '--service', 'shop', '--dialect', 'postgresql'])).code).toBe(0);
    const template = readFileSync(config, 'utf8');
    expect(template).toMatch(/soft_delete: false/);
    writeFileSync(config, template.replace(/# source: .*\n/, `source: { url: "${sourceUrl}" }\n`).replace(/# target: .*\n/, `target: { url: "${targetUrl}" }\n`));
    await cdc(['schema', 'inspect', '--source', sourceUrl, '--service', 'shop', '--tables', 'public.account,public.note']);
    appendFileSync(join(root, 'schemas', 'shop', 'public', 'account.yaml'), 'options:\n  soft_delete: true\n');

    await cdc(['migrations', 'generate']);
    await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(await rows(targetUrl, "SELECT column_name FROM information_schema.columns WHERE table_name = 'account' AND column_name = '_cdc_deleted'")).toHaveLength(1);

    await cdc(['run', '--until-caught-up']);
    expect(await rows(targetUrl, 'SELECT count(*)::int AS n FROM public.account')).toEqual([{ n: 3 }]);

    await cluster.psql('shop', ['-c', 'DELETE FROM public.account WHERE id = 2; DELETE FROM public.note WHERE id = 2;']);
    await cdc(['run', '--until-caught-up']);

    expect(await rows(targetUrl, 'SELECT id, owner, _cdc_deleted AS deleted FROM public.account ORDER BY id')).toEqual([
      { id: 1, owner: 'owner 1', deleted: false },
      { id: 2, owner: 'owner 2', deleted: true },
      { id: 3, owner: 'owner 3', deleted: false },
    ]);
    // The sink default still holds for the table without the option: hard delete.
    expect(await rows(targetUrl, 'SELECT id FROM public.note ORDER BY id')).toEqual([{ id: 1 }, { id: 3 }]);
    // One record per unit: cdc run found what apply did under the names it uses itself.
    expect(await rows(targetUrl, 'SELECT name FROM cdc_management.migration_history ORDER BY name')).toEqual([
      { name: '00-infrastructure/001-management.sql' },
      { name: 'staging public.account' },
      { name: 'staging public.note' },
      { name: 'table public.account' },
      { name: 'table public.note' },
    ]);
  });
});
