/**
 * Quoting for PostgreSQL SQL text. This is the only place that builds identifiers and
 * literals; everything else calls it.
 * @see https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
 */
import type { TableId } from '../schema/table.js';

/** Double-quotes an identifier, doubling embedded quotes: `Invoice` → `"Invoice"`. */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new Error(`identifier contains a NUL byte: ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"` for a table id. */
export function quoteTable(id: TableId): string {
  return `${quoteIdent(id.schema)}.${quoteIdent(id.name)}`;
}

/** A standard-conforming string literal: `it's` → `'it''s'`. */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error('string literal contains a NUL byte');
  return `'${value.replaceAll("'", "''")}'`;
}
