/**
 * bytea from PostgreSQL's text output with `bytea_output = hex` (the default since 9.0):
 * `\x` followed by two hex digits per byte. The `escape` format (`abc\000`) is refused.
 * @see https://www.postgresql.org/docs/current/datatype-binary.html#DATATYPE-BINARY-BYTEA-HEX-FORMAT
 */
import { problem } from './value-text-error.js';

/** Hex digit → value, -1 for any other character code below 128. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x61 + i] = 10 + i;
  HEX[0x41 + i] = 10 + i;
}

/** The value of the hex digit at `at`, or -1. */
function hexDigit(text: string, at: number): number {
  const c = text.charCodeAt(at);
  return c < 128 ? HEX[c]! : -1;
}

/**
 * The bytes of a bytea: `\x0001ff` → `Uint8Array [0, 1, 255]`, `\x` → an empty array.
 * @throws {TextProblem} without the `\x` prefix (bytea_output = escape), or with an odd number
 *   of digits or a character that is not a hex digit.
 */
export function readBytea(text: string): Uint8Array {
  if (text.charCodeAt(0) !== 0x5c || text.charCodeAt(1) !== 0x78) problem('expected \\x and hex digits (bytea_output = hex)');
  if (text.length % 2 !== 0) problem('odd number of hex digits');
  const bytes = new Uint8Array((text.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) {
    const hi = hexDigit(text, 2 + 2 * i);
    const lo = hexDigit(text, 3 + 2 * i);
    if (hi < 0 || lo < 0) problem(`not a hex digit at character ${hi < 0 ? 3 + 2 * i : 4 + 2 * i}`);
    bytes[i] = (hi << 4) | lo;
  }
  return bytes;
}
