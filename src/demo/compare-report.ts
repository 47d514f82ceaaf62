/**
 * Source-versus-target comparison for the demo and the benchmark: every (or every named) source
 * table compared with {@link compareTables}, and a short table of the result.
 */
import pg from 'pg';
import type { TablePattern } from '../config/table-pattern.js';
import { describeTables, listTables } from '../sources/postgres/catalog.js';
import { compareTables, type TableComparison } from '../verify/compare.js';
import { formatCount, renderTable } from './text-table.js';

/**
 * Compares the source tables matching `patterns` (all when empty) with the target, using the
 * source's current table definitions.
 */
export async function compareDatabases(sourceUrl: string, targetUrl: string, patterns: readonly TablePattern[] = []): Promise<TableComparison[]> {
  const source = new pg.Client({ connectionString: sourceUrl, application_name: 'cdc-merge compare' });
  const target = new pg.Client({ connectionString: targetUrl, application_name: 'cdc-merge compare' });
  await source.connect();
  try {
    await target.connect();
    try {
      const tables = await describeTables(source, await listTables(source, patterns));
      return await compareTables(source, target, tables);
    } finally {
      await target.end();
    }
  } finally {
    await source.end();
  }
}

/** The comparison as a table (rows on each side, checksums equal) plus sample differences. */
export function renderComparison(results: readonly TableComparison[]): string {
  const table = renderTable(
    ['table', 'source rows', 'target rows', 'checksum equal'],
    results.map((r) => [r.table, formatCount(r.sourceRows), formatCount(r.targetRows), r.equal ? 'yes' : 'NO']),
    ['left', 'right', 'right', 'left'],
  );
  const samples = results.filter((r) => !r.equal && r.differences.length > 0).map((r) => `  ${r.table} differs, e.g.:\n${r.differences.map((d) => `    ${d}`).join('\n')}`);
  return [table, ...samples].join('\n');
}
