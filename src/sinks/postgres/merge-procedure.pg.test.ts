/**
 * The merge procedure on a real PostgreSQL: tables from hand-written definitions, rows staged by
 * hand, CALL, then the final table checked. Each test gets a fresh database.
 */
import pg from 'pg';
import { decodePosition, encodePosition } from '../../events/position.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../../testing/throwaway-cluster.js';
import { infrastructureSql } from './infrastructure.js';
import { UNCHANGED_VALUE_MISSING_SQLSTATE, mergeProcedureSql } from './merge-procedure.js';
import { mergeProcedureId, stagingTableId } from './naming.js';
import { finalTableSql, stagingColumns, stagingTableSql, type TableOptions } from './table-ddl.js';

/** Composite key, TOASTable text/jsonb/bytea, and a column name that tries to end the dollar quote. */
const invoiceLine: TableSchema = {
  id: { schema: 'Odd Schema', name: 'Invoice Line' },
  primaryKey: ['InvoiceId', 'line'],
  columns: [
    { name: 'InvoiceId', type: 'integer', nullable: false, toastable: false },
    { name: 'line', type: 'smallint', nullable: false, toastable: false },
    { name: 'qty', type: 'integer', nullable: false, toastable: false },
    { name: 'body', type: 'text', nullable: true, toastable: true },
    { name: 'doc', type: 'jsonb', nullable: true, toastable: true },
    { name: 'blob', type: 'bytea', nullable: true, toastable: true },
    { name: 'odd$cdc_merge$"q"', type: 'text', nullable: true, toastable: true },
  ],
};

/** No primary key (REPLICA IDENTITY FULL): json has no equality operator, point none either. */
const events: TableSchema = {
  id: { schema: 'public', name: 'events' },
  primaryKey: [],
  columns: [
    { name: 'a', type: 'integer', nullable: true, toastable: false },
    { name: 'b', type: 'text', nullable: true, toastable: true },
    { name: 'j', type: 'json', nullable: true, toastable: true },
    { name: 'p', type: 'point', nullable: true, toastable: false },
  ],
};

/** One row to stage: values by column name (missing → NULL). */
interface Staged {
  op: 'I' | 'U' | 'D';
  lsn: number;
  ordinal: number;
  values: Record<string, unknown>;
  unchanged?: string[];
}

let cluster: ThrowawayCluster;
let client: pg.Client;
let databases = 0;

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'merge-proc' });
});
afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

/** A fresh database with the infrastructure and `tables` created; `client` connected to it. */
async function freshDatabase(tables: readonly [TableSchema, TableOptions][]): Promise<void> {
  await client?.end();
  const url = await cluster.createDatabase(`merge_${++databases}`);
  client = new pg.Client(url);
  await client.connect();
  await client.query(infrastructureSql());
  for (const [table, options] of tables) {
    await client.query(finalTableSql(table, options));
    await client.query(stagingTableSql(table));
    await client.query(mergeProcedureSql(table, options));
  }
}

async function stage(table: TableSchema, rows: readonly Staged[]): Promise<void> {
  const columns = stagingColumns(table);
  const placeholders = columns.map((_, i) => `$${i + 1}`).join(', ');
  const sql = `INSERT INTO ${quoteTable(stagingTableId(table.id))} (${columns.map(quoteIdent).join(', ')}) VALUES (${placeholders})`;
  for (const row of rows) {
    const values = table.columns.map((c) => row.values[c.name] ?? null);
    await client.query(sql, [...values, row.op, Buffer.from(encodePosition([BigInt(row.lsn), BigInt(row.ordinal)])), null, row.unchanged ?? null]);
  }
}

async function merge(table: TableSchema): Promise<void> {
  await client.query(`CALL ${quoteTable(mergeProcedureId(table.id))}()`);
}

async function stageAndMerge(table: TableSchema, rows: readonly Staged[]): Promise<void> {
  await stage(table, rows);
  await merge(table);
}

