/**
 * Schema evolution for the PostgreSQL sink (DESIGN.md §3.8): from a table's definition before and
 * after a change on the source, the ALTER statements for its final and staging tables and the
 * re-created merge procedure, under a policy for lossy changes.
 */
import { CdcError } from '../../errors.js';
import { formatTableId, sameTable, type ColumnSchema, type TableId, type TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteLiteral, quoteTable } from '../../sql/quote.js';
import { mergeProcedureSql } from './merge-procedure.js';
import { assertSupportedTable, primaryKeyConstraintName, stagingTableId } from './naming.js';
import { columnDefinition, type TableOptions } from './table-ddl.js';

/** What to do with a lossy change: do it on the target, leave the target as it is, or stop. */
export type SchemaChangeAction = 'apply' | 'ignore' | 'stop';

/** The policy for changes that lose data or can fail; ADD COLUMN is always applied. */
export interface SchemaChangePolicy {
  /** A column removed on the source: drop it, keep it (new rows get NULL), or stop. */
  readonly drop: SchemaChangeAction;
  /** A column whose type changed: ALTER COLUMN TYPE, keep the old type, or stop. */
  readonly typeChange: SchemaChangeAction;
}

/** {@link SchemaChangePolicy} plus the table's options (for the re-created merge procedure). */
export interface SchemaChangeOptions extends SchemaChangePolicy, TableOptions {}

/** Kinds of change reported, named as `cdc migrations diff` names them (DESIGN.md §5). */
export type SchemaChangeKind =
  | 'COLUMN_ADDED'
  | 'COLUMN_REMOVED'
  | 'COLUMN_TYPE_CHANGED'
  | 'PRIMARY_KEY_CHANGED'
  | 'NULLABILITY_CHANGED';

/** One change found between two definitions of a table. */
export interface SchemaChange {
  readonly kind: SchemaChangeKind;
  /** The column concerned; absent for PRIMARY_KEY_CHANGED. */
  readonly column?: string;
  /** What changed and what the plan does about it, for logs. */
  readonly detail: string;
}

/** What {@link planSchemaChange} returns. */
export interface SchemaChangePlan {
  /** Statements to run in order, in one transaction; empty when the target needs nothing. */
  readonly sql: string[];
  /** Changes found, also those that need no SQL. */
  readonly changes: SchemaChange[];
}

/**
 * A change the policy says to stop at. `code` is always `SCHEMA_CHANGE_STOPPED`; not retryable;
 * `remedy` names the policy option to change.
 */
export class SchemaChangeError extends CdcError {
  declare readonly code: 'SCHEMA_CHANGE_STOPPED';
  /** The table (as the source names it). */
  readonly table: TableId;
  /** The column concerned. */
  readonly column: string;
  /** The kind of change that was stopped. */
  readonly kind: SchemaChangeKind;

  constructor(message: string, remedy: string, change: { table: TableId; column: string; kind: SchemaChangeKind }) {
    super('SCHEMA_CHANGE_STOPPED', message, { remedy, context: { table: formatTableId(change.table), column: change.column, kind: change.kind } });
    this.name = 'SchemaChangeError';
    this.table = change.table;
    this.column = change.column;
    this.kind = change.kind;
  }
}

/** Throws when the policy says stop for a removed column or a type change. */
function enforceStops(before: TableSchema, after: TableSchema, policy: SchemaChangePolicy): void {
  const where = formatTableId(after.id);
  for (const old of before.columns) {
    const now = after.columns.find((c) => c.name === old.name);
    if (!now && policy.drop === 'stop') {
      const remedy = "set the drop policy to 'apply' to drop the column on the target, or to 'ignore' to keep it (new rows get NULL)";
      throw new SchemaChangeError(
        `schema change stopped for ${where}: column ${JSON.stringify(old.name)} was removed (or renamed) on the source and ` +
          `the drop policy is 'stop'; ${remedy}`,
        remedy,
        { table: after.id, column: old.name, kind: 'COLUMN_REMOVED' },
      );
    }
    if (now && now.type !== old.type && policy.typeChange === 'stop') {
      const remedy =
        `set the typeChange policy to 'apply' to convert the target column (USING value::${now.type}), ` +
        `or to 'ignore' to keep ${old.type} (new values must still be valid ${old.type})`;
      throw new SchemaChangeError(
        `schema change stopped for ${where}: column ${JSON.stringify(old.name)} changed type from ${old.type} to ${now.type} on ` +
          `the source and the typeChange policy is 'stop'; ${remedy}`,
        remedy,
        { table: after.id, column: old.name, kind: 'COLUMN_TYPE_CHANGED' },
      );
    }
  }
}

/** True when the final table declares `column` NOT NULL (explicitly or through the primary key). */
function declaredNotNull(table: TableSchema, column: ColumnSchema): boolean {
  return !column.nullable || table.primaryKey.includes(column.name);
}

function samePrimaryKey(a: TableSchema, b: TableSchema): boolean {
  return a.primaryKey.length === b.primaryKey.length && a.primaryKey.every((k, i) => b.primaryKey[i] === k);
}

