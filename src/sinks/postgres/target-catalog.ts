/**
 * Reads final tables from a live target catalog, in the shape definitions map to (source
 * columns only: the sink's `_cdc_` metadata columns are left out): what `cdc migrations diff
 * --env` compares with, and what a schema change in `cdc run` starts from.
 */
import type pg from 'pg';
import { tableKey, type TableId, type TableSchema } from '../../schema/table.js';
import { isToastable } from '../../schema/type-map.js';
import { RESERVED_PREFIX } from './naming.js';

/**
 * The tables among `ids` that exist, with columns (`format_type` spelling, attnum order,
 * without `_cdc_*`, nullable unless `attnotnull`) and primary key. Absent tables are absent
 * from the result. Runs one catalog query on `client` (inside its transaction, if any).
 */
export async function readTargetTables(client: pg.ClientBase, ids: readonly TableId[]): Promise<TableSchema[]> {
  const unique = [...new Map(ids.map((i) => [tableKey(i), i])).values()];
  if (unique.length === 0) return [];
  const { rows } = await client.query<{ schema: string; name: string; column: string; type: string; notnull: boolean; key: number | null }>(
    `SELECT n.nspname AS schema, c.relname AS name, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull,
            (SELECT array_position(k.conkey, a.attnum) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS key
       FROM unnest($1::text[], $2::text[]) AS want(schema, name)
       JOIN pg_namespace n ON n.nspname = want.schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = want.name AND c.relkind IN ('r', 'p')
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY n.nspname, c.relname, a.attnum`,
    [unique.map((i) => i.schema), unique.map((i) => i.name)],
  );
  const tables = new Map<string, { id: TableId; columns: TableSchema['columns'][number][]; key: { name: string; at: number }[] }>();
  for (const r of rows) {
    const id = { schema: r.schema, name: r.name };
    let t = tables.get(tableKey(id));
    if (!t) tables.set(tableKey(id), (t = { id, columns: [], key: [] }));
    if (r.column.startsWith(RESERVED_PREFIX)) continue;
    t.columns.push({ name: r.column, type: r.type, nullable: !r.notnull, toastable: isToastable(r.type) });
    if (r.key !== null) t.key.push({ name: r.column, at: r.key });
  }
  return [...tables.values()].map((t) => ({ id: t.id, columns: t.columns, primaryKey: t.key.sort((a, b) => a.at - b.at).map((k) => k.name) }));
}
