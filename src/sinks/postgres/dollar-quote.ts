/**
 * Dollar quoting for routine bodies, which stay readable in migration files where a
 * standard string literal would double every quote.
 * @see https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-DOLLAR-QUOTING
 */

/**
 * Wraps `body` in `$tag$ … $tag$`, with a tag that does not occur in `body` (a column named
 * `x$cdc$` must not end the string early): `tag`, then `tag_1`, `tag_2`, … Deterministic for a
 * given body. `tag` must be a plain lowercase word (`[a-z_][a-z0-9_]*`).
 * @throws {Error} for an invalid tag.
 */
export function dollarQuote(body: string, tag = 'cdc'): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(tag)) throw new Error(`invalid dollar-quote tag: ${JSON.stringify(tag)}`);
  // The closing tag must be the first occurrence after the opening one, also when the body's end
  // and the closing tag together spell it (a body ending in `$cdc`).
  const endsEarly = (t: string) => `${body}$${t}$`.indexOf(`$${t}$`) !== body.length;
  let candidate = tag;
  for (let n = 1; endsEarly(candidate); n++) candidate = `${tag}_${n}`;
  return `$${candidate}$${body}$${candidate}$`;
}
