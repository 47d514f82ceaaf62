/**
 * The one DDL assembler for a table on the PostgreSQL target (DESIGN.md §4): the objects a table
 * has — its schema, final table, staging table, the staging table's marking trigger and the
 * merge procedure — and how they are grouped into the two units that `migration_history`
 * records (`table …` and `staging …`). `cdc run` applies the units; `cdc migrations generate`
 * writes each unit as one file (`01-tables/<t>.sql`, `01-tables/<t>-staging.sql`), byte for
 * byte the same SQL, so either command finds the other's work by name and checksum.
 */
import { quoteLiteral, quoteTable } from '../../sql/quote.js';
import type { TableSchema } from '../../schema/table.js';
import { markingTriggerSql } from './deferred-merge.js';
import { mergeProcedureSql } from './merge-procedure.js';
import { historyName, type Migration, type TableUnitName } from './migration-history.js';
import { mergeProcedureId, stagingTableId } from './naming.js';
import { upgradeCallSql } from './row-position-sql.js';
import { createFinalTableSql, createSchemaSql, stagingTableSql, tableOptionsOf, type TableOptions } from './table-ddl.js';

/** The objects a table has on the target, in creation order. */
export type TableObjectKind = 'schema' | 'final table' | 'row position upgrade' | 'staging table' | 'staging trigger' | 'merge procedure';

/** One object's DDL: idempotent (IF NOT EXISTS, OR REPLACE, DROP … IF EXISTS first). */
export interface TableObject {
  readonly object: TableObjectKind;
  readonly sql: string;
}

/** A unit of a table's DDL as `migration_history` records it. */
export interface TableUnit extends Migration {
  readonly unit: TableUnitName;
  /** `table`: applied once, changed only by ALTERs; `repeatable`: applied again when its SQL changes. */
  readonly kind: 'table' | 'repeatable';
  /** The objects, in order; `sql` is their text, ending with a newline. */
  readonly objects: readonly TableObject[];
}

/**
 * The upgrade of a table an earlier release made (`CALL cdc_management.upgrade_row_position`: a
 * no-op on a current table), the staging table (`CREATE [UNLOGGED] TABLE IF NOT EXISTS`, then its
 * persistence set as `options.staging` says), its
 * marking trigger and the merge procedure (`CREATE OR REPLACE PROCEDURE`) for `table` built with
 * `options`. The upgrade comes first so that the procedure finds `_cdc_position`.
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function stagingObjects(table: TableSchema, options: TableOptions): TableObject[] {
  return [
    { object: 'row position upgrade', sql: upgradeCallSql(table.id) },
    { object: 'staging table', sql: stagingTableSql(table, options.staging) },
    { object: 'staging trigger', sql: markingTriggerSql(table.id) },
    { object: 'merge procedure', sql: mergeProcedureSql(table, options) },
  ];
}

/**
 * Every object of `table`, in creation order: schema, final table, staging table, marking
 * trigger, merge procedure. Options: the table's own (`table.options`), else `defaults`
 * ({@link tableOptionsOf}).
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function tableObjects(table: TableSchema, defaults: TableOptions = {}): TableObject[] {
  const options = tableOptionsOf(table, defaults);
  return [
    { object: 'schema', sql: createSchemaSql(table.id.schema) },
    { object: 'final table', sql: createFinalTableSql(table, options) },
    ...stagingObjects(table, options),
  ];
}

/**
 * The units of `table` (see the module comment), each with its history name and SQL:
 * - `table <id>` (kind `table`): schema and final table, one statement per line;
 * - `staging <id>` (kind `repeatable`): row position upgrade, staging table, marking trigger, a
 *   blank line, merge procedure.
 * Each `sql` ends with one newline; it is the body of the generated file for the unit.
 * Options as for {@link tableObjects}.
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function tableUnits(table: TableSchema, defaults: TableOptions = {}): [TableUnit, TableUnit] {
  const [schema, final, upgrade, staging, trigger, procedure] = tableObjects(table, defaults) as [TableObject, TableObject, TableObject, TableObject, TableObject, TableObject];
  return [
    { unit: 'table', name: historyName('table', table.id), kind: 'table', objects: [schema, final], sql: `${schema.sql}\n${final.sql}\n` },
    {
      unit: 'staging',
      name: historyName('staging', table.id),
      kind: 'repeatable',
      objects: [upgrade, staging, trigger, procedure],
      sql: `${upgrade.sql}\n${staging.sql}\n${trigger.sql}\n\n${procedure.sql}\n`,
    },
  ];
}

/**
 * Statements that drop every object of `table` (merge procedure, staging table with its triggers,
 * final table), its `merge_control` row and the source fields its staging table took; each
 * `IF EXISTS` or a DELETE.
 */
export function dropTableSql(table: TableSchema): string[] {
  return [
    `DROP PROCEDURE IF EXISTS ${quoteTable(mergeProcedureId(table.id))}();`,
    `DROP TABLE IF EXISTS ${quoteTable(stagingTableId(table.id))};`,
    `DROP TABLE IF EXISTS ${quoteTable(table.id)};`,
    `DELETE FROM cdc_management.merge_control WHERE schema_name = ${quoteLiteral(table.id.schema)} AND table_name = ${quoteLiteral(table.id.name)};`,
    `DELETE FROM cdc_management.source_fields WHERE schema_name = ${quoteLiteral(table.id.schema)} AND table_name = ${quoteLiteral(table.id.name)};`,
  ];
}
