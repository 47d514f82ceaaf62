import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../schema/table.js';
import { changeMigration } from './change-migration.js';

const col = (name: string, type: string, nullable = true) => ({ name, type, nullable, toastable: false });
const before: TableSchema = {
  id: { schema: 'public', name: 'invoice_line' },
  columns: [col('invoice_line_id', 'integer', false), col('invoice_id', 'integer', false), col('note', 'character varying(10)'), col('fax', 'text')],
  primaryKey: ['invoice_line_id'],
};
const after: TableSchema = {
  ...before,
  columns: [col('invoice_line_id', 'integer', false), col('invoice_id', 'integer', false), col('note', 'character varying(40)'), col('discount', 'numeric(5,2)', false)],
  primaryKey: ['invoice_id', 'invoice_line_id'],
};

describe('change migration (cdc migrations diff --write)', () => {
  it('guards staging, alters the final table, recreates staging and the merge procedure', () => {
    const m = changeMigration(before, after, { allowDestructive: false });
    expect(m.skipped.map((c) => c.kind)).toEqual(['COLUMN_REMOVED']);
    expect(m.body).toMatch(/^-- public\.invoice_line: COLUMN_ADDED discount, COLUMN_TYPE_CHANGED note, PRIMARY_KEY_CHANGED\n-- left out \(destructive; pass --allow-destructive\): COLUMN_REMOVED fax\n/);
    const lines = m.body.split('\n');
    expect(lines).toContain('ALTER TABLE "public"."invoice_line" ALTER COLUMN "note" TYPE character varying(40) USING "note"::character varying(40);');
    expect(lines).toContain('ALTER TABLE "public"."invoice_line" ADD COLUMN IF NOT EXISTS "discount" numeric(5,2);');
    expect(lines).toContain('ALTER TABLE "public"."invoice_line" DROP CONSTRAINT IF EXISTS "invoice_line_pkey";');
    expect(lines).toContain('ALTER TABLE "public"."invoice_line" ADD CONSTRAINT "invoice_line_pkey" PRIMARY KEY ("invoice_id", "invoice_line_id");');
    expect(m.body).not.toMatch(/DROP COLUMN/);
    expect(m.body).toMatch(/IF EXISTS \(SELECT 1 FROM "cdc_staging"\."public\.invoice_line" LIMIT 1\)/);
    expect(m.body).toMatch(/DROP TABLE IF EXISTS "cdc_staging"\."public\.invoice_line";\nCALL "cdc_management"\.upgrade_row_position\('public', 'invoice_line', 'public\.invoice_line'\);\nCREATE UNLOGGED TABLE/);
    expect(m.body).toMatch(/\nCREATE OR REPLACE PROCEDURE "cdc_staging"\."sp_merge_public\.invoice_line"\(\)[\s\S]*\n\nCALL "cdc_management"\.restore_source_fields\('public', 'invoice_line'\);\n$/);
    // The left-out column stays as it was; the added one is nullable: existing rows have no value.
    expect(m.result.columns.map((c) => `${c.name}${c.nullable ? '' : ' NOT NULL'}`)).toEqual(['invoice_line_id NOT NULL', 'invoice_id NOT NULL', 'note', 'fax', 'discount']);
  });

  it('drops the column with allowDestructive', () => {
    const m = changeMigration(before, after, { allowDestructive: true });
    expect(m.body).toMatch(/ALTER TABLE "public"."invoice_line" DROP COLUMN IF EXISTS "fax";/);
    expect(m.result.columns.map((c) => c.name)).not.toContain('fax');
  });

  it('writes nothing when every change is left out', () => {
    const m = changeMigration(before, { ...before, columns: before.columns.filter((c) => c.name !== 'fax') }, { allowDestructive: false });
    expect(m).toMatchObject({ body: '', applied: [], result: before });
    expect(m.skipped.map((c) => c.kind)).toEqual(['COLUMN_REMOVED']);
  });

  it("keeps the state's soft delete in the re-created merge procedure", () => {
    const m = changeMigration({ ...before, options: { softDelete: true } }, { ...after, options: { softDelete: false } }, { allowDestructive: false });
    expect(m.body).toMatch(/"_cdc_deleted"/);
  });
});
