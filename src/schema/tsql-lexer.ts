/**
 * A T-SQL lexer for DDL scripts, and the helpers that walk its tokens.
 *
 * {@link tokenize} cuts a whole script into tokens, skipping whitespace and comments (`--` to the
 * end of the line, nested block comments); strings (`'…'`, `N'…'`), `[bracketed]` and `"quoted"`
 * names are single tokens, with doubled closing quotes as escapes; `GO` alone on its line (the
 * batch separator of sqlcmd and SSMS, optionally with a count) is a `go` token. Nothing is parsed
 * here: statements are found by walking the tokens.
 * @see https://learn.microsoft.com/sql/t-sql/language-elements/sql-server-utilities-statements-go
 * @see https://learn.microsoft.com/sql/relational-databases/databases/database-identifiers
 */
import { scriptError } from './mssql-import-error.js';

/** What a token is: a keyword or unquoted name, a quoted name, a string, a number, one punctuation character, or a `GO` line. */
export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'punct' | 'go';

/** A token of the script. `value` is a name without its quotes for `ident`, the text otherwise. */
export interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  /** Upper-cased `value` of a `word` (for keyword tests); '' for other kinds. */
  readonly upper: string;
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

const WORD = /[\p{L}\p{M}_@#][\p{L}\p{M}\p{N}_@#$]*/uy;
const NUMBER = /0x[0-9a-f]*|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?/iy;
/** Rest of a line holding only `GO [count]` (sqlcmd's batch separator), after the GO. */
const GO_REST = /[ \t]*(?:\d+)?[ \t]*(?:--[^\n]*)?(?=\r?\n|$)/y;

/** True when the sticky `re` matches `text` at `at`; then `re.lastIndex` is the end of the match. */
function stickyMatch(re: RegExp, text: string, at: number): boolean {
  re.lastIndex = at;
  return re.test(text);
}

function newlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Cuts a T-SQL script into tokens, without comments and whitespace. `GO` alone on its line
 * becomes a `go` token.
 * @throws {CdcError} SCHEMA_IMPORT_INVALID for an unterminated string, quoted name or comment
 */
export function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineHasToken = false;
  const unterminated = (what: string, at: number, atLine: number): never => {
    throw scriptError(file, atLine, `${what} starting here is not closed`, 'close it; the rest of the file cannot be read otherwise');
  };
  /** End (exclusive) of a quoted run opened at `at` by `close`'s partner; doubled `close` is an escape. */
  const closing = (at: number, close: string, what: string): number => {
    let j = at + 1;
    for (;;) {
      const k = text.indexOf(close, j);
      if (k < 0) return unterminated(what, at, line);
      if (text[k + 1] !== close) return k + 1;
      j = k + 2;
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      lineHasToken = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff' || c === '\u00a0') {
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const startLine = line;
      let depth = 0;
      let j = i;
      do {
        const open = text.indexOf('/*', j);
        const close = text.indexOf('*/', j);
        if (close < 0) unterminated('/* comment', i, startLine);
        if (open >= 0 && open < close) {
          depth++;
          j = open + 2;
        } else {
          depth--;
          j = close + 2;
        }
      } while (depth > 0);
      line += newlines(text, i, j);
      i = j;
      continue;
    }
    const start = i;
    const startLine = line;
    let kind: TokenKind;
    let value: string;
    if (c === '[' || c === '"') {
      const close = c === '[' ? ']' : '"';
      i = closing(i, close, c === '[' ? 'bracketed name' : 'quoted name');
      kind = 'ident';
      value = text.slice(start + 1, i - 1).replaceAll(close + close, close);
    } else if (c === "'" || ((c === 'N' || c === 'n') && text[i + 1] === "'")) {
      i = closing(c === "'" ? i : i + 1, "'", 'string');
      kind = 'string';
      value = text.slice(start, i);
    } else if ((c >= '0' && c <= '9') || (c === '.' && /\d/.test(text[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      NUMBER.exec(text);
      i = NUMBER.lastIndex;
      kind = 'number';
      value = text.slice(start, i);
    } else if (stickyMatch(WORD, text, i)) {
      i = WORD.lastIndex;
      value = text.slice(start, i);
      kind = 'word';
      if (!lineHasToken && value.length === 2 && value.toUpperCase() === 'GO') {
        if (stickyMatch(GO_REST, text, i)) {
          i = GO_REST.lastIndex;
          kind = 'go';
        }
      }
    } else {
      i++;
      kind = 'punct';
      value = c;
    }
    line += newlines(text, start, i);
    tokens.push({ kind, value, upper: kind === 'word' ? value.toUpperCase() : '', start, end: i, line: startLine });
    lineHasToken = true;
  }
  return tokens;
}

/** True when `t` is a `word` that is one of `words` (upper case). */
export const isWord = (t: Token | undefined, ...words: string[]): boolean => t?.kind === 'word' && words.includes(t.upper);
/** True when `t` is the punctuation character `p`. */
export const isPunct = (t: Token | undefined, p: string): boolean => t?.kind === 'punct' && t.value === p;
/** True when `t` can be a name: a quoted name or a word. */
export const isName = (t: Token | undefined): boolean => t?.kind === 'ident' || t?.kind === 'word';

/** Index of the `)` matching the `(` at `open`, or of the first `go` / the end when unbalanced. */
export function matching(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'go') return i;
    if (t.kind !== 'punct') continue;
    if (t.value === '(') depth++;
    else if (t.value === ')' && --depth === 0) return i;
  }
  return tokens.length;
}

/** A dotted name starting at `at`: its parts (empty parts of `db..T` dropped) and the index after it. */
export function dottedName(tokens: readonly Token[], at: number): { parts: string[]; next: number } {
  const parts: string[] = [];
  let i = at;
  while (isName(tokens[i]) || isPunct(tokens[i], '.')) {
    if (isName(tokens[i])) {
      if (parts.length > 0 && !isPunct(tokens[i - 1], '.')) break;
      parts.push(tokens[i]!.value);
    }
    i++;
  }
  return { parts, next: i };
}

/** The source text of `tokens[from..to]` without parentheses around all of it: `((0))` → `0`; undefined when empty. */
export function expressionText(text: string, tokens: readonly Token[], from: number, to: number): string | undefined {
  let a = from;
  let b = to;
  while (a < b && isPunct(tokens[a], '(') && matching(tokens, a) === b) {
    a++;
    b--;
  }
  return a <= b ? text.slice(tokens[a]!.start, tokens[b]!.end) : undefined;
}