/**
 * Plans the target side of a source schema change of one table (`before` and `after` are the
 * source's definitions; pass `after` as `before` next time). Statements, in order:
 * 1. primary key changed: drop constraint `<table>_pkey` on the final table;
 * 2. added columns: `ADD COLUMN IF NOT EXISTS` on final and staging, always nullable on the final
 *    table whatever the source says, because existing target rows have no value for them (a
 *    source default is not replicated for rows that existed; they stay NULL until updated);
 * 3. type changes with 'apply': `ALTER COLUMN … TYPE new USING "c"::new` on final and staging;
 *    with 'ignore' both keep the old type (the writer's values must still parse as it);
 * 4. columns now nullable: `DROP NOT NULL`; a column made NOT NULL is reported, not enforced
 *    (target rows from before may hold NULL; a missing constraint on a copy loses nothing);
 * 5. removed columns: with 'apply' dropped from final and staging; with 'ignore' kept on the
 *    final table with NOT NULL dropped (rows inserted from now on get NULL, updated rows keep
 *    their value) and dropped from staging;
 * 6. primary key changed: add constraint `<table>_pkey` with the new key (fails, leaving the
 *    transaction to roll back, if target rows are not unique on it);
 * 7. `CREATE OR REPLACE PROCEDURE` of the merge procedure for `after` (its signature never changes).
 *
 * A rename is seen as a removal plus an addition. Merge staging before running the statements:
 * a changed key or removed column changes how staged rows are read.
 * @throws {SchemaChangeError} (code SCHEMA_CHANGE_STOPPED) for a removed column or a type change
 *   whose policy is 'stop', before planning anything.
 * @throws {Error} when `before` and `after` are different tables; {@link UnsupportedTableError}
 *   for a column under the reserved prefix.
 */
export function planSchemaChange(before: TableSchema, after: TableSchema, options: SchemaChangeOptions): SchemaChangePlan {
  if (!sameTable(before.id, after.id)) {
    throw new Error(`cannot plan a schema change from ${formatTableId(before.id)} to a different table ${formatTableId(after.id)}`);
  }
  assertSupportedTable(after);
  enforceStops(before, after, options);
  const final = quoteTable(after.id);
  const staging = quoteTable(stagingTableId(after.id));
  const pkName = quoteIdent(primaryKeyConstraintName(after.id));
  const changes: SchemaChange[] = [];
  // One list per step of the docstring, concatenated in that order.
  const dropKey: string[] = [];
  const add: string[] = [];
  const retype: string[] = [];
  const relax: string[] = [];
  const remove: string[] = [];
  const addKey: string[] = [];
  const alter = (table: string, action: string) => `ALTER TABLE ${table} ${action};`;

  const keyChanged = !samePrimaryKey(before, after);
  if (keyChanged) {
    const shown = (t: TableSchema) => (t.primaryKey.length > 0 ? `(${t.primaryKey.join(', ')})` : 'none');
    changes.push({ kind: 'PRIMARY_KEY_CHANGED', detail: `primary key ${shown(before)} → ${shown(after)}` });
    if (before.primaryKey.length > 0) dropKey.push(alter(final, `DROP CONSTRAINT IF EXISTS ${pkName}`));
    if (after.primaryKey.length > 0) addKey.push(alter(final, `ADD CONSTRAINT ${pkName} PRIMARY KEY (${after.primaryKey.map(quoteIdent).join(', ')})`));
  }
  for (const column of after.columns) {
    const old = before.columns.find((c) => c.name === column.name);
    const name = quoteIdent(column.name);
    if (!old) {
      changes.push({ kind: 'COLUMN_ADDED', column: column.name, detail: `added ${column.type} (nullable on the target)` });
      if (column.missingValue !== undefined && column.missingValue !== null) {
        // Rows that existed when the source added the column hold this value without any WAL
        // (a "fast default"); the target's existing rows are exactly those, at this point of
        // the stream, so they get it the same way. New rows carry their own values.
        const literal = `${quoteLiteral(column.missingValue)}::${column.type}`;
        add.push(alter(final, `ADD COLUMN IF NOT EXISTS ${columnDefinition(column, false)} DEFAULT ${literal}`));
        add.push(alter(final, `ALTER COLUMN ${name} DROP DEFAULT`));
      } else add.push(alter(final, `ADD COLUMN IF NOT EXISTS ${columnDefinition(column, false)}`));
      add.push(alter(staging, `ADD COLUMN IF NOT EXISTS ${columnDefinition(column, false)}`));
      continue;
    }
    if (old.type !== column.type) {
      const applied = options.typeChange === 'apply';
      changes.push({
        kind: 'COLUMN_TYPE_CHANGED',
        column: column.name,
        detail: `${old.type} → ${column.type}${applied ? '' : ` (ignored: target keeps ${old.type})`}`,
      });
      if (applied) {
        const action = `ALTER COLUMN ${name} TYPE ${column.type} USING ${name}::${column.type}`;
        retype.push(alter(final, action), alter(staging, action));
      }
    }
    if (old.nullable !== column.nullable) {
      const detail = column.nullable ? 'now nullable' : 'now NOT NULL on the source (not enforced on the target)';
      changes.push({ kind: 'NULLABILITY_CHANGED', column: column.name, detail });
    }
    if (declaredNotNull(before, old) && !declaredNotNull(after, column)) relax.push(alter(final, `ALTER COLUMN ${name} DROP NOT NULL`));
  }
  for (const old of before.columns) {
    if (after.columns.some((c) => c.name === old.name)) continue;
    const name = quoteIdent(old.name);
    const applied = options.drop === 'apply';
    changes.push({ kind: 'COLUMN_REMOVED', column: old.name, detail: applied ? 'dropped on the target' : 'ignored: kept on the target, NULL from now on' });
    if (applied) remove.push(alter(final, `DROP COLUMN IF EXISTS ${name}`));
    else if (declaredNotNull(before, old)) remove.push(alter(final, `ALTER COLUMN ${name} DROP NOT NULL`));
    remove.push(alter(staging, `DROP COLUMN IF EXISTS ${name}`));
  }
  const sql = [dropKey, add, retype, relax, remove, addKey].flat();
  if (sql.length > 0) sql.push(mergeProcedureSql(after, options));
  return { sql, changes };
}
