import { describe, expect, it } from 'vitest';
import { diffTable, diffTables, type SchemaChange } from '../../schema/schema-diff.js';
import type { TableSchema } from '../../schema/table.js';
import { UnsupportedSchemaChangeError, schemaChangeSql } from './schema-change-sql.js';

const col = (name: string, type: string, nullable = true) => ({ name, type, nullable, toastable: false });
const before: TableSchema = { id: { schema: 'public', name: 'Customer' }, columns: [col('id', 'integer', false), col('name', 'text', false), col('fax', 'text', false)], primaryKey: ['id'] };
const sql = (change: SchemaChange | undefined, decision: 'apply' | 'keep' = 'apply') => schemaChangeSql(change!, decision).map((s) => `${s.step}: ${s.sql}`);

describe('the schema-change converter', () => {
  it('has SQL for every kind the diff produces', () => {
    const added = { ...col('Email', 'text', false), missingValue: 'n/a' };
    const after: TableSchema = { ...before, columns: [col('id', 'bigint', true), col('name', 'text', false), added], primaryKey: ['name'] };
    const [add, remove, retype, relax, key] = diffTable(before, after);
    expect(sql(add)).toEqual([
      `add-column: ALTER TABLE "public"."Customer" ADD COLUMN IF NOT EXISTS "Email" text DEFAULT 'n/a'::text;`,
      'add-column: ALTER TABLE "public"."Customer" ALTER COLUMN "Email" DROP DEFAULT;',
    ]);
    expect(sql(remove)).toEqual(['remove: ALTER TABLE "public"."Customer" DROP COLUMN IF EXISTS "fax";']);
    expect(sql(remove, 'keep')).toEqual(['remove: ALTER TABLE "public"."Customer" ALTER COLUMN "fax" DROP NOT NULL;']);
    expect(sql(retype)).toEqual(['retype: ALTER TABLE "public"."Customer" ALTER COLUMN "id" TYPE bigint USING "id"::bigint;']);
    expect(sql(retype, 'keep')).toEqual([]);
    expect(sql(relax)).toEqual(['relax: ALTER TABLE "public"."Customer" ALTER COLUMN "id" DROP NOT NULL;']);
    expect(sql(key)).toEqual([
      'drop-key: ALTER TABLE "public"."Customer" DROP CONSTRAINT IF EXISTS "Customer_pkey";',
      'add-key: ALTER TABLE "public"."Customer" ADD CONSTRAINT "Customer_pkey" PRIMARY KEY ("name");',
    ]);
    const [tableAdded, tableRemoved] = [...diffTables([], [before]), ...diffTables([before], [])];
    expect(sql(tableAdded)).toEqual([
      'create: CREATE SCHEMA IF NOT EXISTS "public";',
      expect.stringMatching(/^create: CREATE TABLE IF NOT EXISTS "public"."Customer" \(\n {2}"id" integer NOT NULL,/),
      `create: CALL "cdc_management".upgrade_row_position('public', 'Customer', 'public.Customer');`,
      expect.stringMatching(/^create: CREATE UNLOGGED TABLE IF NOT EXISTS "cdc_staging"."public.Customer"/),
      expect.stringMatching(/^create: DROP TRIGGER IF EXISTS "cdc_mark_public.Customer"/),
      expect.stringMatching(/^create: CREATE OR REPLACE PROCEDURE "cdc_staging"."sp_merge_public.Customer"/),
    ]);
    expect(sql(tableRemoved)).toEqual([
      'drop: DROP PROCEDURE IF EXISTS "cdc_staging"."sp_merge_public.Customer"();',
      'drop: DROP TABLE IF EXISTS "cdc_staging"."public.Customer";',
      'drop: DROP TABLE IF EXISTS "public"."Customer";',
      "drop: DELETE FROM cdc_management.merge_control WHERE schema_name = 'public' AND table_name = 'Customer';",
      "drop: DELETE FROM cdc_management.source_fields WHERE schema_name = 'public' AND table_name = 'Customer';",
    ]);
    expect(sql(tableRemoved, 'keep')).toEqual([]);
  });

  it('throws for a change kind it has no case for, instead of leaving it out', () => {
    const renamed = { ...diffTable(before, { ...before, columns: before.columns.slice(0, 2) })[0]!, kind: 'COLUMN_SPLIT' } as unknown as SchemaChange;
    expect(() => schemaChangeSql(renamed, 'apply')).toThrow(UnsupportedSchemaChangeError);
    expect(() => schemaChangeSql(renamed, 'apply')).toThrow(expect.objectContaining({ code: 'SCHEMA_CHANGE_UNSUPPORTED', message: expect.stringMatching(/COLUMN_SPLIT.*public\."Customer"/) }));
  });
});
