/**
 * PostgreSQL's text forms for composite values built from already-converted elements: array
 * literals (`{1,2,NULL}`, `{"a b","q\"x"}`), hstore (`"k"=>"v"`), and geometric points.
 * @see https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO
 * @see https://www.postgresql.org/docs/current/hstore.html#HSTORE-EXTERNAL-REP
 */

/** An array element: text, SQL NULL, or a nested array (one more dimension). */
export type ArrayElement = string | null | readonly ArrayElement[];

function quoteArrayElement(text: string): string {
  const needsQuotes = text === '' || /^null$/i.test(text) || /[{}",\\\s]/.test(text);
  return needsQuotes ? `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"` : text;
}

/**
 * An array literal in PostgreSQL's input syntax. Elements are double-quoted only when they must
 * be (empty, the word NULL, or containing braces, quotes, commas, backslashes or white space);
 * null elements are written `NULL`. Nested arrays make a multi-dimensional literal (PostgreSQL
 * checks that it is rectangular).
 */
export function arrayLiteral(elements: readonly ArrayElement[]): string {
  const parts = elements.map((e) => (e === null ? 'NULL' : typeof e === 'string' ? quoteArrayElement(e) : arrayLiteral(e)));
  return `{${parts.join(',')}}`;
}

const quoteHstore = (text: string) => `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/**
 * An hstore value: `"key"=>"value"` pairs separated by `, `, keys and values always quoted, a
 * null value written `NULL` (hstore keys cannot be null).
 */
export function hstoreLiteral(pairs: readonly (readonly [string, string | null])[]): string {
  return pairs.map(([k, v]) => `${quoteHstore(k)}=>${v === null ? 'NULL' : quoteHstore(v)}`).join(', ');
}

/** A PostgreSQL `point` from coordinate texts: `(1.5,-2)`. */
export function pointLiteral(x: string, y: string): string {
  return `(${x},${y})`;
}
