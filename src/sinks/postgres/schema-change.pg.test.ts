/**
 * Schema changes applied on a real PostgreSQL to tables that hold data, followed by merges that
 * use the new shape. Each test gets a fresh database.
 */
import pg from 'pg';
import { encodePosition } from '../../events/position.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../../testing/throwaway-cluster.js';
import { infrastructureSql } from './infrastructure.js';
import { mergeProcedureSql } from './merge-procedure.js';
import { mergeProcedureId, stagingTableId } from './naming.js';
import { SchemaChangeError, type SchemaChangePolicy } from './schema-change.js';
import { finalTableSql, stagingColumns, stagingTableSql } from './table-ddl.js';
import { tableChangeDdl } from './table-change-ddl.js';
import { readTargetTables } from './target-catalog.js';

const customers: TableSchema = {
  id: { schema: 'Sales', name: 'Customer' },
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'name', type: 'text', nullable: false, toastable: true },
    { name: 'points', type: 'integer', nullable: true, toastable: false },
  ],
};

const applyAll: SchemaChangePolicy = { drop: 'apply', typeChange: 'apply' };

/** The statements `cdc run` runs for a change, planned from the final table as it is. */
async function plan(before: TableSchema, after: TableSchema, policy: SchemaChangePolicy) {
  const [current] = await readTargetTables(client, [after.id]);
  return tableChangeDdl({ before, after, policy, ...(current ? { current } : {}) });
}

let cluster: ThrowawayCluster;
let client: pg.Client;
let databases = 0;

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'schema-change' });
});
afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

beforeEach(async () => {
  await client?.end();
  client = new pg.Client(await cluster.createDatabase(`schema_${++databases}`));
  await client.connect();
  await client.query(infrastructureSql());
  for (const sql of [finalTableSql(customers), stagingTableSql(customers), mergeProcedureSql(customers)]) await client.query(sql);
  await stageAndMerge(customers, [
    { op: 'I', lsn: 1, values: { id: 1, name: 'Ada', points: 10 } },
    { op: 'I', lsn: 1, values: { id: 2, name: 'Bob', points: 20 } },
  ]);
});

