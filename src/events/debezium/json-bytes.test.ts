import { describe, expect, it } from 'vitest';
import { isJsonObject, JsonEncodingError, JsonNumber, JsonSyntaxError, JsonValueCache, parseJson, parseJsonBytes, stringifyJson, type JsonObject } from './json.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const reuse = () => ({ reuse: { member: 'schema', cache: new JsonValueCache(16) } });

/** The outcome of a parse as text: the value written back, or the error. */
function outcome(parse: () => unknown): string {
  try {
    return stringifyJson(parse() as Parameters<typeof stringifyJson>[0]);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return `syntax: ${error.message}`;
    if (error instanceof JsonEncodingError) return 'encoding';
    throw error;
  }
}

describe('parseJsonBytes', () => {
  const schema = '{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"name":"é"}';

  it('reads a repeated schema from its bytes and gives what reading the whole text gives', () => {
    const options = reuse();
    const texts = [
      `{"schema":${schema},"payload":{"id":1}}`,
      `{"schema":${schema},"payload":{"id":9223372036854775807},"extra":[1,2.50]}`,
      `{"schema":${schema}}`,
      `{"schema":${schema} , "payload" : null }  `,
      // A repeated member keeps its first place and takes the last value, as in parseJson.
      `{"schema":${schema},"payload":1,"schema":{"other":true}}`,
    ];
    parseJsonBytes(utf8(texts[0]!), options);
    for (const text of texts) {
      const fromBytes = parseJsonBytes(utf8(text), options);
      expect(stringifyJson(fromBytes)).toBe(stringifyJson(parseJson(text)));
    }
    // The second time the schema object itself is shared (read once).
    const a = parseJsonBytes(utf8(texts[0]!), options) as JsonObject;
    const b = parseJsonBytes(utf8(texts[1]!), options) as JsonObject;
    expect(a.get('schema')).toBe(b.get('schema'));
    expect(((b.get('payload') as JsonObject).get('id') as JsonNumber).text).toBe('9223372036854775807');
  });

  it('refuses what parseJson refuses, at the same character, after a schema read from its bytes', () => {
    const options = reuse();
    parseJsonBytes(utf8(`{"schema":${schema},"payload":{}}`), options);
    const bad = [
      `{"schema":${schema},"payload":{"id":01}}`,
      `{"schema":${schema},"payload":{"id":1}`,
      `{"schema":${schema}}x`,
      `{"schema":${schema}"payload":1}`,
      `{"schema":${schema},}`,
      `{"schema":${schema}\uFEFF,"payload":1}`,
    ];
    for (const text of bad) {
      const expected = outcome(() => parseJson(text));
      expect(expected, text).toMatch(/^syntax: /);
      expect(outcome(() => parseJsonBytes(utf8(text), options)), text).toBe(expected);
    }
  });

  it('drops a leading byte-order mark as TextDecoder does, and refuses bytes that are not UTF-8', () => {
    const options = reuse();
    expect(outcome(() => parseJsonBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('{"a":1}')]), options))).toBe('{"a":1}');
    const cached = utf8(`{"schema":${schema},"payload":1}`);
    parseJsonBytes(cached, options);
    // Invalid UTF-8 after a schema read from its bytes, and in one never seen.
    const broken = new Uint8Array([...utf8(`{"schema":${schema},"payload":"`), 0xff, ...utf8('"}')]);
    expect(() => parseJsonBytes(broken, options)).toThrow(JsonEncodingError);
    const unseen = new Uint8Array([...utf8('{"schema":{"a":"'), 0xc3, ...utf8('"}}')]);
    expect(() => parseJsonBytes(unseen, options)).toThrow(JsonEncodingError);
  });

  it('never takes bytes for a text they do not spell: a lone surrogate read from a string', () => {
    const options = reuse();
    const lone = '{"schema":{"name":"\uD800"},"payload":1}';
    parseJson(lone, options);
    // The same text as UTF-8 would carry U+FFFD in place of the lone surrogate.
    const replaced = utf8('{"schema":{"name":"\uFFFD"},"payload":1}');
    const value = parseJsonBytes(replaced, options) as JsonObject;
    expect(((value.get('schema') as JsonObject).get('name') as string).charCodeAt(0)).toBe(0xfffd);
  });

  it('takes a schema that merely starts like a known one for what it is', () => {
    const options = reuse();
    parseJsonBytes(utf8('{"schema":{"a":1},"payload":1}'), options);
    expect(outcome(() => parseJsonBytes(utf8('{"schema":{"a":1}5,"payload":1}'), options))).toMatch(/^syntax: /);
    expect(outcome(() => parseJsonBytes(utf8('{"schema":{"a":12},"payload":1}'), options))).toBe('{"schema":{"a":12},"payload":1}');
  });
});

describe('JSON objects', () => {
  it('keep input order, a repeated name in its first place with its last value, also past the indexed size', () => {
    const names = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const text = `{${names.map((n, i) => `"${n}":${i}`).join(',')},"k3":"again","k39":null}`;
    const v = parseJson(text) as JsonObject;
    expect(isJsonObject(v)).toBe(true);
    expect(v.size).toBe(40);
    expect([...v.keys()]).toEqual(names);
    expect(v.get('k3')).toBe('again');
    expect(v.get('k39')).toBeNull();
    expect(v.has('k40')).toBe(false);
    expect(v.get('k40')).toBeUndefined();
    expect((v.get('k20') as JsonNumber).text).toBe('20');
    const seen: string[] = [];
    v.forEach((_, k) => seen.push(k));
    expect(seen).toEqual(names);
    expect([...v.entries()].map(([k]) => k)).toEqual(names);
    expect([...v.values()]).toHaveLength(40);
    expect(Object.prototype.toString.call(v)).toBe('[object JsonObject]');
  });
});

describe('JsonNumber.safeInteger', () => {
  it('is Number(text) for integers of up to 15 digits, and undefined otherwise', () => {
    const of = (text: string) => new JsonNumber(text).safeInteger;
    expect(of('0')).toBe(0);
    expect(of('-0')).toBe(-0);
    expect(of('-17')).toBe(-17);
    expect(of('999999999999999')).toBe(999999999999999);
    expect(of('-999999999999999')).toBe(-999999999999999);
    expect(of('1000000000000000')).toBeUndefined();
    expect(of('1.5')).toBeUndefined();
    expect(of('1e3')).toBeUndefined();
    expect(of('-')).toBeUndefined();
  });
});
