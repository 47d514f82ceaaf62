/**
 * Exact decimals: Kafka Connect's `Decimal` (unscaled two's-complement bytes and a scale) and
 * JSON number literals, rendered as PostgreSQL numeric text. No floating point anywhere.
 * @see https://kafka.apache.org/documentation/#connect (org.apache.kafka.connect.data.Decimal)
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-decimal-types
 */

/**
 * The signed integer held by big-endian two's-complement bytes (Java's `BigInteger(byte[])`,
 * which is how Connect's `Decimal` stores its unscaled value).
 * @throws {RangeError} on an empty array (Java rejects it too).
 */
export function unscaledFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) throw new RangeError('no bytes: an unscaled decimal needs at least one byte');
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  const unsigned = BigInt(`0x${hex}`);
  return bytes[0]! & 0x80 ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}

/**
 * `unscaled × 10^-scale` as PostgreSQL numeric text, with exactly `scale` fraction digits (as
 * PostgreSQL prints a `numeric(p,s)` value): `(-12345n, 2)` → `-123.45`, `(5n, 3)` → `0.005`,
 * `(7n, 0)` → `7`. A negative scale (Oracle `NUMBER(p,-s)`) appends zeros: `(12n, -2)` → `1200`.
 */
export function scaledDecimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale <= 0) {
    if (digits !== '0') digits += '0'.repeat(-scale);
  } else {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

const LITERAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A decimal number literal (JSON's grammar, or a plain `123.45` string) as positional text without
 * an exponent, its value unchanged: `1.25e+3` → `1250`, `-5E-3` → `-0.005`, `007.50` → `7.50`.
 * When `minScale` is given the fraction is padded with zeros to at least that many digits (never
 * rounded), so `12345.11` with scale 3 reads `12345.110`, as PostgreSQL would print it.
 * @throws {RangeError} when the text is not a decimal literal, or its exponent is beyond ±10000
 * (PostgreSQL's numeric has at most 131072 digits before and 16383 after the point; a larger
 * exponent in an event is corruption, not data).
 */
export function decimalLiteralText(literal: string, minScale = 0): string {
  const m = LITERAL.exec(literal);
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(literal)}`);
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 10000) throw new RangeError(`exponent out of range in ${literal}`);
  const intPart = m[2]!;
  const fracPart = m[3] ?? '';
  // All digits, and where the point falls within them.
  const digits = intPart + fracPart;
  const point = intPart.length + exponent;
  let whole: string;
  let fraction: string;
  if (point <= 0) {
    whole = '0';
    fraction = '0'.repeat(-point) + digits;
  } else if (point >= digits.length) {
    whole = digits + '0'.repeat(point - digits.length);
    fraction = '';
  } else {
    whole = digits.slice(0, point);
    fraction = digits.slice(point);
  }
  whole = whole.replace(/^0+(?=\d)/, '');
  if (fraction.length < minScale) fraction = fraction.padEnd(minScale, '0');
  const body = fraction === '' ? whole : `${whole}.${fraction}`;
  const isZero = /^[0.]*$/.test(body);
  return m[1] === '-' && !isZero ? `-${body}` : body;
}
