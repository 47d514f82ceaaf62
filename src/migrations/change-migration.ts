/**
 * ALTER migrations (`cdc migrations diff --write`): the body of `02-changes/NNNN-<table>.sql` that
 * takes one final table from its migrated state to its definition, and the state it leaves. The
 * DDL is the sink's one assembler for a changed table (the same `cdc run` uses), under the
 * migrations' policy: every change applied, destructive ones only with `--allow-destructive`.
 */
import { migrationPolicy } from '../schema/schema-change-policy.js';
import type { SchemaChange, TableRemoved } from '../schema/schema-diff.js';
import { formatTableId, type TableSchema } from '../schema/table.js';
import { sql } from './sql-dialect.js';

/** What {@link changeMigration} produced. */
export interface ChangeMigration {
  /** The SQL body; '' when nothing is applied. */
  readonly body: string;
  /** Changes the body applies. */
  readonly applied: readonly SchemaChange[];
  /** Destructive changes left out (no `allowDestructive`). */
  readonly skipped: readonly SchemaChange[];
  /** The table as the body leaves it (kept columns stay, added ones are appended). */
  readonly result: TableSchema;
}

/**
 * The migration from `before` (a table state, with its options) to `after` (its definition, the
 * same table): a comment naming the changes (and those left out), the staging-empty guard, the
 * ALTERs, then staging re-created and the merge procedure replaced (`sql.tableChangeDdl`).
 * @throws {UnsupportedSchemaChangeError} for a change the sink has no SQL for.
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function changeMigration(before: TableSchema, after: TableSchema, options: { allowDestructive: boolean }): ChangeMigration {
  const ddl = sql.tableChangeDdl({ before, after, policy: migrationPolicy(options.allowDestructive) });
  const applied = ddl.plan.changes.filter((d) => d.decision === 'apply').map((d) => d.change);
  const skipped = ddl.plan.changes.filter((d) => d.decision === 'leave-out').map((d) => d.change);
  if (ddl.statements.length === 0) return { body: '', applied: [], skipped, result: before };
  const named = (c: SchemaChange) => `${c.kind}${c.column ? ` ${c.column}` : ''}`;
  const rebuild = [...ddl.rebuild];
  const procedure = rebuild.pop()!;
  const body = [
    `-- ${formatTableId(after.id)}: ${applied.map(named).join(', ')}`,
    ...(skipped.length ? [`-- left out (destructive; pass --allow-destructive): ${skipped.map(named).join(', ')}`] : []),
    '',
    ddl.guard,
    '',
    ...ddl.alters,
    '',
    ...rebuild,
    '',
    procedure,
    '',
  ].join('\n');
  return { body, applied, skipped, result: ddl.plan.target };
}

/**
 * The migration that drops a table removed from the definitions (destructive): the converter's
 * statements for `TABLE_REMOVED` (merge procedure, staging table, final table, merge_control row).
 */
export function dropTableMigration(change: TableRemoved): string {
  return [`-- ${change.table}: TABLE_REMOVED`, '', ...sql.schemaChangeSql(change, 'apply').map((s) => s.sql), ''].join('\n');
}
