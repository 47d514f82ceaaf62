import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decimalLiteralText, scaledDecimalText, unscaledFromBytes } from './decimal.js';

const bytes = (...b: number[]) => new Uint8Array(b);
const b64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

describe('unscaled two\'s-complement bytes', () => {
  it('reads big-endian two\'s complement like Java\'s BigInteger(byte[])', () => {
    expect(unscaledFromBytes(bytes(0x00))).toBe(0n);
    expect(unscaledFromBytes(bytes(0x7f))).toBe(127n);
    expect(unscaledFromBytes(bytes(0x80))).toBe(-128n);
    expect(unscaledFromBytes(bytes(0xff))).toBe(-1n);
    expect(unscaledFromBytes(bytes(0x00, 0xff))).toBe(255n);
    expect(unscaledFromBytes(bytes(0xff, 0x01))).toBe(-255n);
    expect(unscaledFromBytes(bytes(0x30, 0x39))).toBe(12345n);
    expect(unscaledFromBytes(bytes(0xcf, 0xc7))).toBe(-12345n);
    // 2^127 - 1 and -2^127: wider than any double
    expect(unscaledFromBytes(bytes(0x7f, ...Array<number>(15).fill(0xff)))).toBe(2n ** 127n - 1n);
    expect(unscaledFromBytes(bytes(0x80, ...Array<number>(15).fill(0)))).toBe(-(2n ** 127n));
    expect(() => unscaledFromBytes(bytes())).toThrow(RangeError);
  });

  it('decodes the base64 Debezium writes for numeric values', () => {
    // "AeJA" = 0x01e240 = 123456
    expect(scaledDecimalText(unscaledFromBytes(b64('AeJA')), 2)).toBe('1234.56');
    // "/h2/" = 0xfe1dbf = -123457
    expect(scaledDecimalText(unscaledFromBytes(b64('/h2/')), 3)).toBe('-123.457');
  });
});

describe('scaled decimal text', () => {
  it('keeps exactly `scale` fraction digits, as PostgreSQL prints numeric(p,s)', () => {
    expect(scaledDecimalText(12345n, 2)).toBe('123.45');
    expect(scaledDecimalText(-12345n, 2)).toBe('-123.45');
    expect(scaledDecimalText(5n, 3)).toBe('0.005');
    expect(scaledDecimalText(-5n, 3)).toBe('-0.005');
    expect(scaledDecimalText(0n, 2)).toBe('0.00');
    expect(scaledDecimalText(1100n, 3)).toBe('1.100');
    expect(scaledDecimalText(7n, 0)).toBe('7');
  });

  it('handles large scales and large values without rounding', () => {
    expect(scaledDecimalText(1n, 38)).toBe('0.00000000000000000000000000000000000001');
    expect(scaledDecimalText(-(10n ** 40n) - 1n, 20)).toBe('-100000000000000000000.00000000000000000001');
    expect(scaledDecimalText(99999999999999999999999999999999999999n, 10)).toBe('9999999999999999999999999999.9999999999');
  });

  it('appends zeros for a negative scale (Oracle NUMBER(p,-s))', () => {
    expect(scaledDecimalText(12n, -2)).toBe('1200');
    expect(scaledDecimalText(-12n, -3)).toBe('-12000');
    expect(scaledDecimalText(0n, -2)).toBe('0');
  });
});

describe('decimal literals (decimal.format=NUMERIC, decimal.handling.mode=string)', () => {
  it('expands exponents exactly', () => {
    expect(decimalLiteralText('1.25e+3')).toBe('1250');
    expect(decimalLiteralText('-5E-3')).toBe('-0.005');
    expect(decimalLiteralText('1.2345678987654322e+32')).toBe('123456789876543220000000000000000');
    expect(decimalLiteralText('1.5E-3')).toBe('0.0015');
    expect(decimalLiteralText('123')).toBe('123');
  });

  it('pads to the scale but never rounds or drops digits', () => {
    expect(decimalLiteralText('12345.11', 3)).toBe('12345.110');
    expect(decimalLiteralText('1', 2)).toBe('1.00');
    expect(decimalLiteralText('0.123456', 2)).toBe('0.123456');
    expect(decimalLiteralText('007.50')).toBe('7.50');
  });

  it('writes negative zero as zero and rejects what is not a number', () => {
    expect(decimalLiteralText('-0')).toBe('0');
    expect(decimalLiteralText('-0.00')).toBe('0.00');
    for (const bad of ['', '1,5', 'abc', '1e', '--1', '1e99999']) expect(() => decimalLiteralText(bad), bad).toThrow(RangeError);
  });
});