/** Stages rows (values by column name, missing → NULL; ordinal = index) and calls the merge. */
async function stageAndMerge(table: TableSchema, rows: readonly { op: string; lsn: number; values: Record<string, unknown>; unchanged?: string[] }[]) {
  const columns = stagingColumns(table);
  const sql =
    `INSERT INTO ${quoteTable(stagingTableId(table.id))} (${columns.map(quoteIdent).join(', ')}) ` +
    `VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
  for (const [ordinal, row] of rows.entries()) {
    const values = table.columns.map((c) => row.values[c.name] ?? null);
    await client.query(sql, [...values, row.op, Buffer.from(encodePosition([BigInt(row.lsn), BigInt(ordinal)])), null, row.unchanged ?? null]);
  }
  await client.query(`CALL ${quoteTable(mergeProcedureId(table.id))}()`);
}

async function apply(sql: readonly string[]): Promise<void> {
  await client.query('BEGIN');
  for (const statement of sql) await client.query(statement);
  await client.query('COMMIT');
}

/** The final table's rows, `table`'s columns only, ordered by all of them. */
async function rows(table: TableSchema): Promise<Record<string, unknown>[]> {
  const list = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const order = table.columns.map((_, i) => i + 1).join(', ');
  return (await client.query(`SELECT ${list} FROM ${quoteTable(table.id)} ORDER BY ${order}`)).rows;
}

async function columnsOf(table: { schema: string; name: string }): Promise<string[]> {
  const { rows } = await client.query<{ column_name: string; is_nullable: string; data_type: string }>(
    'SELECT column_name, is_nullable, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [table.schema, table.name],
  );
  return rows.map((r) => `${r.column_name} ${r.data_type}${r.is_nullable === 'NO' ? ' NOT NULL' : ''}`);
}

describe('schema change on tables holding data', () => {
  it('adds a column (nullable on the target) and merges rows that carry it', async () => {
    const after: TableSchema = {
      ...customers,
      columns: [...customers.columns, { name: 'Notes "x"', type: 'text', nullable: false, toastable: true }],
    };
    const ddl = await plan(customers, after, applyAll);
    expect(ddl.plan.changes.map((d) => [d.change.kind, d.change.column, d.decision])).toEqual([['COLUMN_ADDED', 'Notes "x"', 'apply']]);
    await apply(ddl.statements);
    await stageAndMerge(after, [
      { op: 'I', lsn: 2, values: { id: 3, name: 'Cy', 'Notes "x"': 'new' } },
      { op: 'U', lsn: 2, values: { id: 1, points: 11, 'Notes "x"': 'set' }, unchanged: ['name'] },
    ]);
    expect(await rows(after)).toEqual([
      { id: 1, name: 'Ada', points: 11, 'Notes "x"': 'set' },
      { id: 2, name: 'Bob', points: 20, 'Notes "x"': null },
      { id: 3, name: 'Cy', points: null, 'Notes "x"': 'new' },
    ]);
  });

  it("drops a removed column with policy 'apply' and keeps it, nullable, with 'ignore'", async () => {
    const after: TableSchema = { ...customers, columns: customers.columns.filter((c) => c.name !== 'name') };
    await apply((await plan(customers, after, { drop: 'ignore', typeChange: 'stop' })).statements);
    expect(await columnsOf(customers.id)).toContain('name text');
    await stageAndMerge(after, [
      { op: 'I', lsn: 2, values: { id: 3, points: 30 } },
      { op: 'U', lsn: 2, values: { id: 1, points: 12 } },
    ]);
    expect(await rows(customers)).toEqual([
      { id: 1, name: 'Ada', points: 12 },
      { id: 2, name: 'Bob', points: 20 },
      { id: 3, name: null, points: 30 },
    ]);
    expect(await columnsOf(stagingTableId(customers.id))).not.toContain('name text');

    const withoutPoints: TableSchema = { ...after, columns: after.columns.filter((c) => c.name !== 'points') };
    await apply((await plan(after, withoutPoints, applyAll)).statements);
    expect((await columnsOf(customers.id)).filter((c) => !c.startsWith('_cdc_'))).toEqual(['id integer NOT NULL', 'name text']);
    await stageAndMerge(withoutPoints, [{ op: 'D', lsn: 3, values: { id: 2 } }]);
    expect(await rows(withoutPoints)).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it("converts a changed type with policy 'apply'", async () => {
    const after: TableSchema = {
      ...customers,
      columns: customers.columns.map((c) => (c.name === 'points' ? { ...c, type: 'bigint' } : c)),
    };
    await apply((await plan(customers, after, applyAll)).statements);
    await stageAndMerge(after, [{ op: 'U', lsn: 2, values: { id: 2, name: 'Bob', points: '9000000000' } }]);
    expect((await rows(after)).map((r) => r.points)).toEqual(['10', '9000000000']);
    expect(await columnsOf(stagingTableId(customers.id))).toContain('points bigint');
  });

  it("keeps a type change ignored by 'ignore' through a later change: staging keeps the target's type, merges work", async () => {
    const retyped: TableSchema = { ...customers, columns: customers.columns.map((c) => (c.name === 'points' ? { ...c, type: 'text', toastable: true } : c)) };
    expect((await plan(customers, retyped, { drop: 'apply', typeChange: 'ignore' })).statements).toEqual([]);
    const added: TableSchema = { ...retyped, columns: [...retyped.columns, { name: 'extra', type: 'text', nullable: true, toastable: true }] };
    await apply((await plan(retyped, added, applyAll)).statements);
    expect(await columnsOf(stagingTableId(customers.id))).toContain('points integer');
    await stageAndMerge(added, [{ op: 'U', lsn: 2, values: { id: 1, name: 'Ada', points: '12', extra: 'e' } }]);
    expect(await rows(added)).toEqual([
      { id: 1, name: 'Ada', points: 12, extra: 'e' },
      { id: 2, name: 'Bob', points: 20, extra: null },
    ]);
  });

  it('moves the primary key, and merges by the new key', async () => {
    const after: TableSchema = { ...customers, primaryKey: ['id', 'name'] };
    const ddl = await plan(customers, after, applyAll);
    expect(ddl.plan.changes.map((d) => d.change.kind)).toEqual(['PRIMARY_KEY_CHANGED']);
    await apply(ddl.statements);
    await stageAndMerge(after, [
      { op: 'I', lsn: 2, values: { id: 1, name: 'Ada II', points: 1 } },
      { op: 'U', lsn: 2, values: { id: 1, name: 'Ada', points: 15 } },
    ]);
    expect(await rows(after)).toEqual([
      { id: 1, name: 'Ada', points: 15 },
      { id: 1, name: 'Ada II', points: 1 },
      { id: 2, name: 'Bob', points: 20 },
    ]);
  });

  it('drops the primary key, after which the table merges as a multiset', async () => {
    const after: TableSchema = { ...customers, primaryKey: [] };
    await apply((await plan(customers, after, applyAll)).statements);
    await stageAndMerge(after, [
      { op: 'I', lsn: 2, values: { id: 2, name: 'Bob', points: 20 } },
      { op: 'D', lsn: 3, values: { id: 1, name: 'Ada', points: 10 } },
    ]);
    expect(await rows(after)).toEqual([
      { id: 2, name: 'Bob', points: 20 },
      { id: 2, name: 'Bob', points: 20 },
    ]);
  });

  it("stops at a removed column with policy 'stop', before changing anything", async () => {
    const after: TableSchema = { ...customers, columns: customers.columns.filter((c) => c.name !== 'points') };
    const before = await columnsOf(customers.id);
    await expect(plan(customers, after, { drop: 'stop', typeChange: 'apply' })).rejects.toThrow(SchemaChangeError);
    expect(await columnsOf(customers.id)).toEqual(before);
  });
});
