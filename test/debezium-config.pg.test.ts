/**
 * `cdc debezium config` (issue 15, item 7) against a throwaway PostgreSQL: the connector JSON for
 * the selected tables, and the source checks that refuse to write it (exit 2, each problem named
 * with what to do): a keyless table without REPLICA IDENTITY FULL, a role without REPLICATION,
 * a publication the role may not create, a slot in use by another plugin. The connector the
 * Kafka Connect tests run (test/debezium-connect.pg.test.ts) is the one this command writes.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli } from './support/cli.js';
import { sql } from './support/sql.js';

let cluster: ThrowawayCluster;
let dir: string;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'debezium-config' });
  dir = mkdtempSync(join(tmpdir(), 'cdc-debezium-config-'));
});
afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cdc debezium config', () => {
  it('writes the connector JSON for the selected tables', async () => {
    const url = await cluster.createDatabase('shop');
    await sql(url, `CREATE TABLE orders (id int PRIMARY KEY); CREATE TABLE "Odd.Name" (id int PRIMARY KEY); CREATE TABLE audit (at timestamptz, actor text); ALTER TABLE audit REPLICA IDENTITY FULL; CREATE SCHEMA other; CREATE TABLE other.skip (id int PRIMARY KEY)`);
    const withPassword = url.replace('postgres://postgres@', 'postgres://postgres:s3cret@');
    const r = await runCli(['debezium', 'config', '--source', withPassword, '--tables', 'public.*', '--name', 'shop']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { name: string; config: Record<string, string> };
    expect(json.name).toBe('shop');
    expect(json.config).toMatchObject({
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'plugin.name': 'pgoutput',
      'database.hostname': '127.0.0.1',
      'database.port': String(cluster.port),
      'database.user': 'postgres',
      'database.password': 's3cret',
      'database.dbname': 'shop',
      'topic.prefix': 'shop',
      'table.include.list': 'public\\.Odd\\.Name,public\\.audit,public\\.orders',
      'slot.name': 'debezium_shop',
      'publication.name': 'debezium_shop',
      'provide.transaction.metadata': 'true',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
    });
    // To a file, readable by its owner only (it holds the password).
    const file = join(dir, 'shop.json');
    const w = await runCli(['debezium', 'config', '--source', withPassword, '--tables', 'public.orders', '--name', 'shop', '--output', file]);
    expect(w.code, w.stderr).toBe(0);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { config: Record<string, string> }).config['table.include.list']).toBe('public\\.orders');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a source the connector would fail on, naming each problem with what to do (exit 2)', async () => {
    const url = await cluster.createDatabase('unready');
    await sql(url, `
      CREATE TABLE keyless (a int, b text);
      CREATE TABLE keyed (id int PRIMARY KEY);
      CREATE ROLE reader LOGIN;
      GRANT SELECT ON keyed TO reader;
    `);
    await sql(url, `SELECT pg_create_logical_replication_slot('debezium_unready', 'test_decoding')`);
    const r = await runCli(['debezium', 'config', '--source', url, '--name', 'unready']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: table public.keyless has no primary key and replica identity DEFAULT');
    expect(r.stderr).toContain('what to do: ALTER TABLE "public"."keyless" REPLICA IDENTITY FULL');
    expect(r.stderr).toContain('error: replication slot debezium_unready exists for test_decoding');
    expect(r.stderr).toMatch(/SOURCE_NOT_READY/);

    // Another role: no REPLICATION, no SELECT on one table, not the owner (no publication).
    const asReader = url.replace('postgres://postgres@', 'postgres://reader@');
    const other = await runCli(['debezium', 'config', '--source', asReader, '--tables', 'public.keyed,public.keyless', '--name', 'other']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('role reader may not stream changes (no REPLICATION attribute)');
    expect(other.stderr).toContain('what to do: ALTER ROLE "reader" REPLICATION');
    expect(other.stderr).toContain('role reader may not read public.keyless');
    expect(other.stderr).toContain('publication debezium_other does not exist, and role reader may not create it');

    // --no-check writes it anyway; no table at all is refused.
    const forced = await runCli(['debezium', 'config', '--source', url, '--name', 'unready', '--no-check']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ name: 'unready' });
    const none = await runCli(['debezium', 'config', '--source', url, '--tables', 'nope.*']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/NO_TABLES/);
    await sql(url, `SELECT pg_drop_replication_slot('debezium_unready')`);
  });
});
