/**
 * The one DDL assembler for a changed table on the PostgreSQL target (DESIGN.md §3.8): the plan
 * (diff + policy, src/schema/table-change.ts) turned into statements by the converter, then the
 * staging table re-created and the merge procedure replaced for the shape merges write from now
 * on. `cdc run` runs the statements in the batch's transaction (after merging staging);
 * `cdc migrations diff --write` writes them as an ALTER migration.
 */
import { formatTableId, type TableSchema } from '../../schema/table.js';
import { planTableChange, type TableChangeInput, type TableChangePlan } from '../../schema/table-change.js';
import { quoteLiteral, quoteTable } from '../../sql/quote.js';
import { mergeProcedureId, stagingTableId } from './naming.js';
import { CHANGE_STEPS, schemaChangeSql, type ChangeStatement } from './schema-change-sql.js';
import { restoreSourceFieldsCallSql } from './source-fields-sql.js';
import { tableOptionsOf, type TableOptions } from './table-ddl.js';
import { stagingObjects } from './table-objects.js';

/** Input of {@link tableChangeDdl}: the plan's input and the sink's default table options. */
export interface TableChangeDdlInput extends TableChangeInput {
  /** The sink's defaults; the tables' own `options` override them (`before`'s first). */
  readonly defaults?: TableOptions;
}

/** What {@link tableChangeDdl} returns. */
export interface TableChangeDdl {
  readonly plan: TableChangePlan;
  /** Statements to run in order, in one transaction: `guard`, `alters`, `rebuild`; empty when the target needs nothing. */
  readonly statements: readonly string[];
  /** The staging-empty guard ('' when nothing is needed). */
  readonly guard: string;
  /** The converter's statements for the final table, in step order. */
  readonly alters: readonly string[];
  /**
   * Staging dropped, then staging table, marking trigger and merge procedure created, and the
   * source fields an external writer's staging table took restored (`restore_source_fields`).
   */
  readonly rebuild: readonly string[];
}

/**
 * A DO block that raises when the staging table holds rows: they were staged for the old shape,
 * and re-creating staging would lose them. (`cdc run` merges staging first, so it always passes.)
 */
export function stagingEmptyGuardSql(table: TableSchema): string {
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

/** True when both tables have the same column names, in any order. */
function sameNames(a: TableSchema, b: TableSchema): boolean {
  const names = new Set(b.columns.map((c) => c.name));
  return a.columns.length === names.size && a.columns.every((c) => names.has(c.name));
}

/**
 * Plans the change of one table (`planTableChange`) and assembles its DDL, in order:
 * 1. the staging-empty guard ({@link stagingEmptyGuardSql});
 * 2. the converter's statements for every change decided `apply` or `keep`, ordered by
 *    {@link CHANGE_STEPS} (drop key, add columns, types, DROP NOT NULL, drop columns, add key);
 * 3. `DROP TABLE IF EXISTS` of the staging table, then staging table, marking trigger and merge
 *    procedure re-created for `plan.merged` with the table's options (`before`'s, else
 *    `after`'s, else `defaults`), then `CALL cdc_management.restore_source_fields(…)`, which gives
 *    the new staging table the Debezium source-field columns and trigger the old one had
 *    (source-fields-sql.ts; a no-op for tables without).
 * Empty when no statement is needed and merges write the same columns as before (e.g. only an
 * ignored type change, or a column that became NOT NULL on the source).
 * @throws {SchemaChangeError} (SCHEMA_CHANGE_STOPPED) when the policy says stop, before anything.
 * @throws {UnsupportedSchemaChangeError} (SCHEMA_CHANGE_UNSUPPORTED) for a change without SQL.
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 * @throws {Error} when `before` and `after` are different tables.
 */
export function tableChangeDdl(input: TableChangeDdlInput): TableChangeDdl {
  const plan = planTableChange(input);
  const options = tableOptionsOf(plan.merged, input.defaults);
  const converted: ChangeStatement[] = [];
  for (const { change, decision } of plan.changes) {
    if (decision === 'apply' || decision === 'keep') converted.push(...schemaChangeSql(change, decision, options));
  }
  const alters = converted
    .map((s, i) => ({ s, i }))
    .sort((a, b) => CHANGE_STEPS.indexOf(a.s.step) - CHANGE_STEPS.indexOf(b.s.step) || a.i - b.i)
    .map(({ s }) => s.sql);
  if (alters.length === 0 && sameNames(plan.merged, input.before)) return { plan, statements: [], guard: '', alters: [], rebuild: [] };
  const guard = stagingEmptyGuardSql(input.before);
  const rebuild = [
    `DROP TABLE IF EXISTS ${quoteTable(stagingTableId(plan.after.id))};`,
    ...stagingObjects(plan.merged, options).map((o) => o.sql),
    restoreSourceFieldsCallSql(plan.after.id),
  ];
  return { plan, statements: [guard, ...alters, ...rebuild], guard, alters, rebuild };
}
