import { describe, expect, it } from 'vitest';
import type { TableSchema } from './table.js';
import { diffTable, diffTables } from './schema-diff.js';

const col = (name: string, type: string, nullable = true) => ({ name, type, nullable, toastable: false });
const before: TableSchema = {
  id: { schema: 'public', name: 'invoice_line' },
  columns: [col('invoice_line_id', 'integer', false), col('invoice_id', 'integer', false), col('note', 'character varying(10)'), col('fax', 'text')],
  primaryKey: ['invoice_line_id'],
};
const retyped = (name: string, type: string): TableSchema => ({ ...before, columns: before.columns.map((c) => (c.name === name ? { ...c, type } : c)) });

describe('schema diff', () => {
  it('reports each kind with its severity', () => {
    const after: TableSchema = {
      ...before,
      columns: [col('invoice_line_id', 'integer', false), col('invoice_id', 'integer', false), col('note', 'character varying(5)'), col('discount', 'numeric(5,2)')],
      primaryKey: ['invoice_id', 'invoice_line_id'],
    };
    expect(diffTable(before, after).map((c) => [c.kind, c.severity, c.column ?? '', c.destructive])).toEqual([
      ['COLUMN_ADDED', 'info', 'discount', false],
      ['COLUMN_REMOVED', 'breaking', 'fax', true],
      ['COLUMN_TYPE_CHANGED', 'breaking', 'note', false],
      ['PRIMARY_KEY_CHANGED', 'breaking', '', false],
    ]);
  });

  it('a widening type change is info, not breaking (varchar(160) → varchar(200), int → bigint)', () => {
    const [varchar] = diffTable(before, retyped('note', 'character varying(200)'));
    expect(varchar).toMatchObject({ kind: 'COLUMN_TYPE_CHANGED', severity: 'info', widening: true, from: 'character varying(10)', to: 'character varying(200)' });
    expect(diffTable(before, retyped('invoice_id', 'bigint'))[0]).toMatchObject({ severity: 'info', widening: true });
    expect(diffTable(before, retyped('note', 'text'))[0]).toMatchObject({ severity: 'info' });
  });

  it('a narrowing or other type change is breaking', () => {
    expect(diffTable(before, retyped('invoice_id', 'smallint'))[0]).toMatchObject({ severity: 'breaking', widening: false });
    expect(diffTable(before, retyped('note', 'integer'))[0]).toMatchObject({ severity: 'breaking', widening: false });
  });

  it('carries what a converter needs: the added column, the removed one and whether it was NOT NULL, both keys', () => {
    const after: TableSchema = { ...before, columns: [...before.columns.filter((c) => c.name !== 'invoice_id'), col('extra', 'date', false)], primaryKey: [] };
    const changes = diffTable(before, after);
    expect(changes.find((c) => c.kind === 'COLUMN_ADDED')).toMatchObject({ definition: col('extra', 'date', false), severity: 'warning' });
    expect(changes.find((c) => c.kind === 'COLUMN_REMOVED')).toMatchObject({ column: 'invoice_id', notNull: true, tableId: before.id });
    expect(changes.find((c) => c.kind === 'PRIMARY_KEY_CHANGED')).toMatchObject({ keyBefore: ['invoice_line_id'], keyAfter: [], from: '(invoice_line_id)', to: '()' });
  });

  it('tables added and removed', () => {
    const other: TableSchema = { id: { schema: 'public', name: 'album' }, columns: [col('id', 'integer', false)], primaryKey: ['id'] };
    expect(diffTables([before], [other]).map((c) => [c.kind, c.severity, c.table, c.destructive])).toEqual([
      ['TABLE_ADDED', 'info', 'public.album', false],
      ['TABLE_REMOVED', 'warning', 'public.invoice_line', true],
    ]);
  });

  it('a column that becomes NOT NULL is not a change; one that becomes nullable is, also by leaving the key', () => {
    const tighter = { ...before, columns: before.columns.map((c) => (c.name === 'note' ? { ...c, nullable: false } : c)) };
    expect(diffTable(before, tighter)).toEqual([]);
    const looser = { ...before, columns: before.columns.map((c) => (c.name === 'invoice_id' ? { ...c, nullable: true } : c)) };
    expect(diffTable(before, looser).map((c) => c.kind)).toEqual(['COLUMN_NULLABILITY_CHANGED']);
    const keyless = { ...before, columns: before.columns.map((c) => (c.name === 'invoice_line_id' ? { ...c, nullable: true } : c)), primaryKey: [] };
    expect(diffTable(before, keyless).map((c) => [c.kind, c.column ?? ''])).toEqual([
      ['COLUMN_NULLABILITY_CHANGED', 'invoice_line_id'],
      ['PRIMARY_KEY_CHANGED', ''],
    ]);
  });

  it('refuses two different tables', () => {
    expect(() => diffTable(before, { ...before, id: { schema: 'public', name: 'other' } })).toThrow(/different table/);
  });
});

describe('renames (issue 11 item 5)', () => {
  const t = (columns: [string, string, number?][], primaryKey: string[] = ['id']): TableSchema => ({
    id: { schema: 'public', name: 't' },
    columns: columns.map(([name, type, attnum]) => ({ name, type, nullable: true, toastable: false, ...(attnum === undefined ? {} : { sourceAttnum: attnum }) })),
    primaryKey,
  });

  it('reports a column with the same source number under a new name as COLUMN_RENAMED, with its type change and the key under the new name', () => {
    const before = t([['id', 'integer', 1], ['a', 'integer', 2]]);
    const after = t([['ident', 'integer', 1], ['b', 'bigint', 2]], ['ident']);
    expect(diffTable(before, after).map((c) => `${c.kind} ${c.from ?? ''}→${c.to ?? ''}`)).toEqual(['COLUMN_RENAMED id→ident', 'COLUMN_RENAMED a→b', 'COLUMN_TYPE_CHANGED integer→bigint']);
  });

  it('without source numbers, or when asked not to, a rename is a removal plus an addition; a drop and re-add is never a rename', () => {
    const before = t([['id', 'integer', 1], ['a', 'integer', 2]]);
    expect(diffTable(t([['id', 'integer'], ['a', 'integer']]), t([['id', 'integer'], ['b', 'integer']])).map((c) => c.kind)).toEqual(['COLUMN_ADDED', 'COLUMN_REMOVED']);
    expect(diffTable(before, t([['id', 'integer', 1], ['b', 'integer', 2]]), { renames: false }).map((c) => c.kind)).toEqual(['COLUMN_ADDED', 'COLUMN_REMOVED']);
    expect(diffTable(before, t([['id', 'integer', 1], ['b', 'integer', 3]])).map((c) => c.kind)).toEqual(['COLUMN_ADDED', 'COLUMN_REMOVED']);
  });
});
