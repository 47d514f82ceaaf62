/**
 * Logical types: what a column's values are, independent of how any database spells the type.
 * Every column gets one from the type-map data files (`type-maps/*.yaml`, field `logical`); sinks
 * that store typed values (Parquet for Delta Lake and Iceberg) choose their physical type from
 * it and never parse a database type name themselves (DESIGN.md §2, "Values").
 *
 * The text form is the one the data files use: `int32`, `decimal(10,2)`, `decimal`,
 * `timestamptz`, `array<int32>`, `array<decimal(5,2)>`.
 * @see https://www.postgresql.org/docs/current/datatype.html
 * @see https://github.com/apache/parquet-format/blob/master/LogicalTypes.md
 */
import { CdcError } from '../errors.js';

/**
 * The logical types without parameters.
 *
 * - `int16`, `int32`, `int64`: signed two's-complement integers of that width.
 * - `float32`, `float64`: IEEE 754 binary32 / binary64, NaN and ±Infinity included.
 * - `bool`: true or false.
 * - `text`: a Unicode string. Also the fallback for a type without a faithful logical type
 *   (inet, money, ranges, …): the value is then the type's PostgreSQL text form.
 * - `bytes`: a byte string.
 * - `date`: a calendar date (proleptic Gregorian), as days since 1970-01-01.
 * - `time`: a time of day without time zone, in microseconds since midnight (0 to 24:00:00).
 * - `timestamp`: a date and time without time zone, in microseconds since 1970-01-01 00:00
 *   (the wall-clock reading counted as if it were UTC).
 * - `timestamptz`: an instant, in microseconds since 1970-01-01 00:00 UTC. The offset a value
 *   was written with is not part of it (PostgreSQL does not store it either).
 * - `uuid`: a 128-bit UUID.
 * - `json`: a JSON document (its text).
 * - `interval`: PostgreSQL's interval: months, days and microseconds, kept apart because a
 *   month is not a fixed number of days, nor a day a fixed number of microseconds (DST).
 * @see https://www.postgresql.org/docs/current/datatype-datetime.html
 */
export type SimpleLogicalKind =
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'bool'
  | 'text'
  | 'bytes'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'uuid'
  | 'json'
  | 'interval';

/** A logical type without parameters: `{ kind: 'int32' }`. */
export interface SimpleLogicalType {
  readonly kind: SimpleLogicalKind;
}

/**
 * An exact decimal number: `decimal(p,s)` has at most `precision` significant digits, `scale`
 * of them after the point (PostgreSQL `numeric(p,s)`: 1 <= p <= 1000, -1000 <= s <= 1000).
 * Bare `decimal` (PostgreSQL `numeric` without a type modifier) has neither: any number of
 * digits, and each value its own scale. Precision and scale are both present or both absent.
 * @see https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-NUMERIC-DECIMAL
 */
export type DecimalLogicalType =
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'decimal'; readonly precision?: undefined; readonly scale?: undefined };

/**
 * An array of `element` values. A PostgreSQL array type (`integer[]`) does not fix its number of
 * dimensions, so neither does `array<int32>`: its values may be nested arrays of any depth.
 * @see https://www.postgresql.org/docs/current/arrays.html
 */
export interface ArrayLogicalType {
  readonly kind: 'array';
  readonly element: LogicalType;
}

/** A column's logical type; `kind` tells the members apart. */
export type LogicalType = SimpleLogicalType | DecimalLogicalType | ArrayLogicalType;

/** Every `kind` of {@link LogicalType}. */
export type LogicalKind = LogicalType['kind'];

const SIMPLE_KINDS: ReadonlySet<string> = new Set<SimpleLogicalKind>([
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'bool',
  'text',
  'bytes',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'uuid',
  'json',
  'interval',
]);

/** The largest precision of PostgreSQL's numeric(p,s), and the bound of its scale (±). */
export const MAX_DECIMAL_PRECISION = 1000;

