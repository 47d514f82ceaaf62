/**
 * The plan for one table whose definition changed (DESIGN.md §3.8): the diff's changes with the
 * policy's decisions, and the two shapes the target is left with — the final table's, and the one
 * merges write (what a sink builds its staging and merge from). Shared by `cdc run` and
 * `cdc migrations diff --write`; sinks turn it into their own DDL. Pure.
 */
import { decideChanges, type DecidedChange, type SchemaChangePolicy } from './schema-change-policy.js';
import { diffTable, type SchemaChange } from './schema-diff.js';
import type { ColumnSchema, TableSchema } from './table.js';

/** Input of {@link planTableChange}. */
export interface TableChangeInput {
  /** The definition the target was last built from. */
  readonly before: TableSchema;
  /** The new definition (the same table). */
  readonly after: TableSchema;
  readonly policy: SchemaChangePolicy;
  /**
   * The final table as it is now, when it may differ from `before` (a type kept or a column kept
   * by an earlier `ignore`): its column types are what the target really has. Default `before`.
   */
  readonly current?: TableSchema;
}

/** What {@link planTableChange} returns. */
export interface TableChangePlan {
  readonly before: TableSchema;
  readonly after: TableSchema;
  /** Every change of `diffTable(before, after)` with its decision (none is `stop`). */
  readonly changes: readonly DecidedChange[];
  /**
   * The final table as the plan leaves it: its columns in table order (existing ones first,
   * added ones appended), with the types and nullability it ends up with, the new key. Columns
   * kept or left out stay; added columns are nullable unless in the key (existing rows have no
   * value). Options: `before`'s, else `after`'s (the final table was built with `before`'s).
   */
  readonly target: TableSchema;
  /**
   * The columns merges write from now on: `target`'s, without columns kept by `ignore` (removed
   * on the source: nothing writes them any more) and without columns the final table holds from
   * earlier ignores. Left-out removals stay (they are still pending).
   */
  readonly merged: TableSchema;
}

function decidedFor<K extends SchemaChange['kind']>(changes: readonly DecidedChange[], kind: K, column: string): DecidedChange<Extract<SchemaChange, { kind: K }>> | undefined {
  return changes.find((d) => d.change.kind === kind && d.change.column === column) as DecidedChange<Extract<SchemaChange, { kind: K }>> | undefined;
}

/**
 * Diffs `before` and `after`, decides every change under `policy`, and computes the shapes the
 * target is left with (see {@link TableChangePlan}).
 * @throws {SchemaChangeError} (SCHEMA_CHANGE_STOPPED) when the policy says stop, before anything
 *   is planned.
 * @throws {Error} when `before` and `after` are different tables.
 */
export function planTableChange(input: TableChangeInput): TableChangePlan {
  const { before, after, policy } = input;
  const current = input.current ?? before;
  const changes = decideChanges(diffTable(before, after, { renames: policy.rename !== 'ignore' }), policy);
  const inKey = (name: string) => after.primaryKey.includes(name);
  const now = new Map(after.columns.map((c) => [c.name, c]));
  // Renamed columns, old name → new name (all applied: the policy stops or applies a rename).
  const renamed = new Map(changes.flatMap((d) => (d.change.kind === 'COLUMN_RENAMED' ? [[d.change.from, d.change.to] as const] : [])));
  const target: ColumnSchema[] = [];
  const notWritten = new Set<string>();
  const existing = new Set<string>();
  for (const current_ of current.columns) {
    const newName = renamed.get(current_.name);
    const c = newName === undefined ? current_ : { ...current_, name: newName };
    existing.add(c.name);
    const n = now.get(c.name);
    if (!n) {
      const removal = decidedFor(changes, 'COLUMN_REMOVED', c.name);
      if (removal?.decision === 'apply') continue;
      if (removal?.decision === 'keep') target.push({ ...c, nullable: true });
      else target.push(c);
      // Kept now or earlier: no longer written. Left out: still pending, still written.
      if (removal?.decision !== 'leave-out') notWritten.add(c.name);
      continue;
    }
    const retype = decidedFor(changes, 'COLUMN_TYPE_CHANGED', c.name);
    const relax = decidedFor(changes, 'COLUMN_NULLABILITY_CHANGED', c.name);
    const type = retype?.decision === 'apply' ? n.type : c.type;
    const nullable = inKey(c.name) ? false : relax?.decision === 'apply' || c.nullable;
    target.push({ ...n, type, nullable });
  }
  for (const n of after.columns) {
    if (!existing.has(n.name)) target.push({ ...n, nullable: !inKey(n.name) });
  }
  // The final table was built with `before`'s options (soft delete adds a column); they win.
  const options = before.options || after.options ? { ...after.options, ...before.options } : undefined;
  const shape = (columns: readonly ColumnSchema[]): TableSchema => ({ id: after.id, columns, primaryKey: after.primaryKey, ...(options ? { options } : {}) });
  return {
    before,
    after,
    changes,
    target: shape(target),
    merged: shape(target.filter((c) => !notWritten.has(c.name))),
  };
}
