import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../../events/change.js';
import { PositionBase } from '../../events/position.js';
import type { TableSchema } from '../../schema/table.js';
import { RowEncoder } from './row-encoder.js';

const keyed: TableSchema = {
  id: { schema: 'public', name: 't' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'body', type: 'text', nullable: true, toastable: true },
  ],
  primaryKey: ['id'],
};
const keyless: TableSchema = { ...keyed, primaryKey: [] };
const table = { schema: 'public', name: 't' };
const origin = { position: new PositionBase([100n]), commitTime: new Date('2026-01-01T00:00:00.000Z') };

function encode(schema: TableSchema, change: Parameters<RowEncoder['encode']>[0]): string[] {
  const out: string[] = [];
  new RowEncoder(schema).encode(change, origin.position.hex, '2026-01-01T00:00:00.000Z', out);
  return out;
}

describe('RowEncoder', () => {
  it('stages inserts with escaped values at position [base, 2k+1] (COPY text of a bytea: \\\\x and hex)', () => {
    expect(encode(keyed, { kind: 'insert', table, origin, ordinal: 3, row: ['1', 'a\tb'] })).toEqual([
      '1\ta\\tb\tI\t\\\\x01640107\t2026-01-01T00:00:00.000Z\t\\N\n',
    ]);
  });

  it('lists unchanged TOAST columns and stages NULL in their place', () => {
    expect(encode(keyed, { kind: 'update', table, origin, ordinal: 0, row: ['1', UNCHANGED] })).toEqual([
      '1\t\\N\tU\t\\\\x01640101\t2026-01-01T00:00:00.000Z\t{"body"}\n',
    ]);
  });

  it('turns a primary-key change into delete of the old key then upsert of the new', () => {
    const lines = encode(keyed, { kind: 'update', table, origin, ordinal: 0, row: ['2', 'x'], oldRow: ['1', null] });
    expect(lines.map((l) => l.split('\t').slice(0, 4))).toEqual([
      ['1', '\\N', 'D', '\\\\x016400'],
      ['2', 'x', 'U', '\\\\x01640101'],
    ]);
  });

  it('stages only the upsert when a full old row has the same key', () => {
    expect(encode(keyed, { kind: 'update', table, origin, ordinal: 0, row: ['1', 'y'], oldRow: ['1', 'x'] })).toHaveLength(1);
  });

  it('stages a keyless update as delete of the old row plus insert of the new', () => {
    const lines = encode(keyless, { kind: 'update', table, origin, ordinal: 1, row: ['1', 'y'], oldRow: ['1', 'x'] });
    expect(lines.map((l) => l.split('\t').slice(0, 4))).toEqual([
      ['1', 'x', 'D', '\\\\x01640102'],
      ['1', 'y', 'I', '\\\\x01640103'],
    ]);
  });

  it('refuses a keyless update without its old row, naming the remedy', () => {
    expect(() => encode(keyless, { kind: 'update', table, origin, ordinal: 0, row: ['1', 'y'] })).toThrow(
      expect.objectContaining({ code: 'MISSING_OLD_ROW', remedy: expect.stringMatching(/REPLICA IDENTITY FULL/) }),
    );
  });

  it('refuses rows of the wrong width', () => {
    expect(() => encode(keyed, { kind: 'insert', table, origin, ordinal: 0, row: ['1'] })).toThrow(/2 columns/);
  });

  describe('dropping superseded rows', () => {
    const run = (schema: TableSchema, changes: Parameters<RowEncoder['encode']>[0][]) => {
      const out: string[] = [];
      const latest = new Map<string, number>();
      const encoder = new RowEncoder(schema);
      let bytes = 0;
      for (const c of changes) bytes += encoder.encode(c, '100', 'T', out, latest);
      const kept = out.filter((l) => l !== '');
      expect(bytes).toBe(kept.join('').length);
      return kept.map((l) => l.split('\t').slice(0, 3).join(' '));
    };

    it('keeps one row per key when later rows carry every value or delete', () => {
      expect(
        run(keyed, [
          { kind: 'insert', table, origin, ordinal: 0, row: ['1', 'a'] },
          { kind: 'update', table, origin, ordinal: 1, row: ['1', 'b'] },
          { kind: 'insert', table, origin, ordinal: 2, row: ['2', 'x'] },
          { kind: 'update', table, origin, ordinal: 3, row: ['1', 'c'] },
          { kind: 'delete', table, origin, ordinal: 4, oldRow: ['2', null] },
        ]),
      ).toEqual(['1 c U', '2 \\N D']);
    });

    it('keeps the rows an update with unchanged values fills from', () => {
      expect(
        run(keyed, [
          { kind: 'insert', table, origin, ordinal: 0, row: ['1', 'big'] },
          { kind: 'update', table, origin, ordinal: 1, row: ['1', UNCHANGED] },
        ]),
      ).toEqual(['1 big I', '1 \\N U']);
    });

    it('never drops rows of a table without a primary key', () => {
      expect(
        run(keyless, [
          { kind: 'insert', table, origin, ordinal: 0, row: ['1', 'a'] },
          { kind: 'insert', table, origin, ordinal: 1, row: ['1', 'a'] },
        ]),
      ).toHaveLength(2);
    });
  });
});
