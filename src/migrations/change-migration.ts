/**
 * ALTER migrations (`cdc migrations diff --write`): the SQL that takes one final table from its
 * migrated state to its definition, and the state it leaves. The staging table is recreated and
 * the merge procedure replaced in the same file, after a guard that refuses to run while staging
 * holds unmerged rows.
 */
import { formatTableId, type ColumnSchema, type TableSchema } from '../schema/table.js';
import { quoteIdent, quoteLiteral, quoteTable } from '../sql/quote.js';
import { markingTriggerSql } from '../sinks/postgres/deferred-merge.js';
import { mergeProcedureSql } from '../sinks/postgres/merge-procedure.js';
import { mergeProcedureId, primaryKeyConstraintName, stagingTableId } from '../sinks/postgres/naming.js';
import { primaryKeyConstraintSql, stagingTableSql } from '../sinks/postgres/table-ddl.js';
import type { SchemaChange } from './schema-diff.js';

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

/** A DO block that raises when the staging table holds rows (they would be lost). */
function stagingEmptyGuard(table: TableSchema): string {
  const staging = quoteTable(stagingTableId(table.id));
  const message = `staging table ${formatTableId(stagingTableId(table.id))} holds unmerged rows; merge them before altering ${formatTableId(table.id)}`;
  const hint = `CALL ${quoteTable(mergeProcedureId(table.id))}(); then apply again`;
  return [
    'DO $cdc_guard$',
    'BEGIN',
    `  IF EXISTS (SELECT 1 FROM ${staging} LIMIT 1) THEN`,
    `    RAISE EXCEPTION ${quoteLiteral(message)} USING HINT = ${quoteLiteral(hint)};`,
    '  END IF;',
    'END',
    '$cdc_guard$;',
  ].join('\n');
}

/**
 * The migration for `changes` (from {@link diffTable} of `before` → `after`, the same table).
 * Steps, in order: guard (staging empty), ADD COLUMN (nullable; NOT NULL only for key columns
 * via the key), ALTER COLUMN … TYPE … USING col::type, DROP NOT NULL, DROP COLUMN (only with
 * `allowDestructive`), primary-key swap (drop `<table>_pkey`, add it on the new columns), then
 * staging recreated and the merge procedure replaced for the resulting table.
 */
export function changeMigration(
  before: TableSchema,
  after: TableSchema,
  changes: readonly SchemaChange[],
  options: { allowDestructive: boolean; softDelete: boolean },
): ChangeMigration {
  const applied = changes.filter((c) => !c.destructive || options.allowDestructive);
  const skipped = changes.filter((c) => c.destructive && !options.allowDestructive);
  const table = quoteTable(after.id);
  const steps: string[] = [];
  const columns: ColumnSchema[] = [];
  const now = new Map(after.columns.map((c) => [c.name, c]));
  for (const c of before.columns) {
    const n = now.get(c.name);
    if (!n) {
      if (options.allowDestructive) steps.push(`ALTER TABLE ${table} DROP COLUMN ${quoteIdent(c.name)};`);
      else columns.push({ ...c, nullable: true });
      continue;
    }
    if (n.type !== c.type) {
      steps.push(`ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(c.name)} TYPE ${n.type} USING ${quoteIdent(c.name)}::${n.type};`);
    }
    const relax = !c.nullable && n.nullable && !after.primaryKey.includes(c.name);
    if (relax) steps.push(`ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(c.name)} DROP NOT NULL;`);
    columns.push({ ...n, nullable: after.primaryKey.includes(c.name) ? false : relax || c.nullable });
  }
  const old = new Set(before.columns.map((c) => c.name));
  for (const n of after.columns) {
    if (old.has(n.name)) continue;
    steps.push(`ALTER TABLE ${table} ADD COLUMN ${quoteIdent(n.name)} ${n.type};`);
    columns.push({ ...n, nullable: !after.primaryKey.includes(n.name) });
  }
  const keyChanged = before.primaryKey.join('\u0000') !== after.primaryKey.join('\u0000');
  const result: TableSchema = { id: after.id, columns, primaryKey: after.primaryKey };
  if (keyChanged) {
    if (before.primaryKey.length > 0) steps.push(`ALTER TABLE ${table} DROP CONSTRAINT ${quoteIdent(primaryKeyConstraintName(before.id))};`);
    if (after.primaryKey.length > 0) steps.push(`ALTER TABLE ${table} ADD ${primaryKeyConstraintSql(result)};`);
  }
  if (steps.length === 0) return { body: '', applied: [], skipped, result: { ...result, columns: before.columns } };
  const body = [
    `-- ${formatTableId(after.id)}: ${applied.map((c) => c.kind + (c.column ? ` ${c.column}` : '')).join(', ')}`,
    ...(skipped.length ? [`-- left out (destructive; pass --allow-destructive): ${skipped.map((c) => `${c.kind} ${c.column ?? ''}`.trim()).join(', ')}`] : []),
    '',
    stagingEmptyGuard(before),
    '',
    ...steps,
    '',
    `DROP TABLE IF EXISTS ${quoteTable(stagingTableId(after.id))};`,
    stagingTableSql(result),
    markingTriggerSql(after.id),
    '',
    mergeProcedureSql(result, { softDelete: options.softDelete }),
    '',
  ].join('\n');
  return { body, applied, skipped, result };
}

/**
 * The migration that drops a table removed from the definitions (destructive): final table,
 * staging table and merge procedure, and its merge_control row.
 */
export function dropTableMigration(table: TableSchema): string {
  return [
    `-- ${formatTableId(table.id)}: TABLE_REMOVED`,
    '',
    `DROP PROCEDURE IF EXISTS ${quoteTable(mergeProcedureId(table.id))}();`,
    `DROP TABLE IF EXISTS ${quoteTable(stagingTableId(table.id))};`,
    `DROP TABLE IF EXISTS ${quoteTable(table.id)};`,
    `DELETE FROM cdc_management.merge_control WHERE schema_name = ${quoteLiteral(table.id.schema)} AND table_name = ${quoteLiteral(table.id.name)};`,
    '',
  ].join('\n');
}
