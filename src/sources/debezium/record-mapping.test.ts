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
