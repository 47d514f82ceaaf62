/**
 * Differences between two sets of tables (DESIGN.md §5): what `cdc migrations diff` reports and
 * what `--write` turns into ALTER migrations. Pure: no database, no files.
 */
import { formatTableId, tableKey, type TableSchema } from '../schema/table.js';

/** What changed. */
export type ChangeKind =
  | 'TABLE_ADDED'
  | 'TABLE_REMOVED'
  | 'COLUMN_ADDED'
  | 'COLUMN_REMOVED'
  | 'COLUMN_TYPE_CHANGED'
  | 'COLUMN_NULLABILITY_CHANGED'
  | 'PRIMARY_KEY_CHANGED';

/**
 * How much it matters: `info` (additive, safe), `warning` (safe but worth a look, or kept data
 * that no longer flows), `breaking` (readers of the target may break, or the change rewrites data).
 */
export type Severity = 'info' | 'warning' | 'breaking';

/** One difference. */
export interface SchemaChange {
  readonly kind: ChangeKind;
  readonly severity: Severity;
  /** Target table, `schema.name` (quoted where needed). */
  readonly table: string;
  /** Column concerned, when the change is about one. */
  readonly column?: string;
  /** Before and after (type, key list, nullability), as text. */
  readonly from?: string;
  readonly to?: string;
  /** True when applying it drops data (DROP COLUMN, DROP TABLE): needs --allow-destructive. */
  readonly destructive: boolean;
  /** One line for people. */
  readonly message: string;
}

/**
 * The changes that turn table `before` into `after` (same table), in this order: added columns
 * (definition order), removed columns, type changes, nullability relaxations, key change.
 * A column that becomes NOT NULL is not reported: the target accepting NULLs is harmless, and
 * existing rows may not satisfy it.
 */
export function diffTable(before: TableSchema, after: TableSchema): SchemaChange[] {
  const table = formatTableId(after.id);
  const old = new Map(before.columns.map((c) => [c.name, c]));
  const now = new Map(after.columns.map((c) => [c.name, c]));
  const changes: SchemaChange[] = [];
  for (const c of after.columns) {
    if (old.has(c.name)) continue;
    changes.push({
      kind: 'COLUMN_ADDED',
      severity: c.nullable ? 'info' : 'warning',
      table,
      column: c.name,
      to: c.type,
      destructive: false,
      message: `${table}: column ${c.name} ${c.type} added${c.nullable ? '' : ' (NOT NULL on the source; added nullable, since existing rows have no value)'}`,
    });
  }
  for (const c of before.columns) {
    if (now.has(c.name)) continue;
    changes.push({ kind: 'COLUMN_REMOVED', severity: 'breaking', table, column: c.name, from: c.type, destructive: true, message: `${table}: column ${c.name} removed` });
  }
  for (const c of after.columns) {
    const o = old.get(c.name);
    if (!o) continue;
    if (o.type !== c.type) {
      changes.push({
        kind: 'COLUMN_TYPE_CHANGED',
        severity: 'breaking',
        table,
        column: c.name,
        from: o.type,
        to: c.type,
        destructive: false,
        message: `${table}: column ${c.name} changes type from ${o.type} to ${c.type}`,
      });
    }
    if (!o.nullable && c.nullable && !after.primaryKey.includes(c.name)) {
      changes.push({
        kind: 'COLUMN_NULLABILITY_CHANGED',
        severity: 'warning',
        table,
        column: c.name,
        from: 'NOT NULL',
        to: 'NULL',
        destructive: false,
        message: `${table}: column ${c.name} becomes nullable`,
      });
    }
  }
  const keyBefore = before.primaryKey.join(', ');
  const keyAfter = after.primaryKey.join(', ');
  if (keyBefore !== keyAfter) {
    changes.push({
      kind: 'PRIMARY_KEY_CHANGED',
      severity: 'breaking',
      table,
      from: `(${keyBefore})`,
      to: `(${keyAfter})`,
      destructive: false,
      message: `${table}: primary key changes from (${keyBefore}) to (${keyAfter})`,
    });
  }
  return changes;
}

/**
 * Every change from the tables `before` to the tables `after`, matched by target id; sorted by
 * table, added tables and removed tables in place.
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
      changes.push({ kind: 'TABLE_ADDED', severity: 'info', table, destructive: false, message: `${table}: table added (${n.columns.length} columns)` });
    } else if (o) {
      const table = formatTableId(o.id);
      changes.push({ kind: 'TABLE_REMOVED', severity: 'warning', table, destructive: true, message: `${table}: table removed from the definitions` });
    }
  }
  return changes;
}