/** Final rows (source columns plus position) ordered by all columns (as text where a type has no order). */
async function finalRows(table: TableSchema, extra: readonly string[] = []): Promise<Record<string, unknown>[]> {
  const names = [...table.columns.map((c) => c.name), '_cdc_position', ...extra];
  const unordered = new Set(table.columns.filter((c) => c.type === 'json' || c.type === 'point').map((c) => c.name));
  const order = names.map((n) => (unordered.has(n) ? `${quoteIdent(n)}::text` : quoteIdent(n))).join(', ');
  const { rows } = await client.query<Record<string, unknown>>(`SELECT ${names.map(quoteIdent).join(', ')} FROM ${quoteTable(table.id)} ORDER BY ${order}`);
  // The position as the (lsn, ordinal) it was staged with.
  return rows.map(({ _cdc_position, ...rest }) => {
    const [lsn, ordinal] = decodePosition(new Uint8Array(_cdc_position as Buffer));
    return { ...rest, _cdc_lsn: String(lsn), _cdc_ordinal: Number(ordinal) };
  });
}

const line = (id: number, ln: number, values: Record<string, unknown> = {}) => ({ InvoiceId: id, line: ln, qty: 1, ...values });

describe('merge procedure, table with a composite primary key', () => {
  beforeEach(async () => {
    await freshDatabase([[invoiceLine, {}]]);
  });

  it('keeps the change with the greatest (lsn, ordinal) per key, whatever the staging order', async () => {
    await stageAndMerge(invoiceLine, [
      { op: 'U', lsn: 90, ordinal: 7, values: line(1, 1, { qty: 90 }) }, // older LSN, higher ordinal
      { op: 'U', lsn: 100, ordinal: 2, values: line(1, 1, { qty: 102 }) }, // winner: same LSN, higher ordinal
      { op: 'I', lsn: 100, ordinal: 1, values: line(1, 1, { qty: 101 }) },
      { op: 'I', lsn: 100, ordinal: 3, values: line(1, 2, { qty: 5, body: 'b' }) },
    ]);
    const rows = await finalRows(invoiceLine);
    expect(rows.map((r) => [r.InvoiceId, r.line, r.qty, r._cdc_lsn, r._cdc_ordinal])).toEqual([
      [1, 1, 102, '100', 2],
      [1, 2, 5, '100', 3],
    ]);
  });

  it('deletes, and an insert-delete-insert in one batch leaves the last insert', async () => {
    await stageAndMerge(invoiceLine, [
      { op: 'I', lsn: 10, ordinal: 0, values: line(1, 1) },
      { op: 'I', lsn: 10, ordinal: 1, values: line(2, 1) },
    ]);
    await stageAndMerge(invoiceLine, [
      { op: 'D', lsn: 20, ordinal: 0, values: { InvoiceId: 1, line: 1 } },
      { op: 'I', lsn: 20, ordinal: 1, values: line(3, 1, { body: 'first' }) },
      { op: 'D', lsn: 20, ordinal: 2, values: { InvoiceId: 3, line: 1 } },
      { op: 'I', lsn: 21, ordinal: 0, values: line(3, 1, { body: 'again', qty: 3 }) },
      { op: 'I', lsn: 21, ordinal: 1, values: line(4, 1) },
      { op: 'D', lsn: 21, ordinal: 2, values: { InvoiceId: 4, line: 1 } },
    ]);
    const rows = await finalRows(invoiceLine);
    expect(rows.map((r) => [r.InvoiceId, r.body, r.qty])).toEqual([
      [2, null, 1],
      [3, 'again', 3],
    ]);
  });

  it("keeps the target's value for an unchanged TOAST column, and an earlier batch row's value over the target's", async () => {
    const big = 'x'.repeat(100_000);
    await stageAndMerge(invoiceLine, [
      { op: 'I', lsn: 10, ordinal: 0, values: line(1, 1, { body: big, doc: { k: [1, 2] }, blob: Buffer.from([0, 1, 255]) }) },
      { op: 'I', lsn: 10, ordinal: 1, values: line(2, 1, { body: 'target' }) },
    ]);
    await stageAndMerge(invoiceLine, [
      { op: 'U', lsn: 20, ordinal: 0, values: line(1, 1, { qty: 7 }), unchanged: ['body', 'doc', 'blob'] },
      // An earlier row of the batch sets body to NULL: that NULL is the value, not "not found".
      { op: 'U', lsn: 20, ordinal: 1, values: line(2, 1, { body: null }) },
      { op: 'U', lsn: 20, ordinal: 2, values: line(2, 1, { qty: 9 }), unchanged: ['body'] },
    ]);
    const rows = await finalRows(invoiceLine);
    expect(rows[0]).toMatchObject({ InvoiceId: 1, qty: 7, body: big, doc: { k: [1, 2] }, blob: Buffer.from([0, 1, 255]) });
    expect(rows[1]).toMatchObject({ InvoiceId: 2, qty: 9, body: null });
  });

  it('takes an unchanged value from an earlier row in the same batch (insert then update)', async () => {
    await stageAndMerge(invoiceLine, [
      { op: 'I', lsn: 10, ordinal: 0, values: line(1, 1, { body: 'v1', doc: { v: 1 } }) },
      { op: 'U', lsn: 10, ordinal: 1, values: line(1, 1, { body: 'v2', qty: 2 }), unchanged: ['doc'] },
      { op: 'U', lsn: 11, ordinal: 0, values: line(1, 1, { qty: 3 }), unchanged: ['body', 'doc'] },
      // A delete and re-insert in between: the fill must not reach past the re-insert.
      { op: 'I', lsn: 12, ordinal: 0, values: line(5, 1, { body: 'old' }) },
      { op: 'D', lsn: 12, ordinal: 1, values: { InvoiceId: 5, line: 1 } },
      { op: 'I', lsn: 12, ordinal: 2, values: line(5, 1, { body: 'new' }) },
      { op: 'U', lsn: 12, ordinal: 3, values: line(5, 1, { qty: 4 }), unchanged: ['body'] },
    ]);
    const rows = await finalRows(invoiceLine);
    expect(rows.map((r) => [r.InvoiceId, r.qty, r.body, r.doc])).toEqual([
      [1, 3, 'v2', { v: 1 }],
      [5, 4, 'new', null],
    ]);
  });

  it('changes nothing when replaying a position at or below the stored one', async () => {
    await stageAndMerge(invoiceLine, [{ op: 'I', lsn: 500, ordinal: 3, values: line(1, 1, { body: 'kept', qty: 1 }) }]);
    const before = await finalRows(invoiceLine, ['_cdc_synced_at']);
    await stageAndMerge(invoiceLine, [
      { op: 'U', lsn: 500, ordinal: 3, values: line(1, 1, { body: 'equal', qty: 2 }) },
      { op: 'U', lsn: 400, ordinal: 9, values: line(1, 1, { body: 'older', qty: 3 }) },
    ]);
    await stageAndMerge(invoiceLine, [{ op: 'D', lsn: 499, ordinal: 0, values: { InvoiceId: 1, line: 1 } }]);
    expect(await finalRows(invoiceLine, ['_cdc_synced_at'])).toEqual(before);
  });

  it("prefers the target's value over an older batch row when the batch replays merged changes", async () => {
    await stageAndMerge(invoiceLine, [{ op: 'I', lsn: 50, ordinal: 0, values: line(1, 1, { body: 'current' }) }]);
    await stageAndMerge(invoiceLine, [
      { op: 'I', lsn: 10, ordinal: 0, values: line(1, 1, { body: 'stale' }) },
      { op: 'U', lsn: 60, ordinal: 0, values: line(1, 1, { qty: 6 }), unchanged: ['body'] },
    ]);
    expect((await finalRows(invoiceLine))[0]).toMatchObject({ qty: 6, body: 'current', _cdc_lsn: '60' });
  });

  it('raises rather than write NULL when an unchanged value exists nowhere', async () => {
    await stage(invoiceLine, [{ op: 'U', lsn: 10, ordinal: 0, values: line(9, 9, { qty: 1 }), unchanged: ['body'] }]);
    await expect(merge(invoiceLine)).rejects.toMatchObject({ code: UNCHANGED_VALUE_MISSING_SQLSTATE });
    expect(await finalRows(invoiceLine)).toEqual([]);
  });

  it('empties staging and records the merge in merge_control', async () => {
    await stageAndMerge(invoiceLine, [
      { op: 'I', lsn: 1, ordinal: 0, values: line(1, 1) },
      { op: 'U', lsn: 1, ordinal: 1, values: line(1, 1, { qty: 2 }) },
      { op: 'I', lsn: 1, ordinal: 2, values: line(1, 2) },
    ]);
    // The second merge writes through a trigger that sleeps SLOW_MS: its recorded duration must
    // cover that, and be no longer than the CALL took as the test measured it.
    const SLOW_MS = 200;
    await client.query(`CREATE FUNCTION slow_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(${SLOW_MS / 1000}); RETURN NULL; END $$;
      CREATE TRIGGER slow_write AFTER INSERT OR UPDATE OR DELETE ON ${quoteTable(invoiceLine.id)} FOR EACH STATEMENT EXECUTE FUNCTION slow_write();`);
    const serverNow = async (): Promise<Date> => (await client.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]!.t;
    const startedAt = await serverNow();
    const started = performance.now();
    await stageAndMerge(invoiceLine, [{ op: 'D', lsn: 2, ordinal: 0, values: { InvoiceId: 1, line: 2 } }]);
    const tookMs = performance.now() - started;
    const finishedAt = await serverNow();
    const staged = await client.query(`SELECT count(*)::int AS n FROM ${quoteTable(stagingTableId(invoiceLine.id))}`);
    expect(staged.rows[0].n).toBe(0);
    const { rows } = await client.query('SELECT * FROM cdc_management.merge_control');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      schema_name: 'Odd Schema',
      table_name: 'Invoice Line',
      has_changes: false,
      is_merging: false,
      merge_count: '2',
      last_merge_rows: '1',
    });
    // Time and duration are the second merge's, not the first's.
    const lastMerge = rows[0].last_merge_time as Date;
    expect(lastMerge.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
    expect(lastMerge.getTime()).toBeLessThanOrEqual(finishedAt.getTime());
    const durationMs: unknown = rows[0].last_merge_duration_ms;
    expect(typeof durationMs).toBe('number');
    expect(durationMs).toBeGreaterThanOrEqual(SLOW_MS);
    expect(durationMs).toBeLessThanOrEqual(tookMs);
  });

  it('accepts its DDL again (idempotent) and keeps the data', async () => {
    await stageAndMerge(invoiceLine, [{ op: 'I', lsn: 1, ordinal: 0, values: line(1, 1) }]);
    for (const sql of [infrastructureSql(), finalTableSql(invoiceLine), stagingTableSql(invoiceLine), mergeProcedureSql(invoiceLine)]) {
      await client.query(sql);
    }
    expect(await finalRows(invoiceLine)).toHaveLength(1);
  });

  it('handles the column whose name contains the dollar-quote tag', async () => {
    await stageAndMerge(invoiceLine, [{ op: 'I', lsn: 1, ordinal: 0, values: line(1, 1, { 'odd$cdc_merge$"q"': 'ok' }) }]);
    expect((await finalRows(invoiceLine))[0]).toMatchObject({ 'odd$cdc_merge$"q"': 'ok' });
  });
});

