/**
 * The rewritten copy of a statement that node-sql-parser gets (its "parser view").
 *
 * node-sql-parser's T-SQL grammar knows a fixed list of type names, few DEFAULT expressions and
 * not every clause, so a statement is given to it with edits applied: column types become `int`
 * and DEFAULT expressions `0` (both are read from the tokens instead, in the script's own
 * spelling, by {@link readColumn}); column options cdc-merge does not import are cut out
 * (constraint names, CLUSTERED, foreign keys, ROWGUIDCOL, SPARSE, NOT FOR REPLICATION, …; whole
 * table elements are cut by the CREATE TABLE reader); names it cannot read (`[a]]b]`,
 * unbracketed non-ASCII) become placeholders ({@link placeholderEdits}). {@link parserView}
 * applies the edits and maps the parser's offsets back to the script, so that its errors can
 * name file:line.
 * @see https://github.com/taozhi8833998/node-sql-parser
 */
import { expressionText, isName, isPunct, isWord, matching, type Token } from './tsql-lexer.js';
import { normalizeSourceType } from './type-map.js';

/** Rewrite of a statement for node-sql-parser: replaced source ranges, absolute offsets. */
export interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Type names of more than one word (T-SQL synonyms), by their first word. */
const MULTI_WORD_TYPES: Readonly<Record<string, readonly (readonly string[])[]>> = {
  DOUBLE: [['PRECISION']],
  NATIONAL: [['CHARACTER', 'VARYING'], ['CHAR', 'VARYING'], ['CHARACTER'], ['CHAR'], ['TEXT']],
  CHAR: [['VARYING']],
  CHARACTER: [['VARYING']],
  BINARY: [['VARYING']],
};

