/**
 * UUIDs from PostgreSQL's text output (uuid_out): 32 lower-case hex digits in groups of
 * 8-4-4-4-12.
 * @see https://www.postgresql.org/docs/current/datatype-uuid.html
 */
import { problem } from './value-text-error.js';

/** True for 0-9, a-f and A-F. */
function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/**
 * A UUID in its canonical form, lower case: `A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11` →
 * `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11` (PostgreSQL already prints it so; other sources may
 * not).
 * @throws {TextProblem} for anything but 8-4-4-4-12 hex digits.
 */
export function readUuid(text: string): string {
  if (text.length !== 36) problem('expected 32 hex digits as 8-4-4-4-12');
  let lower = true;
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) problem('expected 32 hex digits as 8-4-4-4-12');
    } else if (!isHex(c)) {
      problem('expected 32 hex digits as 8-4-4-4-12');
    } else if (c >= 0x41 && c <= 0x46) {
      lower = false;
    }
  }
  return lower ? text : text.toLowerCase();
}
