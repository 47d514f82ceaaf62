/**
 * Deferred merge with separate roles (issue 11, item 18): the merge used to run
 * `EXECUTE format('CALL %s()', merge_control.merge_procedure)`, a column any staging writer had to
 * be able to write (the marking trigger ran as the writer), so a writer could have the merger run
 * any SQL. Now the procedure is derived from (schema_name, table_name), the marking trigger runs
 * as its owner, and a writer needs only USAGE on `cdc_staging` and INSERT on its staging table.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableId, TableSchema } from '../../schema/table.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../../testing/throwaway-cluster.js';
import { infrastructureSql } from './infrastructure.js';
import { mergeProcedureId, stagingTableId } from './naming.js';
import { tableMigrations } from './sink.js';
import { quoteTable } from '../../sql/quote.js';

const table = (id: TableId): TableSchema => ({
  id,
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'label', type: 'text', nullable: false, toastable: true },
  ],
  primaryKey: ['id'],
});
const A = table({ schema: 'public', name: 'a' });

let cluster: ThrowawayCluster;
let owner: pg.Client;
let writer: pg.Client;

/** A client connected as `role` (the throwaway cluster trusts local logins). */
async function connectAs(database: string, role: string): Promise<pg.Client> {
  const url = new URL(cluster.url(database));
  url.username = role;
  const client = new pg.Client(url.toString());
  await client.connect();
  return client;
}

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'deferred-roles' });
  await cluster.createDatabase('target');
  // cdc_owner runs cdc run / migrations apply; loader is an external writer of public.a only.
  await cluster.psql('target', [
    '-c',
    `CREATE ROLE cdc_owner LOGIN; GRANT CREATE ON DATABASE target TO cdc_owner; GRANT CREATE ON SCHEMA public TO cdc_owner;
     CREATE ROLE loader LOGIN; CREATE SCHEMA loader_own AUTHORIZATION loader;`,
  ]);
  owner = await connectAs('target', 'cdc_owner');
  await owner.query(infrastructureSql());
  for (const t of [A, table({ schema: 'public', name: 'b' })]) for (const m of tableMigrations(t, {})) await owner.query(m.sql);
  await owner.query(`GRANT USAGE ON SCHEMA cdc_staging TO loader; GRANT INSERT ON ${quoteTable(stagingTableId(A.id))} TO loader`);
  writer = await connectAs('target', 'loader');
});
afterAll(async () => {
  await writer?.end();
  await owner?.end();
  await cluster?.stop();
});

describe('a staging writer with INSERT on its staging table only', () => {
  it('stages rows that the merge then merges', async () => {
    await writer.query(`INSERT INTO cdc_staging."public.a" (id, label, _cdc_op, _cdc_position) VALUES (1, 'one', 'I', '\\x0101'), (2, 'two', 'I', '\\x0102')`);
    await owner.query('CALL cdc_management.trigger_pending_merges(0)');
    expect((await owner.query('SELECT id, label FROM public.a ORDER BY id')).rows).toEqual([
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ]);
  });

  it('cannot write merge_control, nor stage into another table, nor mark a table of its own', async () => {
    await expect(writer.query("UPDATE cdc_management.merge_control SET has_changes = true")).rejects.toThrow(/permission denied/);
    await expect(writer.query("INSERT INTO cdc_management.merge_control (schema_name, table_name) VALUES ('x', 'y')")).rejects.toThrow(/permission denied/);
    await expect(writer.query(`INSERT INTO cdc_staging."public.b" (id, label, _cdc_op, _cdc_position) VALUES (1, 'x', 'I', '\\x01')`)).rejects.toThrow(/permission denied/);
    await writer.query('CREATE TABLE loader_own.t (x int)');
    await expect(
      writer.query(`CREATE TRIGGER mark AFTER INSERT ON loader_own.t FOR EACH STATEMENT EXECUTE FUNCTION cdc_management.mark_staged('public', 'b', 'loader_own.evil')`),
    ).rejects.toThrow(/permission denied/);
  });
});

describe('merge_control.merge_procedure is never executed', () => {
  // Whoever could write the column (before: every staging writer) chose what the merger ran.
  // The merger here is the owner; a superuser merger (pg_cron) would run the same as itself.
  const injected = [
    ['a procedure of the writer', 'loader_own.evil'],
    ['a string that closes the call', `${quoteTable(mergeProcedureId(A.id))}(); CALL loader_own.evil(); CALL ${quoteTable(mergeProcedureId(A.id))}`],
  ] as const;

  it.each(injected)('%s', async (_what, value) => {
    await writer.query('CREATE TABLE IF NOT EXISTS loader_own.ran (who text)');
    await writer.query('GRANT INSERT, SELECT ON loader_own.ran TO PUBLIC; GRANT USAGE ON SCHEMA loader_own TO PUBLIC');
    await writer.query("CREATE OR REPLACE PROCEDURE loader_own.evil() LANGUAGE sql AS $$ INSERT INTO loader_own.ran VALUES (current_user) $$");
    await owner.query(`INSERT INTO cdc_staging."public.a" (id, label, _cdc_op, _cdc_position) VALUES (3, 'three', 'I', '\\x0103')`);
    // Written by a role that may (the owner): the value must not matter.
    await owner.query("UPDATE cdc_management.merge_control SET merge_procedure = $1 WHERE schema_name = 'public' AND table_name = 'a'", [value]);
    await owner.query('CALL cdc_management.trigger_pending_merges(0)');
    expect((await owner.query('SELECT count(*)::int AS n FROM loader_own.ran')).rows).toEqual([{ n: 0 }]);
    expect((await owner.query('SELECT label FROM public.a WHERE id = 3')).rows).toEqual([{ label: 'three' }]);
  });
});

describe('re-applying the infrastructure', () => {
  it('upgrades a target made before: the run_merge that took the procedure as text is dropped', async () => {
    await owner.query(
      "CREATE PROCEDURE cdc_management.run_merge(p_schema text, p_table text, p_procedure text, p_claimed_at timestamptz, p_last_change timestamptz, p_merged_by text) LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('CALL %s()', p_procedure); END $$",
    );
    await owner.query(infrastructureSql());
    const { rows } = await owner.query<{ old: string | null; mark: boolean; merge: boolean }>(
      `SELECT to_regprocedure('cdc_management.run_merge(text, text, text, timestamptz, timestamptz, text)')::text AS old,
              has_function_privilege('loader', 'cdc_management.mark_staged()', 'EXECUTE') AS mark,
              has_function_privilege('loader', 'cdc_management.merge_table(text, text)', 'EXECUTE') AS merge`,
    );
    expect(rows).toEqual([{ old: null, mark: false, merge: false }]);
  });
});
