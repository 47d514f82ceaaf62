import { describe, expect, it } from 'vitest';
import { matchesPattern, parseTablePattern, parseTablePatterns, TablePatternError } from './table-pattern.js';

const t = (schema: string, name: string) => ({ schema, name });

describe('table patterns', () => {
  it('matches wildcards in both parts', () => {
    const p = parseTablePattern('public.inv*');
    expect(matchesPattern(p, t('public', 'invoice'))).toBe(true);
    expect(matchesPattern(p, t('public', 'track'))).toBe(false);
    expect(matchesPattern(p, t('other', 'invoice'))).toBe(false);
    expect(matchesPattern(parseTablePattern('*.*'), t('x', 'y'))).toBe(true);
  });

  it('reads double-quoted names literally, dots and stars included', () => {
    const p = parseTablePattern('"Odd Schema".*');
    expect(matchesPattern(p, t('Odd Schema', 'Invoice Line'))).toBe(true);
    expect(matchesPattern(parseTablePattern('"a.b"."c*"'), t('a.b', 'c*'))).toBe(true);
    expect(matchesPattern(parseTablePattern('"a.b"."c*"'), t('a.b', 'cd'))).toBe(false);
    expect(matchesPattern(parseTablePattern('"say ""hi"""'), t('s', 'say "hi"'))).toBe(true);
  });

  it('is case-sensitive and treats regex characters literally', () => {
    expect(matchesPattern(parseTablePattern('public.Invoice'), t('public', 'invoice'))).toBe(false);
    expect(matchesPattern(parseTablePattern('public.a+b'), t('public', 'aab'))).toBe(false);
  });

  it('splits lists on commas outside quotes', () => {
    const ps = parseTablePatterns('public.a, "x,y".b');
    expect(ps.map((p) => p.text)).toEqual(['public.a', '"x,y".b']);
  });

  it('rejects malformed patterns with a message', () => {
    expect(() => parseTablePattern('a.b.c')).toThrow(TablePatternError);
    expect(() => parseTablePattern('"open.b')).toThrow(/unclosed/);
    expect(() => parseTablePattern('a.')).toThrow(TablePatternError);
  });
});
