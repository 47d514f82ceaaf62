/**
 * The error of the typed-value decoder: a text that is not a value of its logical type as
 * PostgreSQL prints it.
 */
import { CdcError } from '../../errors.js';
import { formatLogicalType, type LogicalType } from '../../schema/logical-type.js';

/** How much of a long value a message quotes. */
const QUOTED_CHARS = 120;

/** `"…"`: the text as a JSON string, cut after {@link QUOTED_CHARS} characters. */
function quote(text: string): string {
  return text.length <= QUOTED_CHARS ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, QUOTED_CHARS))}… (${text.length} characters)`;
}

/**
 * A text that cannot be read as a value of its logical type. Code `VALUE_TEXT_INVALID`; the
 * message names the logical type, the value (cut after 120 characters) and the problem:
 * `cannot read "31/01/2020" as date: expected YYYY-MM-DD (DateStyle ISO)`. Rendered and recorded
 * messages lose the value (`redactText`: `cannot read "…" as date: …`); `value` keeps it for the
 * caller. `context` holds `logicalType` (text form) only.
 *
 * Either the session printed values in a style the decoder does not read (see
 * {@link decodeTextValue} for the required settings), or the column's logical type is wrong
 * for its values.
 */
export class ValueTextError extends CdcError {
  /** The logical type, in text form (`decimal(10,2)`, `array<int32>`). */
  readonly logicalType: string;
  /** The whole text that was read. */
  readonly value: string;

  constructor(type: LogicalType, value: string, problem: string, options: { cause?: unknown } = {}) {
    const logicalType = formatLogicalType(type);
    super('VALUE_TEXT_INVALID', `cannot read ${quote(value)} as ${logicalType}: ${problem}`, {
      ...options,
      remedy:
        "read values in PostgreSQL's default output styles (DateStyle ISO, IntervalStyle postgres or iso_8601, bytea_output hex, extra_float_digits >= 1), or fix the column's logical type in type-maps/",
      // Not the value: context is recorded (error_log), and no row value may be.
      context: { logicalType },
    });
    this.name = 'ValueTextError';
    this.logicalType = logicalType;
    this.value = value;
  }
}

/**
 * What the per-type parsers throw: only the problem. {@link decodeTextValue} adds the type and
 * the value; it never leaves this folder.
 */
export class TextProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextProblem';
  }
}

/** Throws a {@link TextProblem}. */
export function problem(message: string): never {
  throw new TextProblem(message);
}
