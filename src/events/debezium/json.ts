/**
 * A JSON reader that keeps numbers exactly as written.
 *
 * `JSON.parse` turns every number into an IEEE double, so an int64 such as
 * `9223372036854775807` (a bigint column, an LSN, `ts_ns`) or a decimal written with
 * `decimal.format=NUMERIC` would silently lose digits. Kafka Connect's JsonConverter writes
 * such values as plain JSON numbers, so the decoder needs their source text: a
 * {@link JsonNumber} holds it. Objects are `Map`s (key order kept; a repeated key keeps its
 * first position and its last value, as `JSON.parse` does).
 * @see https://www.rfc-editor.org/rfc/rfc8259 (the JSON grammar this reader accepts, strictly)
 */

/** A JSON number, kept as its source text (e.g. `-12.50e+3`); never rounded. */
export class JsonNumber {
  /** The number exactly as it appeared in the input. */
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** True when the literal has no fraction and no exponent (`-12`, `0`). */
  get isInteger(): boolean {
    return /^-?\d+$/.test(this.text);
  }
}

/** A JSON object: member names to values, in input order. */
export type JsonObject = ReadonlyMap<string, JsonValue>;

/** Any JSON value, with numbers as {@link JsonNumber} and objects as {@link JsonObject}. */
export type JsonValue = null | boolean | string | JsonNumber | readonly JsonValue[] | JsonObject;

/** The input is not JSON; `offset` is the 0-based index (UTF-16 units) where reading stopped. */
export class JsonSyntaxError extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} at character ${offset}`);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
  }
}

/**
 * Nesting deeper than this is refused rather than risking a stack overflow on hostile input.
 * Debezium events nest a handful of levels (envelope → schema → struct → field → array items).
 */
const MAX_DEPTH = 256;

/**
 * Parses one JSON text (RFC 8259, no extensions; surrounding whitespace allowed).
 * @throws {JsonSyntaxError} on anything that is not exactly one JSON value.
 */
export function parseJson(text: string): JsonValue {
  const reader = new Reader(text);
  reader.skipSpace();
  const value = reader.value(0);
  reader.skipSpace();
  if (reader.pos !== text.length) throw new JsonSyntaxError('unexpected text after the JSON value', reader.pos);
  return value;
}

/** True for a {@link JsonObject}. */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof Map;
}

/** True for a JSON array. */
export function isJsonArray(value: JsonValue | undefined): value is readonly JsonValue[] {
  return Array.isArray(value);
}

/** The JSON type of a value, for messages: `null`, `boolean`, `string`, `number`, `array`, `object`. */
export function jsonTypeName(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return 'number';
  if (value instanceof Map) return 'object';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Serializes a value back to compact JSON, numbers exactly as they were read. */
export function stringifyJson(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof JsonNumber) return value.text;
  if (isJsonArray(value)) return `[${value.map(stringifyJson).join(',')}]`;
  const parts: string[] = [];
  for (const [k, v] of value as JsonObject) parts.push(`${JSON.stringify(k)}:${stringifyJson(v)}`);
  return `{${parts.join(',')}}`;
}

/**
 * Converts to what `JSON.parse` would have returned (plain objects and arrays), except that an
 * integer beyond ±2^53 becomes a string of its digits instead of a rounded number. For parts of
 * an event passed through untouched (schema-change `tableChanges`).
 */
export function toPlainJson(value: JsonValue): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof JsonNumber) {
    const n = Number(value.text);
    return value.isInteger && !Number.isSafeInteger(n) ? value.text : n;
  }
  if (isJsonArray(value)) return value.map(toPlainJson);
  const out: Record<string, unknown> = {};
  for (const [k, v] of value as JsonObject) {
    Object.defineProperty(out, k, { value: toPlainJson(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const PLAIN_STRING_RUN = /[^"\\\u0000-\u001f]*/y;

const ESCAPE_CHARS: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Reader {
  pos = 0;

  constructor(private readonly text: string) {}

  skipSpace(): void {
    const t = this.text;
    let p = this.pos;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError(`nesting deeper than ${MAX_DEPTH} levels`, this.pos);
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case undefined:
        throw new JsonSyntaxError('unexpected end of input', this.pos);
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) throw new JsonSyntaxError('unexpected character', this.pos);
    this.pos += word.length;
    return value;
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) throw new JsonSyntaxError('unexpected character', this.pos);
    this.pos += m[0].length;
    return new JsonNumber(m[0]);
  }

  private string(): string {
    const t = this.text;
    let p = this.pos + 1; // past the opening quote
    let out = '';
    for (;;) {
      PLAIN_STRING_RUN.lastIndex = p;
      const run = PLAIN_STRING_RUN.exec(t)![0];
      out += run;
      p += run.length;
      const c = t[p];
      if (c === '"') {
        this.pos = p + 1;
        return out;
      }
      if (c === undefined) throw new JsonSyntaxError('unterminated string', p);
      if (c !== '\\') throw new JsonSyntaxError('control character in string', p);
      const e = t[p + 1];
      if (e === 'u') {
        const hex = t.slice(p + 2, p + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw new JsonSyntaxError('bad \\u escape', p);
        out += String.fromCharCode(parseInt(hex, 16));
        p += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPE_CHARS, e)) {
        out += ESCAPE_CHARS[e];
        p += 2;
      } else {
        throw new JsonSyntaxError('bad escape', p);
      }
    }
  }

  private array(depth: number): JsonValue[] {
    this.pos++; // [
    const items: JsonValue[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === ']') return items;
      if (c !== ',') throw new JsonSyntaxError("expected ',' or ']'", this.pos - 1);
    }
  }

  private object(depth: number): Map<string, JsonValue> {
    this.pos++; // {
    const members = new Map<string, JsonValue>();
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return members;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') throw new JsonSyntaxError('expected a member name', this.pos);
      const name = this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ':') throw new JsonSyntaxError("expected ':'", this.pos);
      this.pos++;
      this.skipSpace();
      members.set(name, this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === '}') return members;
      if (c !== ',') throw new JsonSyntaxError("expected ',' or '}'", this.pos - 1);
    }
  }
}
