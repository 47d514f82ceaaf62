/**
 * The one schema diff (DESIGN.md §3.8, §5): the changes that turn a table's definition into
 * another, as one change union. `cdc run` computes it when a source table changes shape;
 * `cdc migrations diff` between the migrations' table states and the YAML definitions (and the
 * live catalog). What to do about each change is decided by `decideChange`
 * (schema-change-policy.ts); a sink turns it into SQL with its own converter. Pure: no database,
 * no files.
 */
import { formatTableId, tableKey, type ColumnSchema, type TableId, type TableSchema } from './table.js';
import { isWideningTypeChange } from './type-widening.js';

/** What changed. */
export type SchemaChangeKind = SchemaChange['kind'];

/**
 * What a change does to the data already in the target: `info` (nothing is lost or rewritten
 * unsafely: an added table or nullable column, a widening type change), `warning` (safe, but
 * worth a look: a NOT NULL source column added nullable, a removed table, a column made
 * nullable), `breaking` (values may fail to convert or change, keys change, or a column goes).
 */
export type Severity = 'info' | 'warning' | 'breaking';

/** What every change carries. */
interface ChangeBase {
  readonly severity: Severity;
  /** The table, `schema.name` quoted where needed (for people and `--json`). */
  readonly table: string;
  /** The table's id. */
  readonly tableId: TableId;
  /** The column concerned, when the change is about one. */
  readonly column?: string;
  /** Before, as text (type, key list, nullability), when there is one. */
  readonly from?: string;
  /** After, as text, when there is one. */
  readonly to?: string;
  /** True when applying it drops data (DROP COLUMN, DROP TABLE); see the policy's `allowDestructive`. */
  readonly destructive: boolean;
  /** One line for people. */
  readonly message: string;
}

/** A table that is new. `definition` is the whole table. */
export interface TableAdded extends ChangeBase {
  readonly kind: 'TABLE_ADDED';
  readonly definition: TableSchema;
}

/** A table that is gone (destructive to apply). `definition` is the table as it was. */
export interface TableRemoved extends ChangeBase {
  readonly kind: 'TABLE_REMOVED';
  readonly definition: TableSchema;
}

/** A new column; `definition` is the column as the new definition has it (type, missing value). */
export interface ColumnAdded extends ChangeBase {
  readonly kind: 'COLUMN_ADDED';
  readonly column: string;
  readonly to: string;
  readonly definition: ColumnSchema;
}

/**
 * A column renamed on the source: the same source column (`sourceAttnum`) under a new name.
 * `column` and `to` are the new name, `from` the old one; `definition` is the column now.
 */
export interface ColumnRenamed extends ChangeBase {
  readonly kind: 'COLUMN_RENAMED';
  readonly column: string;
  readonly from: string;
  readonly to: string;
  readonly definition: ColumnSchema;
}

/**
 * A column that is gone (destructive to apply); a rename the diff cannot see (no source column
 * numbers, or renames not asked for) is a removal plus an addition.
 */
export interface ColumnRemoved extends ChangeBase {
  readonly kind: 'COLUMN_REMOVED';
  readonly column: string;
  readonly from: string;
  readonly definition: ColumnSchema;
  /** The column was NOT NULL on the table, declared or through the primary key. */
  readonly notNull: boolean;
}

/** A column whose type changed; `widening` when every old value fits the new type unchanged. */
export interface ColumnTypeChanged extends ChangeBase {
  readonly kind: 'COLUMN_TYPE_CHANGED';
  readonly column: string;
  readonly from: string;
  readonly to: string;
  readonly widening: boolean;
}

/**
 * A column that was NOT NULL (declared or through the primary key) and no longer is. The
 * opposite direction is not a change: the target accepting NULLs is harmless, and its existing
 * rows may not satisfy the constraint.
 */
export interface ColumnNullabilityChanged extends ChangeBase {
  readonly kind: 'COLUMN_NULLABILITY_CHANGED';
  readonly column: string;
  readonly from: 'NOT NULL';
  readonly to: 'NULL';
}

/** A different primary key (column list in key order; empty: no key). */
export interface PrimaryKeyChanged extends ChangeBase {
  readonly kind: 'PRIMARY_KEY_CHANGED';
  readonly from: string;
  readonly to: string;
  readonly keyBefore: readonly string[];
  readonly keyAfter: readonly string[];
}

/** One difference between two definitions; `kind` tells which. */
export type SchemaChange = TableAdded | TableRemoved | ColumnAdded | ColumnRemoved | ColumnRenamed | ColumnTypeChanged | ColumnNullabilityChanged | PrimaryKeyChanged;

/** Options of {@link diffTable}. */
export interface DiffOptions {
  /**
   * Report a column whose `sourceAttnum` is the same in both definitions under another name as
   * COLUMN_RENAMED (default true); false reports it as a removal plus an addition.
   */
  readonly renames?: boolean;
}

/** Renamed columns of `before` → `after`: same `sourceAttnum`, other name, the old name gone and the new one new. */
export function renamedColumns(before: TableSchema, after: TableSchema): Map<string, ColumnSchema> {
  const renamed = new Map<string, ColumnSchema>();
  const oldNames = new Set(before.columns.map((c) => c.name));
  const newNames = new Set(after.columns.map((c) => c.name));
  const byAttnum = new Map(after.columns.filter((c) => c.sourceAttnum !== undefined).map((c) => [c.sourceAttnum, c]));
  for (const b of before.columns) {
    if (b.sourceAttnum === undefined) continue;
    const a = byAttnum.get(b.sourceAttnum);
    if (a && a.name !== b.name && !newNames.has(b.name) && !oldNames.has(a.name)) renamed.set(b.name, a);
  }
  return renamed;
}

