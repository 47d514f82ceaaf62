/**
 * Source-versus-target comparison by connection URL: every source table matching the patterns
 * (all when none are given), described from the source's current catalog, compared with
 * {@link compareTables}. Used by the demo, the benchmark and the tests.
 */
import pg from 'pg';
import type { TablePattern } from '../config/table-pattern.js';
import { describeTables, listTables } from '../sources/postgres/catalog.js';
import { compareTables, type CompareOptions, type TableComparison } from './compare.js';
import { SESSION_OPTIONS } from '../sql/connect.js';

/** Options for {@link compareDatabases}. */
export interface CompareDatabasesOptions extends CompareOptions {
  /** Source tables to compare; all (outside system schemas) when empty or absent. */
  readonly patterns?: readonly TablePattern[];
}

/** Opens both databases, compares, and closes the connections whatever happens. */
export async function compareDatabases(sourceUrl: string, targetUrl: string, options: CompareDatabasesOptions = {}): Promise<TableComparison[]> {
  const source = new pg.Client({ connectionString: sourceUrl, application_name: 'cdc-merge compare', options: SESSION_OPTIONS });
  const target = new pg.Client({ connectionString: targetUrl, application_name: 'cdc-merge compare', options: SESSION_OPTIONS });
  await source.connect();
  try {
    await target.connect();
    try {
      const tables = await describeTables(source, await listTables(source, options.patterns ?? []));
      return await compareTables(source, target, tables, options);
    } finally {
      await target.end();
    }
  } finally {
    await source.end();
  }
}
