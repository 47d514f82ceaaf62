/**
 * Arrays from PostgreSQL's text output (array_out): `{1,2,NULL}`, `{{1,2},{3,4}}`,
 * `{"a b","c\"d",NULL,"NULL",""}`, `[0:1]={7,8}`.
 * @see https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO
 */
import { problem, TextProblem } from './value-text-error.js';

/**
 * An array value: elements of type T, SQL NULL as `null`, and nested arrays for the further
 * dimensions of a multi-dimensional array (`{{1,2},{3,4}}` → `[[1, 2], [3, 4]]`).
 */
export type ArrayValue<T> = (T | null | ArrayValue<T>)[];

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/** Dimension decoration before `=`: `[1:3]`, `[0:1][1:2]`. */
const DIMENSIONS = /^(?:\[-?\d+:-?\d+\])+$/;

/** A backslash escape in an unquoted element. */
const ESCAPE = /\\(.)/gs;

/** True for the white space array_in skips around elements. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** A parse in progress. */
class ArrayReader<T> {
  at = 0;
  /** Index of each enclosing array's element being read, for messages. */
  readonly path: number[] = [];

  constructor(
    readonly text: string,
    readonly element: (text: string) => T,
  ) {}

  skipSpaces(): void {
    while (this.at < this.text.length && isSpace(this.text.charCodeAt(this.at))) this.at++;
  }

  /** The array that starts at `{` here. */
  array(): ArrayValue<T> {
    if (this.text.charCodeAt(this.at) !== OPEN) problem(`expected "{" at character ${this.at + 1}`);
    this.at++;
    const out: ArrayValue<T> = [];
    this.skipSpaces();
    if (this.text.charCodeAt(this.at) === CLOSE) {
      this.at++;
      return out;
    }
    for (;;) {
      this.path.push(out.length);
      this.skipSpaces();
      out.push(this.text.charCodeAt(this.at) === OPEN ? this.array() : this.scalar());
      this.path.pop();
      this.skipSpaces();
      const c = this.text.charCodeAt(this.at++);
      if (c === CLOSE) return out;
      if (c !== COMMA) problem(this.at > this.text.length ? 'unterminated array' : `expected "," or "}" at character ${this.at}`);
    }
  }

  /** One element: quoted, or unquoted up to `,` or `}`; unquoted `NULL` (any case) is null. */
  scalar(): T | null {
    const text = this.text;
    let raw: string;
    if (text.charCodeAt(this.at) === QUOTE) {
      raw = this.quoted();
    } else {
      const start = this.at;
      let escaped = false;
      let lastNonSpace = start;
      while (this.at < text.length) {
        const c = text.charCodeAt(this.at);
        if (c === COMMA || c === CLOSE) break;
        if (c === OPEN || c === QUOTE) problem(`unexpected ${String.fromCharCode(c)} in an unquoted element at character ${this.at + 1}`);
        if (c === BACKSLASH) {
          escaped = true;
          this.at += 2;
          lastNonSpace = this.at;
          continue;
        }
        this.at++;
        if (!isSpace(c)) lastNonSpace = this.at;
      }
      if (this.at >= text.length) problem('unterminated array');
      raw = text.slice(start, lastNonSpace);
      if (raw.length === 0) problem(`empty unquoted element at character ${start + 1}`);
      if (escaped) raw = raw.replace(ESCAPE, '$1');
      else if (raw.length === 4 && raw.toUpperCase() === 'NULL') return null;
    }
    try {
      return this.element(raw);
    } catch (error) {
      if (error instanceof TextProblem) problem(`element ${this.path.map((i) => `[${i}]`).join('')} ${JSON.stringify(raw)}: ${error.message}`);
      throw error;
    }
  }

  /** A double-quoted element, its backslash escapes resolved. */
  quoted(): string {
    const text = this.text;
    this.at++;
    let out = '';
    let chunk = this.at;
    while (this.at < text.length) {
      const c = text.charCodeAt(this.at);
      if (c === QUOTE) {
        out += text.slice(chunk, this.at);
        this.at++;
        return out;
      }
      if (c === BACKSLASH) {
        out += text.slice(chunk, this.at);
        chunk = this.at + 1;
        this.at += 2;
        continue;
      }
      this.at++;
    }
    return problem('unterminated quoted element');
  }
}

/**
 * An array literal as array_out prints it, each element read by `element` (which gets the
 * element's text, quotes and backslash escapes removed, and may throw a TextProblem). Unquoted
 * `NULL` is null; `"NULL"` is the text NULL. Multi-dimensional arrays become nested arrays. A
 * lower-bound decoration (`[0:1]={7,8}`) is checked and dropped: the value keeps the elements,
 * not their subscripts. White space around elements is skipped, as array_in does. Elements are
 * separated by commas (every built-in type but box, whose arrays are text in the type map).
 * @throws {TextProblem} naming the position or the element (`element [1][0] "x": …`).
 */
export function readArray<T>(text: string, element: (text: string) => T): ArrayValue<T> {
  const reader = new ArrayReader(text, element);
  if (text.charCodeAt(0) === 0x5b) {
    const eq = text.indexOf('=');
    if (eq < 0 || !DIMENSIONS.test(text.slice(0, eq))) problem('malformed dimension decoration (expected e.g. "[0:2]=" before "{")');
    reader.at = eq + 1;
  }
  reader.skipSpaces();
  const value = reader.array();
  reader.skipSpaces();
  if (reader.at !== text.length) problem(`unexpected text after the array at character ${reader.at + 1}`);
  return value;
}
