import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../change.js';
import type { TableSchema } from '../../schema/table.js';
import { typedRowDecoder } from './typed-row.js';

const table: TableSchema = {
  id: { schema: 'public', name: 't' },
  columns: [
    { name: 'id', type: 'bigint', nullable: false, toastable: false },
    { name: 'price', type: 'numeric(10,2)', logicalType: { kind: 'decimal', precision: 10, scale: 2 }, nullable: true, toastable: true },
    { name: 'at', type: 'timestamp(6) with time zone', nullable: true, toastable: false },
    { name: 'tags', type: 'text[]', nullable: true, toastable: true },
    { name: 'body', type: 'text', nullable: true, toastable: true },
  ],
  primaryKey: ['id'],
};

describe('typedRowDecoder', () => {
  it('decodes each column by its logical type (stored or from its PostgreSQL type), keeping NULL and unchanged values', () => {
    const decode = typedRowDecoder(table);
    const [id, price, at, tags, body] = decode(['9007199254740993', '12.50', '2026-12-04 16:28:27.5+00', '{a,"b c",NULL}', UNCHANGED]);
    expect(id).toBe(9007199254740993n);
    expect(price).toMatchObject({ scale: 2 });
    expect(at).toBe(1796401707500000n);
    expect(tags).toEqual(['a', 'b c', null]);
    expect(body).toBe(UNCHANGED);
    expect(decode([ '1', null, null, null, null])).toEqual([1n, null, null, null, null]);
  });

  it('names the type and the value it cannot read', () => {
    expect(() => typedRowDecoder(table)(['x', null, null, null, null])).toThrow(/int64.*x|x.*int64/);
  });
});
