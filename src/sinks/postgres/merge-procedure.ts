/**
 * The per-table merge procedure (DESIGN.md §4): `cdc_staging."sp_merge_<schema>.<table>"()`
 * merges every row in the table's staging table into its final table, empties staging and records
 * the merge in `cdc_management.merge_control`.
 */
import { formatTableId, type TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteLiteral, quoteTable } from '../../sql/quote.js';
import { dollarQuote } from './dollar-quote.js';
import { managementTable } from './infrastructure.js';
import { keyedMergeStatement } from './merge-keyed.js';
import { keylessMergeStatement } from './merge-keyless.js';
import { indent, isDelete, type MergeStatement } from './merge-sql.js';
import { leanMergeSql } from './merge-lean.js';
import {
  COMMIT_TIME_COLUMN,
  POSITION_COLUMN,
  SYNCED_AT_COLUMN,
  UNCHANGED_COLUMN,
  assertSupportedTable,
  mergeProcedureId,
  stagingTableId,
} from './naming.js';
import type { TableOptions } from './table-ddl.js';

/**
 * SQLSTATE the merge procedure raises when a winning update lists a value as unchanged and neither
 * the batch nor the target holds an earlier version of the row. Class `U` is outside the classes
 * the SQL standard reserves, so it never clashes with a PostgreSQL error. Typical cause: an UPDATE
 * that changed the primary key of a row with an unchanged TOASTed value (pgoutput sends the new
 * key's row with 'u', and the old key's row cannot be found from the new key).
 */
export const UNCHANGED_VALUE_MISSING_SQLSTATE = 'U0001';

/** `WITH a AS (…), b AS (…)` followed by the SELECT of the four counts INTO the counters. */
function statementSql(statement: MergeStatement): string {
  const ctes = statement.ctes.map((c) => `${c.name} AS (\n${indent(c.sql, 2)}\n)`).join(',\n');
  const counts = [statement.stagedRows, statement.deletedRows, statement.writtenRows, statement.missingRows];
  return [
    `WITH\n${ctes}`,
    `SELECT ${counts.join(',\n       ')}`,
    'INTO _cdc_staged_rows, _cdc_deleted_rows, _cdc_written_rows, _cdc_missing_rows;',
  ].join('\n');
}

/** Upserts the table's merge_control row after a merge. */
function mergeControlSql(table: TableSchema): string {
  return [
    `INSERT INTO ${managementTable('merge_control')} AS mc`,
    '  (schema_name, table_name, merge_procedure, has_changes, is_merging, last_merge_time, merge_count, last_merge_duration_ms, last_merge_rows)',
    `VALUES (${quoteLiteral(table.id.schema)}, ${quoteLiteral(table.id.name)}, ${quoteLiteral(quoteTable(mergeProcedureId(table.id)))}, false, false, now(), 1,`,
    '        1000 * extract(epoch FROM clock_timestamp() - _cdc_started), _cdc_staged_rows)',
    'ON CONFLICT (schema_name, table_name) DO UPDATE',
    'SET has_changes = false,',
    '    is_merging = false,',
    '    first_change_time = NULL,',
    '    merge_started_at = NULL,',
    '    merged_by = NULL,',
    '    last_error = NULL,',
    '    last_error_time = NULL,',
    '    last_merge_time = EXCLUDED.last_merge_time,',
    '    merge_count = mc.merge_count + 1,',
    '    last_merge_duration_ms = EXCLUDED.last_merge_duration_ms,',
    '    last_merge_rows = EXCLUDED.last_merge_rows;',
  ].join('\n');
}

/** Raises {@link UNCHANGED_VALUE_MISSING_SQLSTATE} when some unchanged value had no earlier version. */
function missingCheckSql(table: TableSchema): string {
  const message =
    `cannot merge ${formatTableId(table.id)}: ` +
    'updated row(s) list a value as unchanged (TOAST) but neither the batch nor the target holds an earlier version ' +
    'of the row, so the value is unknown; count: ';
  return [
    'IF _cdc_missing_rows > 0 THEN',
    `  RAISE EXCEPTION USING ERRCODE = ${quoteLiteral(UNCHANGED_VALUE_MISSING_SQLSTATE)},`,
    `    MESSAGE = ${quoteLiteral(message)} || _cdc_missing_rows,`,
    `    HINT = ${quoteLiteral('the target is missing rows the source has (or a primary-key change kept a TOASTed value); resynchronise the table')};`,
    'END IF;',
  ].join('\n');
}

/**
 * For a table without a primary key: when the batch deletes nothing (an append-only log, the
 * common case), every staged row is simply inserted; the multiset statement, which groups all
 * rows by their text and matches them against the target, runs only when a 'D' row is staged.
 */
