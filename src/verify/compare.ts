/**
 * Source-versus-target comparison: per table, the row count and an MD5 over every row's text
 * form (source columns only, rows sorted by their text), computed by each server. Equal
 * checksums mean equal contents, row for row and column for column. On a mismatch, up to
 * `sampleLimit` differing rows are listed.
 */
import type pg from 'pg';
import { formatTableId, tableKey, type TableSchema } from '../schema/table.js';
import { quoteIdent, quoteTable } from '../sql/quote.js';

/** The comparison of one table. */
export interface TableComparison {
  readonly table: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly sourceChecksum: string;
  readonly targetChecksum: string;
  readonly equal: boolean;
  /** Rows only on the source (`-`) or only on the target (`+`), as row text; at most `sampleLimit`. */
  readonly differences: readonly string[];
}

/** Options for {@link compareTables}. */
export interface CompareOptions {
  /** Target rows with this boolean column true are ignored (soft-deleted rows). */
  readonly ignoreWhereTrue?: string;
  /** Differing rows to list per table (default 5). */
  readonly sampleLimit?: number;
  /**
   * Source tables (by `tableKey`) that are partitioned: read with their partitions' rows. When
   * given, every other source table is read `ONLY`, so an inheritance parent counts its own
   * rows, as cdc-merge captures them. Absent: every table is read with its descendants.
   */
  readonly partitioned?: ReadonlySet<string>;
}

function rowText(table: TableSchema): string {
  return `ROW(${table.columns.map((c) => quoteIdent(c.name)).join(', ')})::text`;
}

async function summary(client: pg.ClientBase, table: TableSchema, where: string, only: boolean): Promise<{ rows: number; checksum: string }> {
  const { rows } = await client.query<{ n: string; sum: string | null }>(
    `SELECT count(*)::text AS n, md5(coalesce(string_agg(r, E'\\n' ORDER BY r COLLATE "C"), '')) AS sum
       FROM (SELECT ${rowText(table)} AS r FROM ${only ? 'ONLY ' : ''}${quoteTable(table.id)}${where}) x`,
  );
  return { rows: Number(rows[0]!.n), checksum: rows[0]!.sum ?? '' };
}

async function allRows(client: pg.ClientBase, table: TableSchema, where: string, only: boolean): Promise<string[]> {
  const { rows } = await client.query<{ r: string }>(
    `SELECT r FROM (SELECT ${rowText(table)} AS r FROM ${only ? 'ONLY ' : ''}${quoteTable(table.id)}${where}) x ORDER BY r COLLATE "C"`,
  );
  return rows.map((x) => x.r);
}

/**
 * Compares each table of `tables` (source definitions) between `source` and `target`.
 * Tables are compared one by one; each side computes its own checksum.
 */
export async function compareTables(
  source: pg.ClientBase,
  target: pg.ClientBase,
  tables: readonly TableSchema[],
  options: CompareOptions = {},
): Promise<TableComparison[]> {
  const targetWhere = options.ignoreWhereTrue ? ` WHERE NOT ${quoteIdent(options.ignoreWhereTrue)}` : '';
  const results: TableComparison[] = [];
  for (const table of tables) {
    const only = options.partitioned !== undefined && !options.partitioned.has(tableKey(table.id));
    const [s, t] = await Promise.all([summary(source, table, '', only), summary(target, table, targetWhere, false)]);
    const equal = s.rows === t.rows && s.checksum === t.checksum;
    let differences: string[] = [];
    if (!equal) {
      const limit = options.sampleLimit ?? 5;
      const [a, b] = await Promise.all([allRows(source, table, '', only), allRows(target, table, targetWhere, false)]);
      const count = new Map<string, number>();
      for (const r of a) count.set(r, (count.get(r) ?? 0) + 1);
      for (const r of b) count.set(r, (count.get(r) ?? 0) - 1);
      differences = [...count]
        .filter(([, n]) => n !== 0)
        .slice(0, limit)
        .map(([r, n]) => `${n > 0 ? '-' : '+'} ${r}`);
    }
    results.push({
      table: formatTableId(table.id),
      sourceRows: s.rows,
      targetRows: t.rows,
      sourceChecksum: s.checksum,
      targetChecksum: t.checksum,
      equal,
      differences,
    });
  }
  return results;
}
