import { describe, expect, it } from 'vitest';
import { SchemaChangeError } from './schema-change-error.js';
import { decideChange, decideChanges, migrationPolicy, type SchemaChangePolicy } from './schema-change-policy.js';
import { diffTable, diffTables, type SchemaChange } from './schema-diff.js';
import type { TableSchema } from './table.js';

const col = (name: string, type: string, nullable = true) => ({ name, type, nullable, toastable: false });
const before: TableSchema = { id: { schema: 'public', name: 't' }, columns: [col('id', 'integer', false), col('a', 'text', false), col('b', 'integer')], primaryKey: ['id'] };
const after: TableSchema = { ...before, columns: [col('id', 'integer', false), col('a', 'text'), col('b', 'bigint'), col('c', 'date')], primaryKey: ['id', 'a'] };
const removed: TableSchema = { ...before, columns: before.columns.filter((c) => c.name !== 'b') };
const decisions = (changes: readonly SchemaChange[], policy: SchemaChangePolicy) => changes.map((c) => `${c.kind} ${decideChange(c, policy)}`);

describe('one policy filter for cdc run and cdc migrations', () => {
  it('always applies added columns and tables, dropped NOT NULL and key changes', () => {
    const stopAll: SchemaChangePolicy = { drop: 'stop', typeChange: 'stop' };
    const changes = diffTable(before, after).filter((c) => c.kind !== 'COLUMN_TYPE_CHANGED');
    expect(decisions(changes, stopAll)).toEqual(['COLUMN_ADDED apply', 'PRIMARY_KEY_CHANGED apply']);
    const relaxed = diffTable(before, { ...before, columns: [col('id', 'integer', false), col('a', 'text'), col('b', 'integer')] });
    expect(decisions(relaxed, stopAll)).toEqual(['COLUMN_NULLABILITY_CHANGED apply']);
    expect(decisions(diffTables([], [before]), stopAll)).toEqual(['TABLE_ADDED apply']);
  });

  it('cdc run: drop and type changes follow apply | ignore (keep) | stop', () => {
    const [drop] = diffTable(before, removed);
    const retype = diffTable(before, after).find((c) => c.kind === 'COLUMN_TYPE_CHANGED')!;
    expect([drop, retype].map((c) => decideChange(c!, { drop: 'ignore', typeChange: 'apply' }))).toEqual(['keep', 'apply']);
    expect([drop, retype].map((c) => decideChange(c!, { drop: 'apply', typeChange: 'ignore' }))).toEqual(['apply', 'keep']);
    expect([drop, retype].map((c) => decideChange(c!, { drop: 'stop', typeChange: 'stop' }))).toEqual(['stop', 'stop']);
  });

  it('cdc migrations diff --write: destructive changes are left out without --allow-destructive', () => {
    const changes = [...diffTable(before, removed), ...diffTables([before], [])];
    expect(decisions(changes, migrationPolicy(false))).toEqual(['COLUMN_REMOVED leave-out', 'TABLE_REMOVED leave-out']);
    expect(decisions(changes, migrationPolicy(true))).toEqual(['COLUMN_REMOVED apply', 'TABLE_REMOVED apply']);
  });

  it('decideChanges stops at the first stop, naming table, column and the policy option', () => {
    let error: unknown;
    try {
      decideChanges(diffTable(before, removed), { drop: 'stop', typeChange: 'apply' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaChangeError);
    expect(error).toMatchObject({ code: 'SCHEMA_CHANGE_STOPPED', column: 'b', kind: 'COLUMN_REMOVED' });
    expect((error as Error).message).toMatch(/public\.t.*"b".*drop policy/);
    expect(() => decideChanges(diffTable(before, after), { drop: 'apply', typeChange: 'stop' })).toThrow(
      expect.objectContaining({ kind: 'COLUMN_TYPE_CHANGED', message: expect.stringMatching(/typeChange/) }),
    );
  });

  it('an unknown change kind is an error, never applied', () => {
    const unknown = { ...diffTable(before, removed)[0]!, kind: 'COLUMN_SPLIT' } as unknown as SchemaChange;
    expect(() => decideChange(unknown, migrationPolicy(true))).toThrow(/COLUMN_SPLIT/);
  });
});
