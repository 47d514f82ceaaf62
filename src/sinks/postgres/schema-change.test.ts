import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { SchemaChangeError, planSchemaChange } from './schema-change.js';

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

describe('planSchemaChange', () => {
  it('plans nothing when nothing changed', () => {
    expect(planSchemaChange(before, before, { drop: 'stop', typeChange: 'stop' })).toEqual({ sql: [], changes: [] });
  });

  it('adds a column to final (nullable) and staging, then re-creates the procedure', () => {
    const after = { ...before, columns: [...before.columns, { name: 'Email', type: 'text', nullable: false, toastable: true }] };
    const plan = planSchemaChange(before, after, { drop: 'stop', typeChange: 'stop' });
    expect(plan.sql.slice(0, 2)).toEqual([
      'ALTER TABLE "public"."Customer" ADD COLUMN IF NOT EXISTS "Email" text;',
      'ALTER TABLE "cdc_staging"."public.Customer" ADD COLUMN IF NOT EXISTS "Email" text;',
    ]);
    expect(plan.sql[2]).toMatch(/^CREATE OR REPLACE PROCEDURE "cdc_staging"\."sp_merge_public\.Customer"\(\)/);
    expect(plan.sql).toHaveLength(3);
  });

  it("stops at a removed column with policy 'stop', naming table, column and the option", () => {
    let error: unknown;
    try {
      planSchemaChange(before, without('points'), { drop: 'stop', typeChange: 'apply' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaChangeError);
    expect(error).toMatchObject({ code: 'SCHEMA_CHANGE_STOPPED', column: 'points', kind: 'COLUMN_REMOVED' });
    expect((error as Error).message).toMatch(/public\."Customer".*"points".*drop policy/);
  });

  it("stops at a type change with policy 'stop'", () => {
    expect(() => planSchemaChange(before, retyped, { drop: 'apply', typeChange: 'stop' })).toThrow(
      expect.objectContaining({ code: 'SCHEMA_CHANGE_STOPPED', kind: 'COLUMN_TYPE_CHANGED', message: expect.stringMatching(/typeChange/) }),
    );
  });

  it("keeps an ignored removed column on the final table, without NOT NULL, and drops it from staging", () => {
    const plan = planSchemaChange(before, without('name'), { drop: 'ignore', typeChange: 'stop' });
    expect(plan.sql.slice(0, 2)).toEqual([
      'ALTER TABLE "public"."Customer" ALTER COLUMN "name" DROP NOT NULL;',
      'ALTER TABLE "cdc_staging"."public.Customer" DROP COLUMN IF EXISTS "name";',
    ]);
    expect(plan.changes).toEqual([{ kind: 'COLUMN_REMOVED', column: 'name', detail: 'ignored: kept on the target, NULL from now on' }]);
  });

  it('converts a changed type on final and staging with USING', () => {
    const plan = planSchemaChange(before, retyped, { drop: 'stop', typeChange: 'apply' });
    expect(plan.sql.slice(0, 2)).toEqual([
      'ALTER TABLE "public"."Customer" ALTER COLUMN "points" TYPE bigint USING "points"::bigint;',
      'ALTER TABLE "cdc_staging"."public.Customer" ALTER COLUMN "points" TYPE bigint USING "points"::bigint;',
    ]);
  });

  it('reports but does not apply an ignored type change', () => {
    const plan = planSchemaChange(before, retyped, { drop: 'stop', typeChange: 'ignore' });
    expect(plan.sql).toEqual([]);
    expect(plan.changes[0]).toMatchObject({ kind: 'COLUMN_TYPE_CHANGED', column: 'points' });
  });

  it('drops and re-adds the named primary-key constraint, relaxing NOT NULL on a column that left the key', () => {
    const after: TableSchema = {
      ...before,
      primaryKey: ['name'],
      columns: before.columns.map((c) => (c.name === 'id' ? { ...c, nullable: true } : c)),
    };
    const plan = planSchemaChange(before, after, { drop: 'stop', typeChange: 'stop' });
    expect(plan.sql.slice(0, 3)).toEqual([
      'ALTER TABLE "public"."Customer" DROP CONSTRAINT IF EXISTS "Customer_pkey";',
      'ALTER TABLE "public"."Customer" ALTER COLUMN "id" DROP NOT NULL;',
      'ALTER TABLE "public"."Customer" ADD CONSTRAINT "Customer_pkey" PRIMARY KEY ("name");',
    ]);
    expect(plan.changes.map((c) => c.kind)).toEqual(['PRIMARY_KEY_CHANGED', 'NULLABILITY_CHANGED']);
  });

  it('refuses two different tables', () => {
    expect(() => planSchemaChange(before, { ...before, id: { schema: 'public', name: 'Other' } }, { drop: 'apply', typeChange: 'apply' })).toThrow(
      /different table/,
    );
  });
});
