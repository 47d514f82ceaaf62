/**
 * The one policy filter of the schema-change path (DESIGN.md §3.8, §5): for each change of the
 * diff, what the target gets. `cdc run` passes its `schema_changes` settings (destructive changes
 * allowed); `cdc migrations diff --write` applies everything it can and leaves destructive changes
 * out unless `--allow-destructive`. Pure.
 */
import { SchemaChangeError } from './schema-change-error.js';
import type { SchemaChange } from './schema-diff.js';

/** What to do with a lossy change: do it on the target, leave the target as it is, or stop. */
export type SchemaChangeAction = 'apply' | 'ignore' | 'stop';

/**
 * The policy for the changes that lose data or can fail. Added columns, added tables, dropped
 * NOT NULL and primary-key changes are always applied.
 */
export interface SchemaChangePolicy {
  /** A removed column (and a removed table): drop it, keep it (new rows get NULL), or stop. */
  readonly drop: SchemaChangeAction;
  /** A column whose type changed: ALTER COLUMN TYPE, keep the old type, or stop. */
  readonly typeChange: SchemaChangeAction;
  /**
   * A renamed column (sources that number their columns: PostgreSQL): `apply` (default) renames
   * it on the target, keeping its values under the new name; `ignore` treats it as a removal
   * (under `drop`) plus an addition, as a source without column numbers would; `stop` stops.
   */
  readonly rename?: SchemaChangeAction;
  /**
   * False: destructive changes that `drop` says to apply (DROP COLUMN, DROP TABLE) are left out
   * instead, to be applied later with permission (`--allow-destructive`). Default true.
   */
  readonly allowDestructive?: boolean;
}

/**
 * What the target gets for one change:
 * - `apply`: the change is made;
 * - `keep`: the target keeps what it has (a removed column stays, NULL for new rows; a changed
 *   type stays the old type) and the sink moves on without it;
 * - `stop`: nothing is done, the pipeline stops with {@link SchemaChangeError};
 * - `leave-out`: not made now, still pending (destructive without permission).
 */
export type ChangeDecision = 'apply' | 'keep' | 'stop' | 'leave-out';

/** A change with its decision. */
export interface DecidedChange<C extends SchemaChange = SchemaChange> {
  readonly change: C;
  readonly decision: ChangeDecision;
}

/** The policy `cdc migrations diff --write` uses: everything applied, destructive changes only with permission. */
export function migrationPolicy(allowDestructive: boolean): SchemaChangePolicy {
  return { drop: 'apply', typeChange: 'apply', allowDestructive };
}

function byAction(change: SchemaChange, action: SchemaChangeAction, policy: SchemaChangePolicy): ChangeDecision {
  if (action === 'stop') return 'stop';
  if (action === 'ignore') return 'keep';
  return change.destructive && policy.allowDestructive === false ? 'leave-out' : 'apply';
}

/**
 * The decision for `change` under `policy`: `TABLE_ADDED`, `COLUMN_ADDED`,
 * `COLUMN_NULLABILITY_CHANGED` and `PRIMARY_KEY_CHANGED` are applied; `COLUMN_REMOVED` and
 * `TABLE_REMOVED` follow `policy.drop`, `COLUMN_TYPE_CHANGED` follows `policy.typeChange`
 * ('ignore' → `keep`); an `apply` of a destructive change becomes `leave-out` when
 * `policy.allowDestructive` is false.
 * @throws {Error} for a change kind this function does not know (never silently applied).
 */
export function decideChange(change: SchemaChange, policy: SchemaChangePolicy): ChangeDecision {
  switch (change.kind) {
    case 'TABLE_ADDED':
    case 'COLUMN_ADDED':
    case 'COLUMN_NULLABILITY_CHANGED':
    case 'PRIMARY_KEY_CHANGED':
      return 'apply';
    case 'COLUMN_REMOVED':
    case 'TABLE_REMOVED':
      return byAction(change, policy.drop, policy);
    case 'COLUMN_TYPE_CHANGED':
      return byAction(change, policy.typeChange, policy);
    case 'COLUMN_RENAMED':
      return policy.rename === 'stop' ? 'stop' : 'apply';
    default: {
      const unknown: never = change;
      throw new Error(`no schema-change policy for change kind ${JSON.stringify((unknown as { kind?: unknown }).kind)}`);
    }
  }
}

/** The error for a change whose decision is `stop`. */
function stopped(change: SchemaChange): SchemaChangeError {
  const column = change.column ?? '';
  if (change.kind === 'COLUMN_RENAMED') {
    const remedy = "set the rename policy to 'apply' to rename the target column (its values stay), or to 'ignore' to keep the old column and add the new one";
    return new SchemaChangeError(
      `schema change stopped for ${change.table}: column ${JSON.stringify(change.from)} was renamed to ${JSON.stringify(change.to)} on the source and the rename policy is 'stop'; ${remedy}`,
      remedy,
      { table: change.tableId, column, kind: change.kind },
    );
  }
  if (change.kind === 'COLUMN_TYPE_CHANGED') {
    const remedy =
      `set the typeChange policy to 'apply' to convert the target column (USING value::${change.to}), ` +
      `or to 'ignore' to keep ${change.from} (new values must still be valid ${change.from})`;
    return new SchemaChangeError(
      `schema change stopped for ${change.table}: column ${JSON.stringify(column)} changed type from ${change.from} to ${change.to} on ` +
        `the source and the typeChange policy is 'stop'; ${remedy}`,
      remedy,
      { table: change.tableId, column, kind: change.kind },
    );
  }
  const remedy =
    change.kind === 'TABLE_REMOVED'
      ? "set the drop policy to 'apply' to drop the table on the target, or to 'ignore' to keep it"
      : "set the drop policy to 'apply' to drop the column on the target, or to 'ignore' to keep it (new rows get NULL)";
  const what = change.kind === 'TABLE_REMOVED' ? 'the table was removed' : `column ${JSON.stringify(column)} was removed (or renamed)`;
  return new SchemaChangeError(`schema change stopped for ${change.table}: ${what} on the source and the drop policy is 'stop'; ${remedy}`, remedy, {
    table: change.tableId,
    column,
    kind: change.kind,
  });
}

/**
 * {@link decideChange} for every change, in order.
 * @throws {SchemaChangeError} (code SCHEMA_CHANGE_STOPPED) for the first change decided `stop`,
 *   naming table, column and the policy option to change; nothing is decided past it.
 */
export function decideChanges<C extends SchemaChange>(changes: readonly C[], policy: SchemaChangePolicy): DecidedChange<C>[] {
  const decided = changes.map((change) => ({ change, decision: decideChange(change, policy) }));
  const stop = decided.find((d) => d.decision === 'stop');
  if (stop) throw stopped(stop.change);
  return decided;
}
