import { describe, expect, it } from 'vitest';
import type { SourcePosition } from '../../events/debezium/index.js';
import type { TableSchema } from '../../schema/table.js';
import { olderShape } from './source.js';

const known: TableSchema = {
  id: { schema: 'public', name: 't' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'amount', type: 'numeric(16,2)', nullable: true, toastable: false },
    { name: 'tag', type: 'text', nullable: true, toastable: true },
  ],
  primaryKey: ['id'],
};
const pg = (lsn: bigint): SourcePosition => ({ connector: 'postgresql', sortKey: [lsn, lsn], text: String(lsn) });
const without = (name: string): TableSchema => ({ ...known, columns: known.columns.filter((c) => c.name !== name) });
const retyped = (name: string, type: string): TableSchema => ({ ...known, columns: known.columns.map((c) => (c.name === name ? { ...c, type } : c)) });

describe('olderShape', () => {
  it('reads an older event that lacks a column or has a narrower type in the known shape', () => {
    expect(olderShape(known, without('tag'), pg(10n), pg(20n))).toBe(true);
    expect(olderShape(known, retyped('amount', 'numeric(12,2)'), pg(10n), pg(20n))).toBe(true);
  });
  it('applies the same narrowing from a newer event (a real schema change on the source)', () => {
    expect(olderShape(known, without('tag'), pg(30n), pg(20n))).toBe(false);
  });
  it('never narrows when the positions cannot be compared', () => {
    expect(olderShape(known, without('tag'), { connector: 'broker', sortKey: [5n], text: '5' }, pg(20n))).toBe(true);
    expect(olderShape(known, without('tag'), pg(30n), undefined)).toBe(true);
  });
  it('is not an older shape when it adds a column, changes a type otherwise, or has another key', () => {
    expect(olderShape(known, { ...known, columns: [...known.columns, { name: 'x', type: 'text', nullable: true, toastable: true }] }, pg(10n), pg(20n))).toBe(false);
    expect(olderShape(known, retyped('tag', 'integer'), pg(10n), pg(20n))).toBe(false);
    expect(olderShape(known, { ...without('tag'), primaryKey: ['amount'] }, pg(10n), pg(20n))).toBe(false);
    expect(olderShape(known, known, pg(10n), pg(20n))).toBe(false);
  });
});
