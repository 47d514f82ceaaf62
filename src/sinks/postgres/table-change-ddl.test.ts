import { describe, expect, it } from 'vitest';
import type { SchemaChangePolicy } from '../../schema/schema-change-policy.js';
import type { TableSchema } from '../../schema/table.js';
import { SchemaChangeError } from './schema-change.js';
import { tableChangeDdl } from './table-change-ddl.js';

const before: TableSchema = {
  id: { schema: 'public', name: 'Customer' },
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'name', type: 'text', nullable: false, toastable: true },
    { name: 'points', type: 'integer', nullable: true, toastable: false },
  ],
};
const without = (name: string): TableSchema => ({ ...before, columns: before.columns.filter((c) => c.name !== name) });
const retyped: TableSchema = { ...before, columns: before.columns.map((c) => (c.name === 'points' ? { ...c, type: 'bigint' } : c)) };
const stopAll: SchemaChangePolicy = { drop: 'stop', typeChange: 'stop' };
const ddl = (after: TableSchema, policy: SchemaChangePolicy, current?: TableSchema) => tableChangeDdl({ before, after, policy, ...(current ? { current } : {}) });

describe('tableChangeDdl: the one assembler for a changed table', () => {
  it('plans nothing when nothing changed', () => {
    expect(ddl(before, stopAll).statements).toEqual([]);
  });

  it('guards staging, adds the column (nullable), re-creates staging and the merge procedure', () => {
    const after = { ...before, columns: [...before.columns, { name: 'Email', type: 'text', nullable: false, toastable: true }] };
    const { statements, plan } = ddl(after, stopAll);
    expect(statements[0]).toMatch(/^DO \$cdc_guard\$\nBEGIN\n {2}IF EXISTS \(SELECT 1 FROM "cdc_staging"\."public\.Customer" LIMIT 1\)/);
    expect(statements.slice(1, 3)).toEqual(['ALTER TABLE "public"."Customer" ADD COLUMN IF NOT EXISTS "Email" text;', 'DROP TABLE IF EXISTS "cdc_staging"."public.Customer";']);
    expect(statements[3]).toBe(`CALL "cdc_management".upgrade_row_position('public', 'Customer', 'public.Customer');`);
    expect(statements[4]).toMatch(/^CREATE UNLOGGED TABLE IF NOT EXISTS "cdc_staging"\."public\.Customer" \(\n(?:.*\n){3} {2}"Email" text,/);
    expect(statements[5]).toMatch(/^DROP TRIGGER IF EXISTS/);
    expect(statements[6]).toMatch(/^CREATE OR REPLACE PROCEDURE "cdc_staging"\."sp_merge_public\.Customer"\(\)/);
    expect(statements[7]).toBe(`CALL "cdc_management".restore_source_fields('public', 'Customer');`);
    expect(statements).toHaveLength(8);
    expect(plan.target.columns.at(-1)).toMatchObject({ name: 'Email', nullable: true });
  });

  it("stops at a removed column with policy 'stop', before planning anything", () => {
    expect(() => ddl(without('points'), { drop: 'stop', typeChange: 'apply' })).toThrow(SchemaChangeError);
  });

  it("keeps an ignored removed column on the final table, without NOT NULL, and leaves it out of staging and merges", () => {
    const { statements, plan } = ddl(without('name'), { drop: 'ignore', typeChange: 'stop' });
    expect(statements[1]).toBe('ALTER TABLE "public"."Customer" ALTER COLUMN "name" DROP NOT NULL;');
    expect(statements.find((s) => s.startsWith('CREATE UNLOGGED'))).not.toMatch(/"name"/);
    expect(plan.changes.map((d) => `${d.change.kind} ${d.decision}`)).toEqual(['COLUMN_REMOVED keep']);
    expect(plan.target.columns.map((c) => c.name)).toEqual(['id', 'name', 'points']);
    expect(plan.merged.columns.map((c) => c.name)).toEqual(['id', 'points']);
  });

  it('converts a changed type with USING; staging gets the new type', () => {
    const { statements } = ddl(retyped, { drop: 'stop', typeChange: 'apply' });
    expect(statements[1]).toBe('ALTER TABLE "public"."Customer" ALTER COLUMN "points" TYPE bigint USING "points"::bigint;');
    expect(statements.find((s) => s.startsWith('CREATE UNLOGGED'))).toMatch(/"points" bigint,/);
  });

  it('reports but does not apply an ignored type change', () => {
    const { statements, plan } = ddl(retyped, { drop: 'stop', typeChange: 'ignore' });
    expect(statements).toEqual([]);
    expect(plan.changes.map((d) => `${d.change.kind} ${d.change.column} ${d.decision}`)).toEqual(['COLUMN_TYPE_CHANGED points keep']);
  });

  it('an ignored type change stays on staging at the next change (the final table as it is decides)', () => {
    // Earlier: points integer → bigint ignored; the definition says bigint, the table has integer.
    const after: TableSchema = { ...retyped, columns: [...retyped.columns, { name: 'Email', type: 'text', nullable: true, toastable: true }] };
    const { statements } = tableChangeDdl({ before: retyped, after, policy: stopAll, current: before });
    expect(statements.find((s) => s.startsWith('CREATE UNLOGGED'))).toMatch(/"points" integer,/);
  });

  it('drops and re-adds the named primary-key constraint, relaxing NOT NULL on a column that left the key', () => {
    const after: TableSchema = { ...before, primaryKey: ['name'], columns: before.columns.map((c) => (c.name === 'id' ? { ...c, nullable: true } : c)) };
    const { statements, plan } = ddl(after, stopAll);
    expect(statements.slice(1, 4)).toEqual([
      'ALTER TABLE "public"."Customer" DROP CONSTRAINT IF EXISTS "Customer_pkey";',
      'ALTER TABLE "public"."Customer" ALTER COLUMN "id" DROP NOT NULL;',
      'ALTER TABLE "public"."Customer" ADD CONSTRAINT "Customer_pkey" PRIMARY KEY ("name");',
    ]);
    expect(plan.changes.map((d) => d.change.kind)).toEqual(['COLUMN_NULLABILITY_CHANGED', 'PRIMARY_KEY_CHANGED']);
  });

  it("re-creates the merge procedure with the table's own options (soft delete), over the sink's defaults", () => {
    const after = { ...before, columns: [...before.columns, { name: 'x', type: 'text', nullable: true, toastable: true }] };
    const soft = tableChangeDdl({ before: { ...before, options: { softDelete: true } }, after, policy: stopAll, defaults: { softDelete: false } });
    const procedure = (statements: readonly string[]) => statements.find((s) => s.startsWith('CREATE OR REPLACE PROCEDURE'));
    expect(procedure(soft.statements)).toMatch(/"_cdc_deleted"/);
    const hard = tableChangeDdl({ before, after, policy: stopAll, defaults: { softDelete: false } });
    expect(procedure(hard.statements)).not.toMatch(/"_cdc_deleted"/);
  });

  it('refuses two different tables', () => {
    expect(() => ddl({ ...before, id: { schema: 'public', name: 'Other' } }, { drop: 'apply', typeChange: 'apply' })).toThrow(/different table/);
  });
});