describe('merge procedure with soft delete', () => {
  beforeEach(async () => {
    await freshDatabase([[invoiceLine, { softDelete: true }]]);
  });

  it('flags deleted rows, keeps their values, and clears the flag on re-insert', async () => {
    await stageAndMerge(invoiceLine, [
      { op: 'I', lsn: 1, ordinal: 0, values: line(1, 1, { body: 'kept' }) },
      { op: 'I', lsn: 1, ordinal: 1, values: line(2, 1, { body: 'two' }) },
    ]);
    await stageAndMerge(invoiceLine, [
      { op: 'D', lsn: 2, ordinal: 0, values: { InvoiceId: 1, line: 1 } },
      { op: 'D', lsn: 2, ordinal: 1, values: { InvoiceId: 2, line: 1 } },
      { op: 'D', lsn: 2, ordinal: 2, values: { InvoiceId: 7, line: 7 } }, // nothing to flag
    ]);
    let rows = await finalRows(invoiceLine, ['_cdc_deleted']);
    expect(rows.map((r) => [r.InvoiceId, r.body, r._cdc_lsn, r._cdc_ordinal, r._cdc_deleted])).toEqual([
      [1, 'kept', '2', 0, true],
      [2, 'two', '2', 1, true],
    ]);
    await stageAndMerge(invoiceLine, [{ op: 'I', lsn: 3, ordinal: 0, values: line(2, 1, { body: 'back' }) }]);
    rows = await finalRows(invoiceLine, ['_cdc_deleted']);
    expect(rows.map((r) => [r.InvoiceId, r.body, r._cdc_deleted])).toEqual([
      [1, 'kept', true],
      [2, 'back', false],
    ]);
  });
});

