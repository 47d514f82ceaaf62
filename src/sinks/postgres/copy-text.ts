/**
 * Encoding rows for COPY … FROM STDIN in text format: columns separated by a tab, rows ended
 * by a newline, `\N` for NULL, and backslash, tab, newline and carriage return escaped with a
 * backslash. Values are already in PostgreSQL's text representation (pgoutput's form).
 * @see https://www.postgresql.org/docs/current/sql-copy.html (Text Format)
 */

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One field: `\N` for null, else the value with COPY's escapes. */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value;
}

/**
 * A PostgreSQL array literal of text elements (`{"a","b \"c\""}`), for text[] columns such as
 * the staging table's list of unchanged columns. Null when `items` is empty.
 * @see https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO
 */
export function textArrayLiteral(items: readonly string[]): string | null {
  if (items.length === 0) return null;
  return `{${items.map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
