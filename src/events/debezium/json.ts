/**
 * A JSON reader that keeps numbers exactly as written.
 *
 * `JSON.parse` turns every number into an IEEE double, so an int64 such as
 * `9223372036854775807` (a bigint column, an LSN, `ts_ns`) or a decimal written with
 * `decimal.format=NUMERIC` would silently lose digits. Kafka Connect's JsonConverter writes
 * such values as plain JSON numbers, so the decoder needs their source text: a
 * {@link JsonNumber} holds it. Objects are read-only maps (key order kept; a repeated key keeps
 * its first position and its last value, as `JSON.parse` does).
 * @see https://www.rfc-editor.org/rfc/rfc8259 (the JSON grammar this reader accepts, strictly)
 */
import { TextDecoder } from 'node:util';
import { JsonMembers } from './json-members.js';
import type { JsonValueCache } from './json-value-cache.js';
import { JsonNumber, type JsonObject, type JsonValue } from './json-value.js';

export { JsonValueCache } from './json-value-cache.js';
export { JsonNumber, type JsonObject, type JsonValue } from './json-value.js';

/** The input is not JSON; `offset` is the 0-based index (UTF-16 units) where reading stopped. */
export class JsonSyntaxError extends Error {
  readonly offset: number;
  /** What is wrong, without the position (`unexpected character`). */
  readonly reason: string;

  constructor(reason: string, offset: number) {
    super(`${reason} at character ${offset}`);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
    this.reason = reason;
  }
}

/** Bytes given to {@link parseJsonBytes} are not UTF-8; `cause` is the decoder's error. */
export class JsonEncodingError extends Error {
  constructor(options: { cause: unknown }) {
    super('not UTF-8 text', options);
    this.name = 'JsonEncodingError';
  }
}

/**
 * Nesting deeper than this is refused rather than risking a stack overflow on hostile input.
 * Debezium events nest a handful of levels (envelope → schema → struct → field → array items).
 */
const MAX_DEPTH = 256;

/** Options for {@link parseJson}. */
export interface ParseJsonOptions {
  /**
   * Reuse the parsed value of the named member of the top-level object when it is an object
   * whose exact text was parsed before (the result is the same; only the work is saved).
   */
  readonly reuse?: { readonly member: string; readonly cache: JsonValueCache };
}

/**
 * Parses one JSON text (RFC 8259, no extensions; surrounding whitespace allowed).
 * @throws {JsonSyntaxError} on anything that is not exactly one JSON value.
 */
export function parseJson(text: string, options?: ParseJsonOptions): JsonValue {
  const reader = new Reader(text, options?.reuse);
  reader.skipSpace();
  const value = reader.value(0);
  reader.skipSpace();
  if (reader.pos !== text.length) throw new JsonSyntaxError('unexpected text after the JSON value', reader.pos);
  return value;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** For text after the start of the input: a byte-order mark there is a character, not a marker. */
const UTF8_INNER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * {@link parseJson} of UTF-8 bytes (a leading byte-order mark is dropped, as `TextDecoder` does).
 *
 * With `reuse`, when the bytes begin exactly `{"<member>":` followed by the bytes of a value
 * reused recently, those bytes are compared instead of decoded and read: the result is what
 * reading the whole text gives (that value is a complete object, so the reader would stop at its
 * end), for a fraction of the work on events whose schema is most of their size.
 * @throws {JsonEncodingError} when the bytes are not UTF-8.
 * @throws {JsonSyntaxError} on anything that is not exactly one JSON value (the offset counts
 *   UTF-16 units of the whole text).
 */
export function parseJsonBytes(bytes: Uint8Array, options?: ParseJsonOptions): JsonValue {
  const reuse = options?.reuse;
  const prefix = reuse === undefined ? 0 : memberPrefixLength(bytes, reuse.member);
  const known = prefix > 0 ? reuse!.cache.recentBytesAt(bytes, prefix) : undefined;
  if (known === undefined) return parseJson(decodeUtf8(UTF8, bytes), options);
  const rest = decodeUtf8(UTF8_INNER, bytes.subarray(prefix + known.bytes!.length));
  // Characters before `rest`: the ASCII prefix and the reused text.
  const before = prefix + known.text.length;
  const members = new JsonMembers();
  members.add(reuse!.member, known.value);
  const reader = new Reader(rest, reuse);
  try {
    reader.objectAfter(members, 0);
    reader.skipSpace();
    if (reader.pos !== rest.length) throw new JsonSyntaxError('unexpected text after the JSON value', reader.pos);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new JsonSyntaxError(error.reason, error.offset + before);
    throw error;
  }
  return members;
}

function decodeUtf8(decoder: TextDecoder, bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new JsonEncodingError({ cause });
  }
}

