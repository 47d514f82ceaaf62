import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { infrastructureSql } from './infrastructure.js';
import { mergeProcedureSql } from './merge-procedure.js';
import { finalTableSql, stagingColumns, stagingTableSql } from './table-ddl.js';

const invoice: TableSchema = {
  id: { schema: 'Odd Schema', name: 'Invoice "Line"' },
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'Body', type: 'text', nullable: true, toastable: true },
  ],
};
const keyless: TableSchema = { ...invoice, primaryKey: [] };

describe('final table DDL', () => {
  it('declares source columns in order, then metadata, then the named primary key', () => {
    expect(finalTableSql(invoice, { softDelete: true })).toBe(
      [
        'CREATE SCHEMA IF NOT EXISTS "Odd Schema";',
        'CREATE TABLE IF NOT EXISTS "Odd Schema"."Invoice ""Line""" (',
        '  "id" integer NOT NULL,',
        '  "Body" text,',
        `  "_cdc_position" bytea NOT NULL DEFAULT '\\x'::bytea,`,
        '  "_cdc_commit_time" timestamptz,',
        '  "_cdc_synced_at" timestamptz NOT NULL DEFAULT now(),',
        '  "_cdc_deleted" boolean NOT NULL DEFAULT false,',
        '  CONSTRAINT "Invoice ""Line""_pkey" PRIMARY KEY ("id")',
        ');',
      ].join('\n'),
    );
  });

  it('has no soft-delete flag by default and no key for a keyless table', () => {
    const sql = finalTableSql(keyless);
    expect(sql).not.toContain('_cdc_deleted');
    expect(sql).not.toContain('PRIMARY KEY');
  });

  it('refuses a column under the reserved prefix', () => {
    const bad = { ...invoice, columns: [...invoice.columns, { name: '_cdc_x', type: 'int', nullable: true, toastable: false }] };
    expect(() => finalTableSql(bad)).toThrow(/_cdc_x/);
    expect(() => stagingTableSql(bad)).toThrow(/_cdc_x/);
    expect(() => mergeProcedureSql(bad)).toThrow(/_cdc_x/);
  });
});

describe('staging table DDL', () => {
  it('is UNLOGGED by default (LOGGED on request), all source columns nullable, then the four metadata columns', () => {
    expect(stagingTableSql(invoice)).toBe(
      [
        'CREATE UNLOGGED TABLE IF NOT EXISTS "cdc_staging"."Odd Schema.Invoice ""Line""" (',
        '  "id" integer,',
        '  "Body" text,',
        `  "_cdc_op" "char" NOT NULL CHECK ("_cdc_op" IN ('I', 'U', 'D', 'c', 'r', 'u', 'd')),`,
        '  "_cdc_position" bytea NOT NULL,',
        '  "_cdc_commit_time" timestamptz,',
        '  "_cdc_unchanged" text[]',
        ');',
        'ALTER TABLE "cdc_staging"."Odd Schema.Invoice ""Line""" SET UNLOGGED;',
      ].join('\n'),
    );
    expect(stagingTableSql(invoice, 'logged')).toMatch(/^CREATE TABLE IF NOT EXISTS [\s\S]*\nALTER TABLE "cdc_staging"\."Odd Schema\.Invoice ""Line""" SET LOGGED;$/);
    expect(stagingColumns(invoice)).toEqual(['id', 'Body', '_cdc_op', '_cdc_position', '_cdc_commit_time', '_cdc_unchanged']);
  });
});

describe('generated SQL', () => {
  it('is deterministic', () => {
    expect(infrastructureSql()).toBe(infrastructureSql());
    expect(mergeProcedureSql(invoice, { softDelete: true })).toBe(mergeProcedureSql(invoice, { softDelete: true }));
    expect(mergeProcedureSql(keyless)).toBe(mergeProcedureSql(keyless));
  });

  it('names the procedure after the table and fills only TOASTable columns', () => {
    const sql = mergeProcedureSql(invoice);
    expect(sql.startsWith('CREATE OR REPLACE PROCEDURE "cdc_staging"."sp_merge_Odd Schema.Invoice ""Line"""()')).toBe(true);
    expect(sql).toContain('fill_1 AS');
    expect(sql).not.toContain('fill_2 AS');
    expect(sql).toContain('ON CONFLICT ("id") DO UPDATE');
  });

  it('merges a keyless table by counting, comparing columns as text', () => {
    const sql = mergeProcedureSql(keyless);
    expect(sql).toContain('PARTITION BY s."id"::text, s."Body"::text');
    expect(sql).toContain('generate_series(1, n."_cdc_net")');
    expect(sql).not.toContain('ON CONFLICT ("id")');
  });

  it('creates the bookkeeping tables idempotently', () => {
    const sql = infrastructureSql();
    for (const name of ['offsets', 'merge_control', 'snapshot_progress', 'table_definitions', 'error_log', 'processing_log', 'migration_history']) {
      expect(sql).toContain(`CREATE TABLE IF NOT EXISTS "cdc_management"."${name}" (`);
    }
    expect(sql).not.toMatch(/CREATE TABLE (?!IF NOT EXISTS)/);
  });
});
