import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../schema/table.js';
import { changeMigration } from './change-migration.js';
import { diffTable, diffTables } from './schema-diff.js';

const col = (name: string, type: string, nullable = true) => ({ name, type, nullable, toastable: false });
const before: TableSchema = {
  id: { schema: 'public', name: 'invoice_line' },
  columns: [col('invoice_line_id', 'integer', false), col('invoice_id', 'integer', false), col('note', 'character varying(10)'), col('fax', 'text')],
  primaryKey: ['invoice_line_id'],
};

describe('schema diff', () => {
  it('reports each kind with its severity', () => {
    const after: TableSchema = {
      ...before,
      columns: [col('invoice_line_id', 'integer', false), col('invoice_id', 'integer', false), col('note', 'character varying(40)'), col('discount', 'numeric(5,2)')],
      primaryKey: ['invoice_id', 'invoice_line_id'],
    };
    expect(diffTable(before, after).map((c) => [c.kind, c.severity, c.column ?? '', c.destructive])).toEqual([
      ['COLUMN_ADDED', 'info', 'discount', false],
      ['COLUMN_REMOVED', 'breaking', 'fax', true],
      ['COLUMN_TYPE_CHANGED', 'breaking', 'note', false],
      ['PRIMARY_KEY_CHANGED', 'breaking', '', false],
    ]);
  });

  it('tables added and removed', () => {
    const other: TableSchema = { id: { schema: 'public', name: 'album' }, columns: [col('id', 'integer', false)], primaryKey: ['id'] };
    expect(diffTables([before], [other]).map((c) => [c.kind, c.severity, c.table])).toEqual([
      ['TABLE_ADDED', 'info', 'public.album'],
      ['TABLE_REMOVED', 'warning', 'public.invoice_line'],
    ]);
  });

  it('a column that becomes NOT NULL is not a change; one that becomes nullable is', () => {
    const tighter = { ...before, columns: before.columns.map((c) => (c.name === 'note' ? { ...c, nullable: false } : c)) };
    expect(diffTable(before, tighter)).toEqual([]);
    const looser = { ...before, columns: before.columns.map((c) => (c.name === 'invoice_id' ? { ...c, nullable: true } : c)) };
    expect(diffTable(before, looser).map((c) => c.kind)).toEqual(['COLUMN_NULLABILITY_CHANGED']);
  });
});

describe('change migration', () => {
  const after: TableSchema = {
    ...before,
    columns: [col('invoice_line_id', 'integer', false), col('invoice_id', 'integer', false), col('note', 'character varying(40)'), col('discount', 'numeric(5,2)', false)],
    primaryKey: ['invoice_id', 'invoice_line_id'],
  };

  it('guards staging, alters the final table, recreates staging and the merge procedure', () => {
    const m = changeMigration(before, after, diffTable(before, after), { allowDestructive: false, softDelete: false });
    expect(m.skipped.map((c) => c.kind)).toEqual(['COLUMN_REMOVED']);
    const lines = m.body.split('\n');
    expect(lines).toContain('ALTER TABLE "public"."invoice_line" ALTER COLUMN "note" TYPE character varying(40) USING "note"::character varying(40);');
    expect(lines).toContain('ALTER TABLE "public"."invoice_line" ADD COLUMN "discount" numeric(5,2);');
    expect(lines).toContain('ALTER TABLE "public"."invoice_line" DROP CONSTRAINT "invoice_line_pkey";');
    expect(lines).toContain('ALTER TABLE "public"."invoice_line" ADD CONSTRAINT "invoice_line_pkey" PRIMARY KEY ("invoice_id", "invoice_line_id");');
    expect(m.body).not.toMatch(/DROP COLUMN/);
    expect(m.body).toMatch(/IF EXISTS \(SELECT 1 FROM "cdc_staging"\."public\.invoice_line" LIMIT 1\)/);
    expect(m.body).toMatch(/DROP TABLE IF EXISTS "cdc_staging"\."public\.invoice_line";\nCREATE UNLOGGED TABLE/);
    expect(m.body).toMatch(/CREATE OR REPLACE PROCEDURE "cdc_staging"\."sp_merge_public\.invoice_line"\(\)/);
    // The kept column stays (nullable), the added one is nullable: existing rows have no value.
    expect(m.result.columns.map((c) => `${c.name}${c.nullable ? '' : ' NOT NULL'}`)).toEqual(['invoice_line_id NOT NULL', 'invoice_id NOT NULL', 'note', 'fax', 'discount']);
  });

  it('drops the column with allowDestructive', () => {
    const m = changeMigration(before, after, diffTable(before, after), { allowDestructive: true, softDelete: false });
    expect(m.body).toMatch(/ALTER TABLE "public"."invoice_line" DROP COLUMN "fax";/);
    expect(m.result.columns.map((c) => c.name)).not.toContain('fax');
  });
});
