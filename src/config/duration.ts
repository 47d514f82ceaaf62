/**
 * Durations in flags and config: `500ms`, `5s`, `2m`, `1h`, or a bare number of seconds.
 */
import { CdcError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration into milliseconds.
 * @throws {CdcError} CONFIG_INVALID naming `what` and the value when it is not a duration.
 */
export function parseDuration(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) {
    throw new CdcError('CONFIG_INVALID', `${what} ${JSON.stringify(text)} is not a duration`, { remedy: 'write it as 500ms, 5s, 2m or 1h (a bare number means seconds)' });
  }
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!);
}
