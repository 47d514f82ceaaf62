import { describe, expect, it } from 'vitest';
import { decodeDebeziumRecord, type DebeziumChangeRecord } from '../../events/debezium/index.js';
import type { TableSchema } from '../../schema/table.js';
import { debeziumEvent } from '../../testing/debezium-events.js';
import { PositionBase } from '../../events/position.js';
import { changeFromRecord, tableFromRecord } from './record-mapping.js';

const table: TableSchema = {
  id: { schema: 'public', name: 'accounts' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'note', type: 'text', nullable: true, toastable: true },
  ],
  primaryKey: ['id'],
};

function record(id: number, note: string): DebeziumChangeRecord {
  const value = debeziumEvent({ table, op: 'u', after: { id: String(id), note }, lsn: 100n, txId: 1, tsMs: 1_700_000_000_000 });
  const r = decodeDebeziumRecord({ value, topic: 'dbz.public.accounts' });
  if (r.kind !== 'change') throw new Error('expected a change');
  return r;
}

describe('tableFromRecord', () => {
  it('gives one frozen table per shape, id and key, and a new one when they differ', () => {
    const id = { schema: 'public', name: 'accounts' };
    const a = tableFromRecord(record(1, 'x'), id, ['id']);
    const b = tableFromRecord(record(2, 'y'), { ...id }, ['id']);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a.primaryKey).toEqual(['id']);
    expect(a.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'integer', false],
      ['note', 'text', true],
    ]);
    const otherKey = tableFromRecord(record(3, 'z'), id, ['id', 'note']);
    expect(otherKey).not.toBe(a);
    expect(otherKey.primaryKey).toEqual(['id', 'note']);
    const otherTable = tableFromRecord(record(4, 'w'), { schema: 'dw', name: 'accounts' }, ['id']);
    expect(otherTable).not.toBe(a);
    expect(otherTable.id).toEqual({ schema: 'dw', name: 'accounts' });
  });

  it('maps the row values onto the table', () => {
    const r = record(7, 'seven');
    const t = tableFromRecord(r, r.table, ['id']);
    const origin = { position: new PositionBase([7n]), commitTime: new Date(0) };
    const change = changeFromRecord(r, t, origin, () => 'here');
    expect(change.kind).toBe('update');
    if (change.kind === 'update') expect(change).toMatchObject({ row: ['7', 'seven'], origin, ordinal: 0 });
  });
});

describe('column defaults from the schema', () => {
  it('become the value rows had before the column was added (missingValue), read like values; undecodable ones are left out', () => {
    const row = {
      type: 'struct',
      optional: true,
      name: 'pg.public.items.Value',
      fields: [
        { type: 'int32', optional: false, field: 'id' },
        { type: 'int32', optional: true, default: 7, field: 'qty' },
        // 12.50 as Connect's Decimal: the unscaled 1250 in big-endian bytes, base64
        { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '10' }, default: 'BOI=', field: 'price' },
        { type: 'string', optional: true, default: 'n/a', field: 'note' },
        { type: 'int32', optional: true, name: 'io.debezium.time.Date', version: 1, default: 'not a date', field: 'odd' },
        { type: 'string', optional: true, field: 'plain' },
      ],
    };
    const value = JSON.stringify({
      schema: {
        type: 'struct',
        name: 'pg.public.items.Envelope',
        optional: false,
        fields: [
          { ...row, field: 'before' },
          { ...row, field: 'after' },
          { type: 'struct', name: 'io.debezium.connector.postgresql.Source', optional: false, field: 'source', fields: [{ type: 'string', optional: false, field: 'schema' }, { type: 'string', optional: false, field: 'table' }] },
          { type: 'string', optional: false, field: 'op' },
        ],
      },
      payload: { before: null, after: { id: 1, qty: 2, price: 'BOI=', note: 'x', odd: 1, plain: null }, source: { schema: 'public', table: 'items' }, op: 'c' },
    });
    const r = decodeDebeziumRecord({ value, topic: 'pg.public.items', partition: 0, offset: 5n });
    if (r.kind !== 'change') throw new Error('expected a change');
    const t = tableFromRecord(r, { schema: 'public', name: 'items' }, ['id']);
    expect(Object.fromEntries(t.columns.map((c) => [c.name, c.missingValue]))).toEqual({ id: undefined, qty: '7', price: '12.50', note: 'n/a', odd: undefined, plain: undefined });
  });
});
