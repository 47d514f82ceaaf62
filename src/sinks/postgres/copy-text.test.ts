import { describe, expect, it } from 'vitest';
import { copyField, textArrayLiteral } from './copy-text.js';

describe('COPY text encoding', () => {
  it('escapes the characters COPY treats specially and nothing else', () => {
    expect(copyField('plain')).toBe('plain');
    expect(copyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField('\\N')).toBe('\\\\N'); // the text "\N" is not NULL
    expect(copyField('')).toBe('');
    expect(copyField(null)).toBe('\\N');
    expect(copyField('ünïcødé 🚀')).toBe('ünïcødé 🚀');
  });

  it('builds text[] literals with quotes and backslashes escaped', () => {
    expect(textArrayLiteral([])).toBeNull();
    expect(textArrayLiteral(['a', 'B c', 'q"x', 'b\\s'])).toBe('{"a","B c","q\\"x","b\\\\s"}');
  });
});
