import { describe, expect, it } from 'vitest';
import { diffTable, diffTables } from '../../schema/schema-diff.js';
import type { TableSchema } from '../../schema/table.js';
import { logicalTypeOf } from '../../schema/type-map.js';
import { deltaMigrationBody, parseDeltaStatements } from './migration-statements.js';

const col = (name: string, type: string, nullable = true) => ({ name, type, logicalType: logicalTypeOf(type), nullable, toastable: false });
const before: TableSchema = {
  id: { schema: 'sales', name: 'order_line' },
  columns: [col('order_id', 'integer', false), col('note', 'character varying(10)', false), col('amount', 'numeric(10,2)')],
  primaryKey: ['order_id'],
  options: { softDelete: true },
};
const context = { target: { location: '/lake', tables: { 'sales.order_line': { partition_by: ['order_id'] } }, change_data_feed: false }, definitionFile: 'schemas/shop/Sales/OrderLine.yaml' };

describe('Delta migration statements (a converter per change kind)', () => {
  it('TABLE_ADDED: create_table with the Delta schema, key, partition columns, CDF and soft delete from the settings', () => {
    const body = deltaMigrationBody(diffTables([], [before]), context);
    expect(parseDeltaStatements(body, 'f.yaml')).toEqual([
      {
        create_table: {
          schema: 'sales', name: 'order_line', primary_key: ['order_id'], partition_by: ['order_id'], change_data_feed: false, soft_delete: true,
          columns: [{ name: 'order_id', type: 'integer' }, { name: 'note', type: 'string' }, { name: 'amount', type: 'decimal(10,2)' }],
        },
      },
    ]);
  });

  it('added columns become one add_columns; a NOT NULL dropped or a type kept within its Delta type needs nothing', () => {
    const after: TableSchema = { ...before, columns: [col('order_id', 'integer', false), col('note', 'text'), col('amount', 'numeric(10,2)'), col('day', 'date'), col('tags', 'text[]')] };
    expect(parseDeltaStatements(deltaMigrationBody(diffTable(before, after), context), 'f.yaml')).toEqual([
      { add_columns: { schema: 'sales', name: 'order_line', columns: [{ name: 'day', type: 'date' }, { name: 'tags', type: { type: 'array', elementType: 'string', containsNull: true } }] } },
    ]);
    expect(deltaMigrationBody(diffTable(before, { ...before, columns: [before.columns[0]!, col('note', 'text'), before.columns[2]!] }), context)).toBe('');
  });

  it('a removed, renamed or retyped column and a key change stop with MIGRATION_UNSUPPORTED naming file, table and column', () => {
    const removed = { ...before, columns: before.columns.filter((c) => c.name !== 'amount') };
    expect(() => deltaMigrationBody(diffTable(before, removed), context)).toThrow(
      expect.objectContaining({ code: 'MIGRATION_UNSUPPORTED', message: expect.stringMatching(/^schemas\/shop\/Sales\/OrderLine\.yaml: sales\.order_line\.amount: COLUMN_REMOVED: .*column mapping/) }),
    );
    const retyped = { ...before, columns: [before.columns[0]!, before.columns[1]!, col('amount', 'numeric(12,2)')] };
    expect(() => deltaMigrationBody(diffTable(before, retyped), context)).toThrow(expect.objectContaining({ code: 'MIGRATION_UNSUPPORTED', message: expect.stringMatching(/amount: COLUMN_TYPE_CHANGED \(numeric\(10,2\) → numeric\(12,2\)\)/) }));
    expect(() => deltaMigrationBody(diffTable(before, { ...before, primaryKey: ['order_id', 'note'] }), context)).toThrow(expect.objectContaining({ code: 'MIGRATION_UNSUPPORTED', message: expect.stringMatching(/PRIMARY_KEY_CHANGED/) }));
  });

  it('a body that is not a list of statements is MIGRATIONS_INVALID naming the file', () => {
    expect(() => parseDeltaStatements('- drop_table: { schema: s }\n', '02-changes/0001-t.yaml')).toThrow(expect.objectContaining({ code: 'MIGRATIONS_INVALID', message: expect.stringMatching(/^02-changes\/0001-t\.yaml: /) }));
  });
});