describe('merge procedure, table without a primary key', () => {
  const row = (a: number | null, b: string | null) => ({ a, b, j: JSON.stringify({ a }), p: '(1,2)' });

  it('keeps duplicates as a multiset: deleting one of two identical rows leaves one', async () => {
    await freshDatabase([[events, {}]]);
    await stageAndMerge(events, [
      { op: 'I', lsn: 1, ordinal: 0, values: row(1, null) },
      { op: 'I', lsn: 1, ordinal: 1, values: row(1, null) },
      { op: 'I', lsn: 1, ordinal: 2, values: row(2, 'x') },
      { op: 'I', lsn: 1, ordinal: 3, values: row(3, 'gone') },
      { op: 'D', lsn: 1, ordinal: 4, values: row(3, 'gone') },
    ]);
    expect((await finalRows(events)).map((r) => [r.a, r.b])).toEqual([
      [1, null],
      [1, null],
      [2, 'x'],
    ]);
    await stageAndMerge(events, [{ op: 'D', lsn: 2, ordinal: 0, values: row(1, null) }]);
    expect((await finalRows(events)).map((r) => [r.a, r.b])).toEqual([
      [1, null],
      [2, 'x'],
    ]);
  });

  it('updates one of two duplicates (delete old row + insert new row)', async () => {
    await freshDatabase([[events, {}]]);
    await stageAndMerge(events, [
      { op: 'I', lsn: 1, ordinal: 0, values: row(1, 'dup') },
      { op: 'I', lsn: 1, ordinal: 1, values: row(1, 'dup') },
    ]);
    await stageAndMerge(events, [
      { op: 'D', lsn: 2, ordinal: 0, values: row(1, 'dup') },
      { op: 'I', lsn: 2, ordinal: 0, values: row(1, 'new') },
    ]);
    expect((await finalRows(events)).map((r) => [r.a, r.b, r.j, r._cdc_lsn])).toEqual([
      [1, 'dup', { a: 1 }, '1'],
      [1, 'new', { a: 1 }, '2'],
    ]);
  });

  it('flags one of two duplicates with soft delete', async () => {
    await freshDatabase([[events, { softDelete: true }]]);
    await stageAndMerge(events, [
      { op: 'I', lsn: 1, ordinal: 0, values: row(1, 'dup') },
      { op: 'I', lsn: 1, ordinal: 1, values: row(1, 'dup') },
    ]);
    await stageAndMerge(events, [{ op: 'D', lsn: 2, ordinal: 0, values: row(1, 'dup') }]);
    await stageAndMerge(events, [{ op: 'D', lsn: 3, ordinal: 0, values: row(1, 'dup') }]);
    await stageAndMerge(events, [{ op: 'D', lsn: 4, ordinal: 0, values: row(1, 'dup') }]); // none left to flag
    expect((await finalRows(events, ['_cdc_deleted'])).map((r) => [r.b, r._cdc_lsn, r._cdc_deleted])).toEqual([
      ['dup', '2', true],
      ['dup', '3', true],
    ]);
  });
});
