/**
 * Splits SQL text into statements at top-level semicolons, so that a migration can run one
 * statement at a time and name the one that failed. Understands '…' strings (with '' inside),
 * E'…' escapes, "…" identifiers, $tag$…$tag$ bodies, -- line comments and nested /* … *\/
 * comments (PostgreSQL lexical rules:
 * https://www.postgresql.org/docs/current/sql-syntax-lexical.html).
 */

/** One statement: its text (without the `;`, trimmed) and its 1-based first line in the input. */
export interface SqlStatement {
  readonly sql: string;
  readonly line: number;
}

/** The statements of `text`, in order; blank or comment-only pieces are dropped. */
export function splitStatements(text: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let start = 0;
  let i = 0;
  const push = (endIndex: number) => {
    const piece = text.slice(start, endIndex);
    const stripped = piece.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').trim();
    if (stripped !== '') {
      const lead = piece.length - piece.trimStart().length;
      const line = text.slice(0, start + lead).split('\n').length;
      out.push({ sql: piece.trim(), line });
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(text[i - 1]!) && (i < 2 || !/[\w$]/.test(text[i - 2]!));
      i++;
      while (i < text.length) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") break;
        else i++;
      }
      i++;
    } else if (c === '"') {
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') break;
        else i++;
      }
      i++;
    } else if (c === '$' && (i === 0 || !/[\w$]/.test(text[i - 1]!))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))?.[0];
      if (tag) {
        const close = text.indexOf(tag, i + tag.length);
        i = close < 0 ? text.length : close + tag.length;
      } else i++;
    } else if (c === ';') {
      push(i);
      start = ++i;
    } else i++;
  }
  push(text.length);
  return out;
}