/**
 * The text form of a logical type: `int32`, `decimal(10,2)`, `decimal`, `array<text>`,
 * `array<array<int16>>`. {@link parseLogicalType} reads it back.
 */
export function formatLogicalType(type: LogicalType): string {
  switch (type.kind) {
    case 'decimal':
      return type.precision === undefined ? 'decimal' : `decimal(${type.precision},${type.scale})`;
    case 'array':
      return `array<${formatLogicalType(type.element)}>`;
    default:
      return type.kind;
  }
}

/**
 * Reads the text form of a logical type (as {@link formatLogicalType} writes it; spaces around
 * the punctuation are allowed): `int64` → `{ kind: 'int64' }`, `decimal(10, 2)` →
 * `{ kind: 'decimal', precision: 10, scale: 2 }`, `decimal` → `{ kind: 'decimal' }`,
 * `array<text>` → `{ kind: 'array', element: { kind: 'text' } }`.
 * @throws {CdcError} LOGICAL_TYPE_INVALID naming the text and what is wrong: an unknown name,
 *   a decimal whose precision is outside 1..1000 or whose scale is outside -1000..1000, or a
 *   malformed `decimal(…)` / `array<…>`.
 */
export function parseLogicalType(text: string): LogicalType {
  const reader = new Reader(text);
  const type = reader.type();
  reader.skipSpaces();
  if (!reader.atEnd()) reader.fail('unexpected text after the type');
  return type;
}

/** A cursor over the text of a logical type. */
class Reader {
  private at = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.at >= this.text.length;
  }

  skipSpaces(): void {
    while (this.text[this.at] === ' ') this.at++;
  }

  fail(problem: string): never {
    throw new CdcError('LOGICAL_TYPE_INVALID', `logical type ${JSON.stringify(this.text)}: ${problem} (at character ${this.at + 1})`, {
      remedy: `write one of ${[...SIMPLE_KINDS].join(', ')}, decimal, decimal(p,s) or array<T>`,
      context: { logicalType: this.text },
    });
  }

  private word(): string {
    this.skipSpaces();
    const start = this.at;
    while (this.at < this.text.length && /[a-z0-9]/.test(this.text[this.at]!)) this.at++;
    return this.text.slice(start, this.at);
  }

  private expect(char: string): void {
    this.skipSpaces();
    if (this.text[this.at] !== char) this.fail(`expected ${JSON.stringify(char)}`);
    this.at++;
  }

  private peek(char: string): boolean {
    this.skipSpaces();
    return this.text[this.at] === char;
  }

  private integer(what: string, min: number, max: number): number {
    this.skipSpaces();
    const match = /^-?\d{1,5}/.exec(this.text.slice(this.at));
    if (!match) this.fail(`expected the ${what}, a whole number`);
    const value = Number(match[0]);
    if (value < min || value > max) this.fail(`the ${what} ${value} is outside ${min}..${max}`);
    this.at += match[0].length;
    return value;
  }

  type(): LogicalType {
    const start = this.at;
    const name = this.word();
    if (name === 'decimal') {
      if (!this.peek('(')) return { kind: 'decimal' };
      this.expect('(');
      const precision = this.integer('precision', 1, MAX_DECIMAL_PRECISION);
      this.expect(',');
      const scale = this.integer('scale', -MAX_DECIMAL_PRECISION, MAX_DECIMAL_PRECISION);
      this.expect(')');
      return { kind: 'decimal', precision, scale };
    }
    if (name === 'array') {
      this.expect('<');
      const element = this.type();
      this.expect('>');
      return { kind: 'array', element };
    }
    if (SIMPLE_KINDS.has(name)) return { kind: name as SimpleLogicalKind };
    this.at = start;
    this.skipSpaces();
    return this.fail(name === '' ? 'expected a type name' : `unknown type name ${JSON.stringify(name)}`);
  }
}
