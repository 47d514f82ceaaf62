/**
 * The merge statement for a table with a primary key (DESIGN.md §3.1–3.6): one set-based
 * statement of CTEs over the whole staging table.
 *
 * ```
 * ranked    staging rows numbered per key, latest position first (rank 1 = the winner)
 * fill_<n>  per TOASTable column: latest earlier staged value of a key whose winner lacks it
 * resolved  winners with unchanged values filled (from fill_<n> or the target row)
 * deleted   'D' winners: DELETE (or soft delete) target rows holding an older position
 * written   other winners: INSERT … ON CONFLICT (key) DO UPDATE … WHERE stored position is older
 * ```
 */
import type { ColumnSchema, TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import {
  COMMIT_TIME_COLUMN,
  DELETED_COLUMN,
  OP_COLUMN,
  POSITION_COLUMN,
  SYNCED_AT_COLUMN,
  UNCHANGED_COLUMN,
  stagingTableId,
} from './naming.js';
import { col, colList, isDelete, keyMatch, latestFirst, listsUnchanged, positionOf, type MergeStatement } from './merge-sql.js';
import type { TableOptions } from './table-ddl.js';

/** Rank of a staged row among its key's rows, 1 = latest position. */
const RANK = '_cdc_rank';
/** The winner's `_cdc_unchanged`, copied onto every staged row of its key. */
const WINNER_UNCHANGED = '_cdc_winner_unchanged';
/** A fill CTE's value column. */
const VALUE = '_cdc_value';
/** True on a resolved winner whose unchanged value exists nowhere. */
const MISSING = '_cdc_missing';
/** Position and commit time, copied from staging to the target. */
const POSITION_COLUMNS = [POSITION_COLUMN, COMMIT_TIME_COLUMN];

/** Staging rows with their rank within their key (and the winner's unchanged list). */
function rankedCte(table: TableSchema, toastable: readonly ColumnSchema[]): string {
  const keys = colList(table.primaryKey, 's');
  const extra = toastable.length > 0 ? `,\n       first_value(${col('s', UNCHANGED_COLUMN)}) OVER latest AS ${quoteIdent(WINNER_UNCHANGED)}` : '';
  return [
    `SELECT s.*,\n       row_number() OVER latest AS ${quoteIdent(RANK)}${extra}`,
    `FROM ${quoteTable(stagingTableId(table.id))} AS s`,
    `WINDOW latest AS (PARTITION BY ${keys} ORDER BY ${latestFirst('s')})`,
  ].join('\n');
}

/**
 * For TOASTable `column`: per key whose winner lists it as unchanged, the value and position of
 * the latest earlier staged row (rank > 1, so earlier than the winner) that is not a delete and
 * carries the value. A key with no such row has no fill row.
 */
function fillCte(table: TableSchema, column: ColumnSchema): string {
  const keys = colList(table.primaryKey, 's');
  return [
    `SELECT DISTINCT ON (${keys}) ${keys}, ${col('s', column.name)} AS ${quoteIdent(VALUE)}, ${col('s', POSITION_COLUMN)}`,
    'FROM ranked AS s',
    `WHERE ${col('s', RANK)} > 1`,
    `  AND ${listsUnchanged('s', column.name, WINNER_UNCHANGED)}`,
    `  AND NOT ${isDelete('s')}`,
    `  AND NOT ${listsUnchanged('s', column.name)}`,
    `ORDER BY ${keys}, ${col('s', RANK)}`,
  ].join('\n');
}

/**
 * The value a winner writes for TOASTable `column` (fill alias `f`): its own when sent; else the
 * latest earlier version, from the batch or from the target row `cur`, whichever is newer (the
 * batch may replay changes the target already holds).
 */
function filledValue(table: TableSchema, column: ColumnSchema, f: string): string {
  const curAbsent = `${col('cur', table.primaryKey[0] ?? '')} IS NULL`;
  return [
    'CASE',
    `  WHEN NOT ${listsUnchanged('w', column.name)} THEN ${col('w', column.name)}`,
    `  WHEN ${col(f, POSITION_COLUMN)} IS NOT NULL AND (${curAbsent} OR ${positionOf(f)} > ${positionOf('cur')}) THEN ${col(f, VALUE)}`,
    `  ELSE ${col('cur', column.name)}`,
    `END AS ${quoteIdent(column.name)}`,
  ].join('\n');
}

/** The winners, one per key, with every unchanged value filled in, and a `_cdc_missing` flag. */
function resolvedCte(table: TableSchema, toastable: readonly ColumnSchema[]): string {
  const fillAlias = (i: number) => `f${i + 1}`;
  const values = table.columns.map((c) => {
    const i = toastable.indexOf(c);
    return i < 0 ? col('w', c.name) : filledValue(table, c, fillAlias(i));
  });
  const select = [...[OP_COLUMN, ...POSITION_COLUMNS].map((c) => col('w', c)), ...values];
  const joins: string[] = [];
  if (toastable.length > 0) {
    const noneFound = toastable.map((c, i) => `(${listsUnchanged('w', c.name)} AND ${col(fillAlias(i), POSITION_COLUMN)} IS NULL)`);
    select.push(`${col('cur', table.primaryKey[0] ?? '')} IS NULL AND (${noneFound.join('\n  OR ')}) AS ${quoteIdent(MISSING)}`);
    joins.push(
      `LEFT JOIN ${quoteTable(table.id)} AS cur ON ${col('w', UNCHANGED_COLUMN)} IS NOT NULL AND ${keyMatch('cur', 'w', table.primaryKey)}`,
      ...toastable.map((_, i) => `LEFT JOIN fill_${i + 1} AS ${fillAlias(i)} ON ${keyMatch(fillAlias(i), 'w', table.primaryKey)}`),
    );
  }
  return [
    `SELECT ${select.join(',\n').replaceAll('\n', '\n       ')}`,
    'FROM ranked AS w',
    ...joins,
    `WHERE ${col('w', RANK)} = 1`,
  ].join('\n');
}

/** Deletes (or soft-deletes) target rows whose winner is a 'D' with a newer position. */
function deletedCte(table: TableSchema, options: TableOptions): string {
  const where = [
    `WHERE ${isDelete('w')}`,
    `  AND ${keyMatch('t', 'w', table.primaryKey)}`,
    `  AND ${positionOf('t')} < ${positionOf('w')}`,
    'RETURNING 1',
  ];
  if (!options.softDelete) return [`DELETE FROM ${quoteTable(table.id)} AS t`, 'USING resolved AS w', ...where].join('\n');
  const set = [
    `${quoteIdent(DELETED_COLUMN)} = true`,
    ...POSITION_COLUMNS.map((c) => `${quoteIdent(c)} = ${col('w', c)}`),
    `${quoteIdent(SYNCED_AT_COLUMN)} = now()`,
  ];
  return [`UPDATE ${quoteTable(table.id)} AS t`, `SET ${set.join(',\n    ')}`, 'FROM resolved AS w', ...where].join('\n');
}

/** Upserts the other winners, updating only target rows that hold an older position. */
function writtenCte(table: TableSchema, options: TableOptions, checkMissing: boolean): string {
  const source = table.columns.map((c) => c.name);
  const metadata = [...POSITION_COLUMNS, SYNCED_AT_COLUMN, ...(options.softDelete ? [DELETED_COLUMN] : [])];
  const metadataValues = [...POSITION_COLUMNS.map((c) => col('w', c)), 'now()', ...(options.softDelete ? ['false'] : [])];
  const updated = [...source.filter((c) => !table.primaryKey.includes(c)), ...metadata];
  return [
    `INSERT INTO ${quoteTable(table.id)} AS t (${colList([...source, ...metadata])})`,
    `SELECT ${[colList(source, 'w'), ...metadataValues].join(', ')}`,
    'FROM resolved AS w',
    `WHERE NOT ${isDelete('w')}${checkMissing ? ` AND NOT ${col('w', MISSING)}` : ''}`,
    `ON CONFLICT (${colList(table.primaryKey)}) DO UPDATE`,
    `SET ${updated.map((c) => `${quoteIdent(c)} = ${col('EXCLUDED', c)}`).join(',\n    ')}`,
    `WHERE ${positionOf('t')} < ${positionOf('EXCLUDED')}`,
    'RETURNING 1',
  ].join('\n');
}

/**
 * The merge statement of a table with a primary key:
 * - dedup: per key, the staged row with the greatest `_cdc_position` wins;
 * - unchanged values: a TOASTable column the winner lists in `_cdc_unchanged` takes the latest
 *   earlier version: the latest earlier staged row of the key that is not a 'D' and carries it,
 *   or the target row, whichever holds the newer position (normally the batch row; the target
 *   when the batch replays older changes). A winner with neither counts in `missingRows` and is not
 *   written (the procedure then raises): it is never written with NULL;
 * - idempotency: a winner at or below the target row's position changes nothing;
 * - a 'D' winner deletes (soft delete: flags `_cdc_deleted`, updates position, commit time and
 *   synced-at, keeps values); an 'I'/'U' winner upserts (soft delete: `_cdc_deleted = false`).
 *   A 'D' winner without a target row does nothing, also with soft delete (its values are unknown).
 *
 * Values flagged unchanged on columns that are not TOASTable are not filled (they cannot occur).
 */
export function keyedMergeStatement(table: TableSchema, options: TableOptions): MergeStatement {
  const toastable = table.columns.filter((c) => c.toastable);
  const ctes = [
    { name: 'ranked', sql: rankedCte(table, toastable) },
    ...toastable.map((c, i) => ({ name: `fill_${i + 1}`, sql: fillCte(table, c) })),
    { name: 'resolved', sql: resolvedCte(table, toastable) },
    { name: 'deleted', sql: deletedCte(table, options) },
    { name: 'written', sql: writtenCte(table, options, toastable.length > 0) },
  ];
  return {
    ctes,
    stagedRows: '(SELECT count(*) FROM ranked)',
    deletedRows: '(SELECT count(*) FROM deleted)',
    writtenRows: '(SELECT count(*) FROM written)',
    missingRows:
      toastable.length > 0 ? `(SELECT count(*) FROM resolved AS w WHERE ${col('w', MISSING)} AND NOT ${isDelete('w')})` : '0',
  };
}
