/**
 * `cdc run --config cdc.yaml` in a project (issue #3, item 9): the tables come from the YAML
 * definitions that `cdc schema inspect` wrote, the target tables from the generated migrations
 * (applied by the run itself), with the sink's snake_case naming and schema map; the stream then
 * follows source changes, including an ADD COLUMN, under the mapped names.
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
let targetUrl: string;

async function rows(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'project-run' });
  sourceUrl = await cluster.createDatabase('shop');
  targetUrl = await cluster.createDatabase('shop_copy');
  await cluster.psql('shop', [
    '-c',
    `CREATE SCHEMA "Sales";
     CREATE TABLE "Sales"."Customer" ("CustomerId" int PRIMARY KEY, "FirstName" varchar(40) NOT NULL, "Notes" text);
     CREATE TABLE "Sales"."OrderLine" ("OrderId" int, "LineNo" int, "Amount" numeric(10,2) NOT NULL, PRIMARY KEY ("OrderId", "LineNo"));
     CREATE TABLE "Sales"."Ignored" (id int PRIMARY KEY);
     INSERT INTO "Sales"."Customer" SELECT g, 'name ' || g, repeat('x', g) FROM generate_series(1, 50) g;
     INSERT INTO "Sales"."OrderLine" SELECT g / 3, g % 3, g * 1.25 FROM generate_series(1, 90) g;`,
  ]);
  root = mkdtempSync(join(tmpdir(), 'cdc-project-run-'));
  config = join(root, 'cdc.yaml');
});
afterAll(async () => {
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('cdc run in a project', () => {
  it('inspect → generate → run: defined tables land under the sink names, migrations applied by the run', async () => {
    expect((await runCli(['init', root, '--service', 'shop', '--dialect', 'postgresql'])).code).toBe(0);
    writeFileSync(
      config,
      readFileSync(config, 'utf8')
        .replace('      dbo: public', '      Sales: sales')
        .replace(/# source: .*\n/, `source: { url: "${sourceUrl}" }\n`)
        .replace(/# target: .*\n/, 'target: { url: "${CDC_TEST_TARGET}" }\n'),
    );
    const inspect = await runCli(['schema', 'inspect', '--source', sourceUrl, '--service', 'shop', '--tables', 'Sales.Customer,Sales.OrderLine', '--config', config]);
    expect(inspect.stderr).toBe('');
    expect(inspect.code).toBe(0);
    expect(readFileSync(join(root, 'schemas', 'shop', 'Sales', 'Customer.yaml'), 'utf8')).toMatch(/name: FirstName\n\s+type: character varying\(40\)\n\s+nullable: false/);
    expect((await runCli(['migrations', 'generate', '--config', config])).code).toBe(0);

    const run = await runCli(['run', '--config', config, '--until-caught-up'], { CDC_TEST_TARGET: targetUrl });
    expect(run.code, run.stderr).toBe(0);
    // One naming scheme (issue 10): the run found the tables' units applied by the migrations
    // under the names it uses itself, and added no row of its own.
    expect(await rows(targetUrl, 'SELECT name FROM cdc_management.migration_history ORDER BY name')).toEqual([
      { name: '00-infrastructure/001-management.sql' },
      { name: 'staging sales.customer' },
      { name: 'staging sales.order_line' },
      { name: 'table sales.customer' },
      { name: 'table sales.order_line' },
    ]);
    expect(await rows(targetUrl, "SELECT count(*)::int AS n FROM sales.customer")).toEqual([{ n: 50 }]);
    expect(await rows(targetUrl, "SELECT to_regclass('sales.ignored') AS t")).toEqual([{ t: null }]);
  });

  it('streams changes, including an ADD COLUMN, under the mapped names', async () => {
    await cluster.psql('shop', [
      '-c',
      `UPDATE "Sales"."Customer" SET "Notes" = 'changed' WHERE "CustomerId" <= 5;
       DELETE FROM "Sales"."Customer" WHERE "CustomerId" = 50;
       ALTER TABLE "Sales"."Customer" ADD COLUMN "LastName" text;
       INSERT INTO "Sales"."Customer" VALUES (51, 'new', NULL, 'Doe');
       UPDATE "Sales"."OrderLine" SET "Amount" = "Amount" + 1 WHERE "OrderId" = 7;`,
    ]);
    const run = await runCli(['run', '--config', config, '--until-caught-up'], { CDC_TEST_TARGET: targetUrl });
    expect(run.code, run.stderr).toBe(0);
    const source = await rows(sourceUrl, 'SELECT "CustomerId" AS id, "FirstName" AS first, "Notes" AS notes, "LastName" AS last FROM "Sales"."Customer" ORDER BY 1');
    const target = await rows(targetUrl, 'SELECT customer_id AS id, first_name AS first, notes, last_name AS last FROM sales.customer ORDER BY 1');
    expect(target).toEqual(source);
    const sourceLines = await rows(sourceUrl, 'SELECT "OrderId" AS o, "LineNo" AS l, "Amount"::text AS a FROM "Sales"."OrderLine" ORDER BY 1, 2');
    expect(await rows(targetUrl, 'SELECT order_id AS o, line_no AS l, amount::text AS a FROM sales.order_line ORDER BY 1, 2')).toEqual(sourceLines);
  });
});
