/**
 * The lean merge of a table with a primary key, for batches where no staged row lists an
 * unchanged value (the common case: nothing to fill from earlier versions). On PostgreSQL 15+ it
 * is one `MERGE` statement (https://www.postgresql.org/docs/current/sql-merge.html): the winner
 * per key (DISTINCT ON, latest position first) joined once with the final table, then DELETE,
 * UPDATE or INSERT by op and position. Older servers use the keyed CTE statement without its fill
 * steps (`keyedMergeStatement` of the table with no TOASTable columns).
 *
 * The MERGE is issued with `EXECUTE` so that the procedure still compiles on PostgreSQL 13 and
 * 14, which do not know the statement.
 */
import type { TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import { COMMIT_TIME_COLUMN, DELETED_COLUMN, POSITION_COLUMN, SYNCED_AT_COLUMN, stagingTableId } from './naming.js';
import { col, colList, isDelete, keyMatch, latestFirst, positionOf } from './merge-sql.js';
import type { TableOptions } from './table-ddl.js';

/** Position and commit time, copied from staging to the target. */
const POSITION_COLUMNS = [POSITION_COLUMN, COMMIT_TIME_COLUMN];

/**
 * The `MERGE` statement (PostgreSQL 15+) for `table`, whose staged rows carry every value:
 * - dedup: per key, the staged row with the greatest `_cdc_position` wins;
 * - a delete winner deletes the target row when that row's position is older (soft delete:
 *   flags it, with position, commit time and synced-at);
 * - another winner updates the target row when that row's position is older, or inserts it.
 * A winner at or below the stored position changes nothing (idempotent replay).
 */
export function leanMergeSql(table: TableSchema, options: TableOptions): string {
  const keys = table.primaryKey;
  const source = table.columns.map((c) => c.name);
  const staging = quoteTable(stagingTableId(table.id));
  const older = `${positionOf('t')} < ${positionOf('w')}`;
  const metadata = [...POSITION_COLUMNS, SYNCED_AT_COLUMN, ...(options.softDelete ? [DELETED_COLUMN] : [])];
  const metadataValues = [...POSITION_COLUMNS.map((c) => col('w', c)), 'now()', ...(options.softDelete ? ['false'] : [])];
  const updated = source.filter((c) => !keys.includes(c));
  const set = [...updated.map((c) => `${quoteIdent(c)} = ${col('w', c)}`), ...metadata.map((c, i) => `${quoteIdent(c)} = ${metadataValues[i]}`)];
  const onDelete = options.softDelete
    ? `UPDATE SET ${[`${quoteIdent(DELETED_COLUMN)} = true`, ...POSITION_COLUMNS.map((c) => `${quoteIdent(c)} = ${col('w', c)}`), `${quoteIdent(SYNCED_AT_COLUMN)} = now()`].join(', ')}`
    : 'DELETE';
  return [
    `MERGE INTO ${quoteTable(table.id)} AS t`,
    `USING (SELECT DISTINCT ON (${colList(keys, 's')}) s.* FROM ${staging} AS s ORDER BY ${colList(keys, 's')}, ${latestFirst('s')}) AS w`,
    `ON ${keyMatch('t', 'w', keys)}`,
    `WHEN MATCHED AND ${isDelete('w')} AND ${older} THEN`,
    `  ${onDelete}`,
    `WHEN MATCHED AND NOT ${isDelete('w')} AND ${older} THEN`,
    `  UPDATE SET ${set.join(', ')}`,
    `WHEN NOT MATCHED AND NOT ${isDelete('w')} THEN`,
    `  INSERT (${colList([...source, ...metadata])}) VALUES (${[colList(source, 'w'), ...metadataValues].join(', ')})`,
  ].join('\n');
}