/** Words that end an unparenthesized DEFAULT expression. */
const AFTER_DEFAULT = new Set(['NOT', 'NULL', 'CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'REFERENCES', 'FOREIGN', 'IDENTITY', 'COLLATE', 'ROWGUIDCOL', 'SPARSE', 'FILESTREAM', 'WITH', 'MASKED', 'ENCRYPTED', 'GENERATED', 'HIDDEN', 'PERSISTED']);
/** Column options cdc-merge does not import and node-sql-parser does not know: cut out. */
const DROPPED_WORDS = new Set(['CLUSTERED', 'NONCLUSTERED', 'ROWGUIDCOL', 'SPARSE', 'FILESTREAM', 'HIDDEN', 'PERSISTED']);

/** What a column element says, read from its tokens. */
export interface ColumnTokens {
  readonly type: string;
  readonly default: string | undefined;
  readonly edits: Edit[];
}

/**
 * Reads the type and the default of the column element `tokens[from..to]` and lists the edits
 * that make it parseable by node-sql-parser.
 * @returns the column's type, default and edits, or what is wrong with it ("has no data type")
 */
export function readColumn(text: string, tokens: readonly Token[], from: number, to: number): ColumnTokens | string {
  const edits: Edit[] = [];
  const drop = (a: number, b: number) => edits.push({ start: tokens[a]!.start, end: tokens[b]!.end, text: ' ' });
  // The type: a (possibly dotted or multi-word) name, then an optional argument list.
  let i = from + 1;
  const first = tokens[i];
  if (i > to || !isName(first) || isWord(first, 'NOT', 'NULL', 'DEFAULT', 'IDENTITY', 'CONSTRAINT', 'PRIMARY', 'UNIQUE')) return 'has no data type';
  const more = first!.kind === 'word' ? MULTI_WORD_TYPES[first!.upper] : undefined;
  const words = more?.find((w) => w.every((word, k) => i + 1 + k <= to && isWord(tokens[i + 1 + k], word)));
  i += 1 + (words?.length ?? 0);
  while (i + 1 <= to && isPunct(tokens[i], '.') && isName(tokens[i + 1])) i += 2;
  if (i <= to && isPunct(tokens[i], '(')) i = matching(tokens, i) + 1;
  if (i - 1 > to) return 'has an unclosed type argument list';
  const typeText = text.slice(tokens[from + 1]!.start, tokens[i - 1]!.end);
  edits.push({ start: tokens[from + 1]!.start, end: tokens[i - 1]!.end, text: ' int ' });
  // Column options, at parenthesis depth 0.
  let dflt: string | undefined;
  while (i <= to) {
    const t = tokens[i]!;
    if (isPunct(t, '(')) {
      i = matching(tokens, i) + 1;
    } else if (isWord(t, 'CONSTRAINT') && isName(tokens[i + 1])) {
      drop(i, i + 1);
      i += 2;
    } else if (t.kind === 'word' && DROPPED_WORDS.has(t.upper)) {
      drop(i, i);
      i++;
    } else if (isWord(t, 'NOT') && isWord(tokens[i + 1], 'FOR') && isWord(tokens[i + 2], 'REPLICATION')) {
      drop(i, i + 2);
      i += 3;
    } else if (isWord(t, 'FOREIGN', 'REFERENCES')) {
      // [FOREIGN KEY] REFERENCES t [(c)] [ON DELETE|UPDATE action]… [NOT FOR REPLICATION]
      let j = i + 1;
      while (j <= to && !isWord(tokens[j], 'NOT', 'NULL', 'DEFAULT', 'CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'IDENTITY', 'COLLATE')) {
        j = isPunct(tokens[j], '(') ? matching(tokens, j) + 1 : j + 1;
      }
      if (isWord(tokens[j], 'NOT') && isWord(tokens[j + 1], 'FOR')) j += 3;
      drop(i, j - 1);
      i = j;
    } else if (isWord(t, 'GENERATED') && isWord(tokens[i + 1], 'ALWAYS') && isWord(tokens[i + 2], 'AS')) {
      drop(i, Math.min(i + 4, to));
      i += 5;
    } else if (isWord(t, 'MASKED', 'ENCRYPTED') && isWord(tokens[i + 1], 'WITH') && isPunct(tokens[i + 2], '(')) {
      const end = matching(tokens, i + 2);
      drop(i, end);
      i = end + 1;
    } else if (isWord(t, 'DEFAULT')) {
      let j = i + 1;
      while (j <= to && (j === i + 1 || !(tokens[j]!.kind === 'word' && AFTER_DEFAULT.has(tokens[j]!.upper)))) {
        j = isPunct(tokens[j], '(') ? matching(tokens, j) + 1 : j + 1;
      }
      const last = Math.min(j, to + 1) - 1;
      dflt = expressionText(text, tokens, i + 1, last);
      // The parser gets a plain 0: any T-SQL expression may follow DEFAULT, more than its grammar knows.
      if (dflt !== undefined) edits.push({ start: tokens[i + 1]!.start, end: tokens[last]!.end, text: ' 0 ' });
      i = j;
    } else {
      i++;
    }
  }
  return { type: normalizeSourceType('mssql', typeText), default: dflt, edits };
}

/** Identifiers node-sql-parser cannot read (escaped quotes inside, non-ASCII without brackets) → placeholders. */
export function placeholderEdits(tokens: readonly Token[], from: number, to: number, names: Map<string, string>): Edit[] {
  const edits: Edit[] = [];
  for (let i = from; i <= to; i++) {
    const t = tokens[i]!;
    const awkward = (t.kind === 'ident' && /[\]"]/.test(t.value)) || (t.kind === 'word' && /[^\x20-\x7e]/.test(t.value));
    if (!awkward) continue;
    const placeholder = `cdc_merge_name_${names.size}`;
    names.set(placeholder, t.value);
    edits.push({ start: t.start, end: t.end, text: `[${placeholder}]` });
  }
  return edits;
}

/** A statement as node-sql-parser gets it. */
export interface ParserView {
  /** The rewritten statement. */
  readonly sql: string;
  /** Maps an offset in `sql` to the offset in the script it came from (the start of an edit for offsets inside one). */
  readonly toSource: (offset: number) => number;
}

/**
 * The text node-sql-parser gets for `text[start, end)`, with `edits` applied, and a map from its
 * offsets back to offsets in `text`.
 */
export function parserView(text: string, start: number, end: number, edits: readonly Edit[]): ParserView {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  const pieces: string[] = [];
  const marks: { view: number; source: number; replaced: boolean }[] = [];
  let pos = start;
  let length = 0;
  const add = (piece: string, source: number, replaced: boolean) => {
    marks.push({ view: length, source, replaced });
    pieces.push(piece);
    length += piece.length;
  };
  for (const e of sorted) {
    if (e.start < pos) continue; // overlaps an earlier edit (sorted stably: the one listed first wins)
    add(text.slice(pos, e.start), pos, false);
    add(e.text, e.start, true);
    pos = e.end;
  }
  add(text.slice(pos, end), pos, false);
  const toSource = (offset: number) => {
    let m = marks[0]!;
    for (const k of marks) if (k.view <= offset) m = k;
    return m.replaced ? m.source : m.source + (offset - m.view);
  };
  return { sql: pieces.join(''), toSource };
}
