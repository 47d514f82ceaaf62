import { describe, expect, it } from 'vitest';
import { isJsonArray, isJsonObject, JsonNumber, JsonSyntaxError, parseJson, stringifyJson, toPlainJson, type JsonObject } from './json.js';

describe('lossless JSON reader', () => {
  it('keeps number literals exactly, beyond what a double holds', () => {
    const v = parseJson('{"big":9223372036854775807,"dec":123456789876543212345678987654321.11,"exp":-1.5E-3,"zero":-0}') as JsonObject;
    expect((v.get('big') as JsonNumber).text).toBe('9223372036854775807');
    expect((v.get('dec') as JsonNumber).text).toBe('123456789876543212345678987654321.11');
    expect((v.get('exp') as JsonNumber).text).toBe('-1.5E-3');
    expect((v.get('big') as JsonNumber).isInteger).toBe(true);
    expect((v.get('exp') as JsonNumber).isInteger).toBe(false);
  });

  it('reads objects as ordered maps; a repeated key keeps its first place and last value (as JSON.parse)', () => {
    const v = parseJson('{"a":1,"b":2,"a":3}') as JsonObject;
    expect([...v.keys()]).toEqual(['a', 'b']);
    expect((v.get('a') as JsonNumber).text).toBe('3');
    expect(isJsonObject(v)).toBe(true);
    expect(isJsonArray(parseJson('[]'))).toBe(true);
  });

  it('decodes escapes, including surrogate pairs, and keeps literals', () => {
    expect(parseJson('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude80"')).toBe('a"b\\c/d\b\f\n\r\té🚀');
    expect(parseJson(' [true, false, null] ')).toEqual([true, false, null]);
    expect(parseJson('"__proto__"')).toBe('__proto__');
  });

  it('rejects what is not JSON, saying where', () => {
    const bad = ['', '{', '{"a"}', '[1,]', '01', '1.', '.5', '+1', 'NaN', "'x'", '"a\nb"', '"\\x"', '{"a":1}x', '"\\u12"', 'tru'];
    for (const text of bad) expect(() => parseJson(text), text).toThrow(JsonSyntaxError);
    try {
      parseJson('[1, 2 3]');
    } catch (error) {
      expect((error as JsonSyntaxError).offset).toBe(6);
    }
  });

  it('refuses nesting deeper than 256 levels instead of overflowing the stack', () => {
    expect(() => parseJson('['.repeat(100_000))).toThrow(/nesting deeper/);
    expect(() => parseJson(`${'['.repeat(200)}${']'.repeat(200)}`)).not.toThrow();
  });

  it('writes JSON back with numbers as read, and converts to plain values with big integers as strings', () => {
    const text = '{"a":[1,2.50,{"b":null}],"c":"x\\"y","d":12345678901234567890}';
    expect(stringifyJson(parseJson(text))).toBe(text);
    expect(toPlainJson(parseJson(text))).toEqual({ a: [1, 2.5, { b: null }], c: 'x"y', d: '12345678901234567890' });
    const plain = toPlainJson(parseJson('{"__proto__":{"polluted":1}}')) as Record<string, unknown>;
    expect(Object.keys(plain)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
