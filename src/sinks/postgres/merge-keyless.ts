/**
 * The merge statement for a table without a primary key (DESIGN.md §3.9): rows are identified by
 * all their columns, and the table is a multiset, so the merge counts.
 *
 * ```
 * grouped  staging rows grouped by all columns (as text), with net count #I/U − #D per group
 * net      one representative row per group whose net count is not 0
 * doomed   for net < 0: that many matching target rows, picked by ctid
 * deleted  DELETE (or soft delete) the doomed rows
 * written  for net > 0: INSERT that many copies of the representative row
 * ```
 */
import type { TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import { COMMIT_TIME_COLUMN, DELETED_COLUMN, POSITION_COLUMN, SYNCED_AT_COLUMN, stagingTableId } from './naming.js';
import { col, colList, isDelete, latestFirst, type MergeStatement } from './merge-sql.js';
import type { TableOptions } from './table-ddl.js';

/** Net count of a group: inserts and updates minus deletes. */
const NET = '_cdc_net';
/** Rank of a staged row within its group, 1 = latest position (the representative). */
const RANK = '_cdc_rank';
/** Number of a group, to pick target rows per group. */
const GROUP = '_cdc_group';
/** ctid of a target row picked for deletion. */
const CTID = '_cdc_ctid';
/** 1-based number of a matching target row within its group. */
const COPY = '_cdc_copy';
/** Position and commit time, copied from staging to the target. */
const POSITION_COLUMNS = [POSITION_COLUMN, COMMIT_TIME_COLUMN];

/** `s."a"::text, s."b"::text`: the group key. Every type has a text output, json and point too. */
function asText(table: TableSchema, alias: string): string {
  return table.columns.map((c) => `${col(alias, c.name)}::text`).join(', ');
}

/**
 * `quote_nullable(t."a"::text) = quote_nullable(n."a"::text) AND …`: the same as
 * `t."a"::text IS NOT DISTINCT FROM n."a"::text` (quote_nullable maps NULL to the word NULL and any
 * text to a quoted literal, so it is injective and never NULL), but hashable, so matching the target
 * against the groups is one hash join instead of a nested loop over the whole target.
 */
function sameRow(table: TableSchema, a: string, b: string): string {
  return table.columns.map((c) => `quote_nullable(${col(a, c.name)}::text) = quote_nullable(${col(b, c.name)}::text)`).join('\n  AND ');
}

function groupedCte(table: TableSchema): string {
  return [
    `SELECT s.*,`,
    `       sum(CASE WHEN ${isDelete('s')} THEN -1 ELSE 1 END) OVER same_row AS ${quoteIdent(NET)},`,
    `       row_number() OVER (same_row ORDER BY ${latestFirst('s')}) AS ${quoteIdent(RANK)}`,
    `FROM ${quoteTable(stagingTableId(table.id))} AS s`,
    `WINDOW same_row AS (PARTITION BY ${asText(table, 's')})`,
  ].join('\n');
}

function netCte(): string {
  return [
    `SELECT g.*, row_number() OVER () AS ${quoteIdent(GROUP)}`,
    'FROM grouped AS g',
    `WHERE ${col('g', RANK)} = 1 AND ${col('g', NET)} <> 0`,
  ].join('\n');
}

function doomedCte(table: TableSchema, options: TableOptions): string {
  const live = options.softDelete ? ` AND NOT ${col('t', DELETED_COLUMN)}` : '';
  return [
    `SELECT ${colList([CTID, ...POSITION_COLUMNS], 'm')}`,
    'FROM (',
    `  SELECT t.ctid AS ${quoteIdent(CTID)}, ${colList([...POSITION_COLUMNS, NET], 'n')},`,
    `         row_number() OVER (PARTITION BY ${col('n', GROUP)} ORDER BY t.ctid) AS ${quoteIdent(COPY)}`,
    `  FROM ${quoteTable(table.id)} AS t`,
    `  JOIN net AS n ON ${sameRow(table, 't', 'n').replaceAll('\n', '\n  ')}`,
    `  WHERE ${col('n', NET)} < 0${live}`,
    ') AS m',
    `WHERE ${col('m', COPY)} <= -${col('m', NET)}`,
  ].join('\n');
}

function deletedCte(table: TableSchema, options: TableOptions): string {
  const where = [`WHERE t.ctid = ${col('d', CTID)}`, 'RETURNING 1'];
  if (!options.softDelete) return [`DELETE FROM ${quoteTable(table.id)} AS t`, 'USING doomed AS d', ...where].join('\n');
  const set = [
    `${quoteIdent(DELETED_COLUMN)} = true`,
    ...POSITION_COLUMNS.map((c) => `${quoteIdent(c)} = ${col('d', c)}`),
    `${quoteIdent(SYNCED_AT_COLUMN)} = now()`,
  ];
  return [`UPDATE ${quoteTable(table.id)} AS t`, `SET ${set.join(',\n    ')}`, 'FROM doomed AS d', ...where].join('\n');
}

function writtenCte(table: TableSchema, options: TableOptions): string {
  const source = table.columns.map((c) => c.name);
  const metadata = [...POSITION_COLUMNS, SYNCED_AT_COLUMN, ...(options.softDelete ? [DELETED_COLUMN] : [])];
  const values = [colList([...source, ...POSITION_COLUMNS], 'n'), 'now()', ...(options.softDelete ? ['false'] : [])];
  return [
    `INSERT INTO ${quoteTable(table.id)} (${colList([...source, ...metadata])})`,
    `SELECT ${values.join(', ')}`,
    `FROM net AS n CROSS JOIN LATERAL generate_series(1, ${col('n', NET)}) AS copies`,
    `WHERE ${col('n', NET)} > 0`,
    'RETURNING 1',
  ].join('\n');
}

/**
 * The merge statement of a table without a primary key, with multiset semantics: staged rows are
 * grouped by all source columns compared as text (NULLs equal); a group's net count is the number
 * of 'I'/'U' rows minus 'D' rows (the writer stages an UPDATE as 'D' of the old row plus 'I' of the
 * new one). A negative net deletes that many matching target rows (fewer if fewer exist; any of
 * identical rows will do); a positive net inserts that many copies, carrying the position and
 * commit time of the group's latest staged change. With soft delete, only rows not yet flagged
 * match, and "deleting" flags them.
 *
 * Not idempotent by itself: target rows cannot tell which change wrote them, so the caller must not
 * stage a source transaction whose commit is at or below the stored offset (DESIGN.md §3.2).
 */
export function keylessMergeStatement(table: TableSchema, options: TableOptions): MergeStatement {
  return {
    ctes: [
      { name: 'grouped', sql: groupedCte(table) },
      { name: 'net', sql: netCte() },
      { name: 'doomed', sql: doomedCte(table, options) },
      { name: 'deleted', sql: deletedCte(table, options) },
      { name: 'written', sql: writtenCte(table, options) },
    ],
    stagedRows: '(SELECT count(*) FROM grouped)',
    deletedRows: '(SELECT count(*) FROM deleted)',
    writtenRows: '(SELECT count(*) FROM written)',
    missingRows: '0',
  };
}