function keylessWithInsertOnlyPath(table: TableSchema, statement: MergeStatement): string {
  const staging = quoteTable(stagingTableId(table.id));
  const columns = table.columns.map((c) => quoteIdent(c.name));
  const meta = [POSITION_COLUMN, COMMIT_TIME_COLUMN].map(quoteIdent);
  return [
    `IF EXISTS (SELECT 1 FROM ${staging} AS s WHERE ${isDelete('s')}) THEN`,
    indent(statementSql(statement), 2),
    'ELSE',
    `  INSERT INTO ${quoteTable(table.id)} (${[...columns, ...meta, quoteIdent(SYNCED_AT_COLUMN)].join(', ')})`,
    `  SELECT ${[...columns, ...meta].join(', ')}, now() FROM ${staging};`,
    '  GET DIAGNOSTICS _cdc_written_rows = ROW_COUNT;',
    '  _cdc_staged_rows := _cdc_written_rows;',
    '  _cdc_deleted_rows := 0;',
    '  _cdc_missing_rows := 0;',
    'END IF;',
  ].join('\n');
}

/**
 * `CREATE OR REPLACE PROCEDURE cdc_staging."sp_merge_<schema>.<table>"() LANGUAGE plpgsql` (name:
 * `mergeProcedureId`). Calling it:
 * 1. locks the staging table ACCESS EXCLUSIVE (TRUNCATE needs it anyway; taking it first means no
 *    row another transaction stages meanwhile is truncated unmerged: call it in READ COMMITTED);
 * 2. merges every staged row in one set-based statement: see `keyedMergeStatement` (table with a
 *    primary key: dedup by position, unchanged values filled, idempotent on the stored position)
 *    and `keylessMergeStatement` (no primary key: multiset counts). When no staged row of a keyed
 *    table lists an unchanged value, the lean statement runs instead: `MERGE` on PostgreSQL 15+
 *    (`leanMergeSql`), else the keyed statement without its fill steps;
 * 3. raises SQLSTATE {@link UNCHANGED_VALUE_MISSING_SQLSTATE} if an unchanged value is unknown,
 *    which rolls back the caller's transaction rather than write NULL;
 * 4. TRUNCATEs staging and upserts the table's `merge_control` row (merge_count + 1,
 *    last_merge_time = now(), last_merge_duration_ms, last_merge_rows = staged rows consumed,
 *    has_changes and is_merging false, the claim and last error cleared).
 *
 * Metadata written: `_cdc_position`, `_cdc_commit_time` from the staged row,
 * `_cdc_synced_at = now()` (the merge transaction's start). The procedure does not commit: the
 * caller's transaction (with the offsets update) decides. Requires the infrastructure, final and
 * staging tables. Deterministic text; re-running it replaces the procedure.
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function mergeProcedureSql(table: TableSchema, options: TableOptions = {}): string {
  assertSupportedTable(table);
  const staging = quoteTable(stagingTableId(table.id));
  const keyed = table.primaryKey.length > 0;
  const full = keyed ? keyedMergeStatement(table, options) : keylessMergeStatement(table, options);
  const fullSql = [
    keyed ? statementSql(full) : keylessWithInsertOnlyPath(table, full),
    ...(full.missingRows === '0' ? [] : [missingCheckSql(table)]),
  ].join('\n');
  let merge = fullSql;
  if (keyed) {
    // Without unchanged values to fill, a lean statement does: MERGE on 15+, else the keyed
    // statement without its fill steps.
    const plain = { ...table, columns: table.columns.map((c) => ({ ...c, toastable: false })) };
    const lean = [
      `IF current_setting('server_version_num')::int >= 150000 THEN`,
      `  SELECT count(*) INTO _cdc_staged_rows FROM ${staging};`,
      `  EXECUTE ${dollarQuote(leanMergeSql(table, options), 'cdc_lean')};`,
      'ELSE',
      indent(statementSql(keyedMergeStatement(plain, options)), 2),
      'END IF;',
    ].join('\n');
    merge = table.columns.some((c) => c.toastable)
      ? [
          `IF EXISTS (SELECT 1 FROM ${staging} WHERE ${quoteIdent(UNCHANGED_COLUMN)} IS NOT NULL) THEN`,
          indent(fullSql, 2),
          'ELSE',
          indent(lean, 2),
          'END IF;',
        ].join('\n')
      : lean;
  }
  const body = [
    '',
    '#variable_conflict use_column',
    'DECLARE',
    '  _cdc_started timestamptz := clock_timestamp();',
    '  _cdc_staged_rows bigint := 0;',
    '  _cdc_deleted_rows bigint := 0;',
    '  _cdc_written_rows bigint := 0;',
    '  _cdc_missing_rows bigint := 0;',
    'BEGIN',
    indent(`LOCK TABLE ${staging} IN ACCESS EXCLUSIVE MODE;`, 2),
    indent(merge, 2),
    indent(`TRUNCATE ${staging};`, 2),
    indent(mergeControlSql(table), 2),
    'END;',
    '',
  ].join('\n');
  return [
    `CREATE OR REPLACE PROCEDURE ${quoteTable(mergeProcedureId(table.id))}()`,
    'LANGUAGE plpgsql',
    `AS ${dollarQuote(body, 'cdc_merge')};`,
  ].join('\n');
}