/** The length of `{"<member>":` when `bytes` begin with exactly that (no spaces); else 0. */
function memberPrefixLength(bytes: Uint8Array, member: string): number {
  const length = member.length + 4;
  if (bytes.length <= length || bytes[0] !== 0x7b || bytes[1] !== QUOTE || bytes[length - 2] !== QUOTE || bytes[length - 1] !== 0x3a) return 0;
  for (let i = 0; i < member.length; i++) {
    const c = member.charCodeAt(i);
    // Only ASCII names: their bytes are their characters.
    if (c >= 0x80 || bytes[2 + i] !== c) return 0;
  }
  return length;
}

/** True for a {@link JsonObject}. */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof JsonMembers;
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
  if (value instanceof JsonMembers) return 'object';
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
  for (const [k, v] of value) parts.push(`${JSON.stringify(k)}:${stringifyJson(v)}`);
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
  for (const [k, v] of value) {
    Object.defineProperty(out, k, { value: toPlainJson(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const ESCAPE_CHARS: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * The end (exclusive) of the object or array starting at `p`, found by matching brackets outside
 * strings without validating anything; -1 when the text ends first. Only a hint: a span it finds
 * is trusted only when it equals a text the exact reader has parsed before.
 */
function compositeEnd(t: string, p: number): number {
  const n = t.length;
  let depth = 0;
  while (p < n) {
    const c = t.charCodeAt(p++);
    if (c === QUOTE) {
      while (p < n) {
        const d = t.charCodeAt(p++);
        if (d === BACKSLASH) p++;
        else if (d === QUOTE) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) return p;
    }
  }
  return -1;
}

class Reader {
  pos = 0;

  constructor(
    private readonly text: string,
    private readonly reuse?: { readonly member: string; readonly cache: JsonValueCache },
  ) {}

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
    switch (this.text.charCodeAt(this.pos)) {
      case 0x7b: // {
        return this.object(depth);
      case 0x5b: // [
        return this.array(depth);
      case QUOTE:
        return this.string();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (this.pos >= this.text.length) throw new JsonSyntaxError('unexpected end of input', this.pos);
        return this.number();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) throw new JsonSyntaxError('unexpected character', this.pos);
    this.pos += word.length;
    return value;
  }

  /** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, each optional part taken only when complete. */
  private number(): JsonNumber {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++; // -
    const first = t.charCodeAt(p);
    if (first === 0x30) {
      p++;
    } else if (first >= 0x31 && first <= 0x39) {
      p++;
      while (isDigit(t.charCodeAt(p))) p++;
    } else {
      throw new JsonSyntaxError('unexpected character', start);
    }
    if (t.charCodeAt(p) === 0x2e && isDigit(t.charCodeAt(p + 1))) {
      p += 2;
      while (isDigit(t.charCodeAt(p))) p++;
    }
    const e = t.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      let q = p + 1;
      const sign = t.charCodeAt(q);
      if (sign === 0x2b || sign === 0x2d) q++;
      if (isDigit(t.charCodeAt(q))) {
        q++;
        while (isDigit(t.charCodeAt(q))) q++;
        p = q;
      }
    }
    this.pos = p;
    return new JsonNumber(t.slice(start, p));
  }

  private string(): string {
    const t = this.text;
    const start = this.pos + 1; // past the opening quote
    let p = start;
    // The common case: no escapes, so the value is a slice of the input.
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return t.slice(start, p);
      }
      if (c === BACKSLASH || c < 0x20 || p >= t.length) break;
      p++;
    }
    return this.escapedString(start, p);
  }

  /** The rest of a string from `p`, where an escape, a control character or the end was met. */
  private escapedString(start: number, p: number): string {
    const t = this.text;
    let out = t.slice(start, p);
    let runStart = p;
    for (;;) {
      if (p >= t.length) throw new JsonSyntaxError('unterminated string', p);
      const c = t.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return out + t.slice(runStart, p);
      }
      if (c === BACKSLASH) {
        out += t.slice(runStart, p);
        const e = t[p + 1];
        if (e === 'u') {
          if (!(isHexDigit(t.charCodeAt(p + 2)) && isHexDigit(t.charCodeAt(p + 3)) && isHexDigit(t.charCodeAt(p + 4)) && isHexDigit(t.charCodeAt(p + 5)))) {
            throw new JsonSyntaxError('bad \\u escape', p);
          }
          out += String.fromCharCode(parseInt(t.slice(p + 2, p + 6), 16));
          p += 6;
        } else if (e !== undefined && Object.hasOwn(ESCAPE_CHARS, e)) {
          out += ESCAPE_CHARS[e];
          p += 2;
        } else {
          throw new JsonSyntaxError('bad escape', p);
        }
        runStart = p;
      } else if (c < 0x20) {
        throw new JsonSyntaxError('control character in string', p);
      } else {
        p++;
      }
    }
  }

  private array(depth: number): JsonValue[] {
    const t = this.text;
    this.pos++; // [
    const items: JsonValue[] = [];
    this.skipSpace();
    if (t.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return items;
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value(depth + 1));
      this.skipSpace();
      const c = t.charCodeAt(this.pos++);
      if (c === 0x5d) return items;
      if (c !== 0x2c) throw new JsonSyntaxError("expected ',' or ']'", this.pos - 1);
    }
  }

  private object(depth: number): JsonMembers {
    this.pos++; // {
    const members = new JsonMembers();
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return members;
    }
    this.memberList(members, depth);
    return members;
  }

  /**
   * The rest of an object whose first members are in `members` already: from the `,` or `}`
   * after them (whitespace allowed before it) up to and including the closing brace.
   */
  objectAfter(members: JsonMembers, depth: number): void {
    this.skipSpace();
    const c = this.text.charCodeAt(this.pos++);
    if (c === 0x7d) return;
    if (c !== 0x2c) throw new JsonSyntaxError("expected ',' or '}'", this.pos - 1);
    this.memberList(members, depth);
  }

  /** Members from the first name (after `{` or `,`) up to and including the closing brace. */
  private memberList(members: JsonMembers, depth: number): void {
    const t = this.text;
    const reuse = depth === 0 ? this.reuse : undefined;
    // Compact JSON has no whitespace: look before calling skipSpace (a space is 0x20, the
    // other whitespace characters are below it).
    for (;;) {
      if (t.charCodeAt(this.pos) <= 0x20) this.skipSpace();
      if (t.charCodeAt(this.pos) !== QUOTE) throw new JsonSyntaxError('expected a member name', this.pos);
      const name = this.string();
      if (t.charCodeAt(this.pos) <= 0x20) this.skipSpace();
      if (t.charCodeAt(this.pos) !== 0x3a) throw new JsonSyntaxError("expected ':'", this.pos);
      this.pos++;
      if (t.charCodeAt(this.pos) <= 0x20) this.skipSpace();
      members.add(name, reuse !== undefined && name === reuse.member ? this.reusedValue(depth + 1, reuse.cache) : this.value(depth + 1));
      if (t.charCodeAt(this.pos) <= 0x20) this.skipSpace();
      const c = t.charCodeAt(this.pos++);
      if (c === 0x7d) return;
      if (c !== 0x2c) throw new JsonSyntaxError("expected ',' or '}'", this.pos - 1);
    }
  }

  /**
   * {@link value}, taken from the cache when the value is an object whose exact text was parsed
   * before: the exact reader would read the same text the same way, and stop at its end.
   */
  private reusedValue(depth: number, cache: JsonValueCache): JsonValue {
    const t = this.text;
    const start = this.pos;
    if (t.charCodeAt(start) !== 0x7b) return this.value(depth);
    const recent = cache.recentAt(t, start);
    if (recent !== undefined) {
      this.pos = start + recent.text.length;
      return recent.value;
    }
    const end = compositeEnd(t, start);
    if (end > 0) {
      const text = t.slice(start, end);
      const cached = cache.get(text);
      if (cached !== undefined) {
        cache.remember(text, cached);
        this.pos = end;
        return cached;
      }
    }
    const value = this.value(depth);
    cache.set(t.slice(start, this.pos), value);
    return value;
  }
}
