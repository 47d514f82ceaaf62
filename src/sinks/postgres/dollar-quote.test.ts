import { describe, expect, it } from 'vitest';
import { dollarQuote } from './dollar-quote.js';

describe('dollarQuote', () => {
  it('uses the tag when the body does not contain it', () => {
    expect(dollarQuote("SELECT 'a'", 'cdc')).toBe("$cdc$SELECT 'a'$cdc$");
  });

  it('picks another tag when the body contains it, also across the body end', () => {
    expect(dollarQuote('x $cdc$ y')).toBe('$cdc_1$x $cdc$ y$cdc_1$');
    expect(dollarQuote('x $cdc$ $cdc_1$')).toBe('$cdc_2$x $cdc$ $cdc_1$$cdc_2$');
    expect(dollarQuote('ends with $cdc')).toBe('$cdc_1$ends with $cdc$cdc_1$');
  });

  it('refuses a tag that is not a plain word', () => {
    expect(() => dollarQuote('x', 'a$b')).toThrow(/invalid dollar-quote tag/);
  });
});
