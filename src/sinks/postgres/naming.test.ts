import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import {
  MAX_IDENTIFIER_BYTES,
  UnsupportedTableError,
  assertSupportedTable,
  fitIdentifier,
  mergeProcedureId,
  primaryKeyConstraintName,
  stagingTableId,
} from './naming.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const table = (columns: string[], primaryKey: string[] = []): TableSchema => ({
  id: { schema: 'public', name: 'T' },
  primaryKey,
  columns: columns.map((name) => ({ name, type: 'text', nullable: true, toastable: true })),
});

describe('staging and procedure names', () => {
  it('joins schema and table with a literal dot, case and quotes kept', () => {
    expect(stagingTableId({ schema: 'Odd Schema', name: 'Invoice "Line"' })).toEqual({
      schema: 'cdc_staging',
      name: 'Odd Schema.Invoice "Line"',
    });
    expect(mergeProcedureId({ schema: 'public', name: 'Invoice' })).toEqual({ schema: 'cdc_staging', name: 'sp_merge_public.Invoice' });
  });

  it('shortens names past 63 bytes with a hash of the full name, keeping long names apart', () => {
    const a = stagingTableId({ schema: 'public', name: `${'x'.repeat(60)}_a` });
    const b = stagingTableId({ schema: 'public', name: `${'x'.repeat(60)}_b` });
    expect(bytes(a.name)).toBe(MAX_IDENTIFIER_BYTES);
    expect(a.name).toMatch(/^public\.x+_[0-9a-f]{8}$/);
    expect(a.name).not.toBe(b.name);
    const expected = createHash('sha256').update(`public\u0000${'x'.repeat(60)}_a`).digest('hex').slice(0, 8);
    expect(a.name.endsWith(`_${expected}`)).toBe(true);
    const proc = mergeProcedureId({ schema: 'public', name: `${'x'.repeat(60)}_a` });
    expect(bytes(proc.name)).toBe(MAX_IDENTIFIER_BYTES);
    expect(proc.name.startsWith('sp_merge_public.')).toBe(true);
  });

  it('keeps a name of exactly 63 bytes and cuts multi-byte names at a character boundary', () => {
    const exact = 'p.' + 'y'.repeat(61);
    expect(stagingTableId({ schema: 'p', name: 'y'.repeat(61) }).name).toBe(exact);
    const cut = fitIdentifier('é'.repeat(40)); // 80 bytes
    expect(bytes(cut)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    expect(cut).toMatch(/^é+_[0-9a-f]{8}$/);
  });

  it('tells apart tables whose joined names would be equal because a part contains a dot', () => {
    const a = stagingTableId({ schema: 'a.b', name: 'c' });
    const b = stagingTableId({ schema: 'a', name: 'b.c' });
    expect(a.name).not.toBe(b.name);
    expect(a.name).toMatch(/^a\.b\.c_[0-9a-f]{8}$/);
  });

  it('names the primary-key constraint <table>_pkey, shortened when needed', () => {
    expect(primaryKeyConstraintName({ schema: 's', name: 'Invoice' })).toBe('Invoice_pkey');
    expect(bytes(primaryKeyConstraintName({ schema: 's', name: 'z'.repeat(63) }))).toBe(MAX_IDENTIFIER_BYTES);
  });

  it('is deterministic', () => {
    const id = { schema: 'public', name: 'q'.repeat(80) };
    expect(stagingTableId(id)).toEqual(stagingTableId(id));
  });
});

describe('assertSupportedTable', () => {
  it('rejects a column under the reserved prefix, naming table and column', () => {
    let error: unknown;
    try {
      assertSupportedTable(table(['id', '_cdc_lsn']));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedTableError);
    expect(error).toMatchObject({ code: 'RESERVED_COLUMN_NAME', column: '_cdc_lsn' });
    expect((error as Error).message).toMatch(/"_cdc_lsn" of public\."T".*rename/);
  });

  it('accepts the prefix in another case (quoted identifiers are case-sensitive)', () => {
    expect(() => assertSupportedTable(table(['_CDC_lsn']))).not.toThrow();
  });

  it('rejects duplicate columns, unknown key columns and tables without columns', () => {
    expect(() => assertSupportedTable(table(['a', 'a']))).toThrow(expect.objectContaining({ code: 'DUPLICATE_COLUMN' }));
    expect(() => assertSupportedTable(table(['a'], ['b']))).toThrow(expect.objectContaining({ code: 'UNKNOWN_KEY_COLUMN' }));
    expect(() => assertSupportedTable(table([]))).toThrow(expect.objectContaining({ code: 'NO_COLUMNS' }));
  });
});