/** True when `column` of `table` is NOT NULL on it: declared so, or a primary-key column. */
export function declaredNotNull(table: TableSchema, column: ColumnSchema): boolean {
  return !column.nullable || table.primaryKey.includes(column.name);
}

const keyText = (key: readonly string[]) => `(${key.join(', ')})`;

/**
 * The changes that turn table `before` into `after` (the same table), in this order: added
 * columns (in `after`'s order), removed columns, then per remaining column its type change and
 * nullability relaxation, then the key change. Columns are matched by name.
 * Severities: added nullable column `info`, added NOT NULL column `warning` (it is added
 * nullable: existing rows have no value); removed column `breaking` and destructive; type change
 * `info` when it widens ({@link isWideningTypeChange}), else `breaking`; NOT NULL dropped
 * `warning`; key change `breaking`.
 * @throws {Error} when `before` and `after` are different tables.
 */
export function diffTable(before: TableSchema, after: TableSchema, options: DiffOptions = {}): SchemaChange[] {
  if (tableKey(before.id) !== tableKey(after.id)) {
    throw new Error(`cannot diff ${formatTableId(before.id)} against a different table ${formatTableId(after.id)}`);
  }
  const tableId = after.id;
  const table = formatTableId(tableId);
  const renamed = options.renames === false ? new Map<string, ColumnSchema>() : renamedColumns(before, after);
  const newNameOf = (name: string) => renamed.get(name)?.name ?? name;
  // Old columns under the names they have after the renames.
  const old = new Map(before.columns.map((c) => [newNameOf(c.name), c]));
  const now = new Map(after.columns.map((c) => [c.name, c]));
  const changes: SchemaChange[] = [];
  for (const [from, c] of renamed) {
    changes.push({
      kind: 'COLUMN_RENAMED',
      severity: 'warning',
      table,
      tableId,
      column: c.name,
      from,
      to: c.name,
      definition: c,
      destructive: false,
      message: `${table}: column ${from} renamed to ${c.name}`,
    });
  }
  for (const c of after.columns) {
    if (old.has(c.name)) continue;
    const note = c.nullable ? '' : ' (NOT NULL on the source; added nullable, since existing rows have no value)';
    changes.push({
      kind: 'COLUMN_ADDED',
      severity: c.nullable ? 'info' : 'warning',
      table,
      tableId,
      column: c.name,
      to: c.type,
      definition: c,
      destructive: false,
      message: `${table}: column ${c.name} ${c.type} added${note}`,
    });
  }
  for (const c of before.columns) {
    if (now.has(c.name) || renamed.has(c.name)) continue;
    changes.push({
      kind: 'COLUMN_REMOVED',
      severity: 'breaking',
      table,
      tableId,
      column: c.name,
      from: c.type,
      definition: c,
      notNull: declaredNotNull(before, c),
      destructive: true,
      message: `${table}: column ${c.name} removed`,
    });
  }
  for (const c of after.columns) {
    const o = old.get(c.name);
    if (!o) continue;
    if (o.type !== c.type) {
      const widening = isWideningTypeChange(o.type, c.type);
      changes.push({
        kind: 'COLUMN_TYPE_CHANGED',
        severity: widening ? 'info' : 'breaking',
        table,
        tableId,
        column: c.name,
        from: o.type,
        to: c.type,
        widening,
        destructive: false,
        message: `${table}: column ${c.name} changes type from ${o.type} to ${c.type}${widening ? ' (widening)' : ''}`,
      });
    }
    if (declaredNotNull(before, o) && !declaredNotNull(after, c)) {
      changes.push({
        kind: 'COLUMN_NULLABILITY_CHANGED',
        severity: 'warning',
        table,
        tableId,
        column: c.name,
        from: 'NOT NULL',
        to: 'NULL',
        destructive: false,
        message: `${table}: column ${c.name} becomes nullable`,
      });
    }
  }
  const keyBefore = before.primaryKey.map(newNameOf);
  const keyAfter = after.primaryKey;
  if (keyBefore.length !== keyAfter.length || keyBefore.some((k, i) => keyAfter[i] !== k)) {
    changes.push({
      kind: 'PRIMARY_KEY_CHANGED',
      severity: 'breaking',
      table,
      tableId,
      from: keyText(keyBefore),
      to: keyText(keyAfter),
      keyBefore,
      keyAfter,
      destructive: false,
      message: `${table}: primary key changes from ${keyText(keyBefore)} to ${keyText(keyAfter)}`,
    });
  }
  return changes;
}

/**
 * Every change from the tables `before` to the tables `after`, matched by id, sorted by table
 * (`schema`, then `name`): {@link diffTable} for tables in both, `TABLE_ADDED` (`info`) and
 * `TABLE_REMOVED` (`warning`, destructive) for the others.
 */
export function diffTables(before: readonly TableSchema[], after: readonly TableSchema[]): SchemaChange[] {
  const old = new Map(before.map((t) => [tableKey(t.id), t]));
  const now = new Map(after.map((t) => [tableKey(t.id), t]));
  const keys = [...new Set([...old.keys(), ...now.keys()])].sort();
  const changes: SchemaChange[] = [];
  for (const key of keys) {
    const o = old.get(key);
    const n = now.get(key);
    if (o && n) changes.push(...diffTable(o, n));
    else if (n) {
      const table = formatTableId(n.id);
      changes.push({ kind: 'TABLE_ADDED', severity: 'info', table, tableId: n.id, definition: n, destructive: false, message: `${table}: table added (${n.columns.length} columns)` });
    } else if (o) {
      const table = formatTableId(o.id);
      changes.push({ kind: 'TABLE_REMOVED', severity: 'warning', table, tableId: o.id, definition: o, destructive: true, message: `${table}: table removed from the definitions` });
    }
  }
  return changes;
}
