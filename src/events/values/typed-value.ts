/**
 * One decoder from PostgreSQL text to typed values, for sinks that store typed data (Parquet in
 * Delta Lake and Iceberg). The PostgreSQL → PostgreSQL path keeps the text as it is; sinks never
 * parse type names or literals themselves (DESIGN.md §2, "Values").
 *
 * The text is what PostgreSQL's output functions print, as pgoutput sends it in a replication
 * stream, `COPY … TO` writes it, or the Debezium decoder produces it.
 * @see https://www.postgresql.org/docs/current/datatype.html
 * @see https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import type { LogicalType } from '../../schema/logical-type.js';
import { readArray, type ArrayValue } from './array-text.js';
import { readBytea } from './bytea-text.js';
import { readDate, readTime, readTimestamp, type InfiniteValue } from './datetime-text.js';
import { readInterval, type IntervalValue } from './interval-text.js';
import { readDecimal, readFloat, readInt64, readSmallInteger, type DecimalValue } from './number-text.js';
import { readUuid } from './uuid-text.js';
import { problem, TextProblem, ValueTextError } from './value-text-error.js';

export type { ArrayValue } from './array-text.js';
export type { InfiniteValue } from './datetime-text.js';
export type { IntervalValue } from './interval-text.js';
export { decimalAtScale, type DecimalValue, type FiniteDecimal, type NonFiniteDecimal } from './number-text.js';
export { ValueTextError } from './value-text-error.js';

/**
 * The JavaScript value of each logical type (arrays aside):
 *
 * | logical type  | value                                                                     |
 * | ------------- | ------------------------------------------------------------------------- |
 * | int16, int32  | number                                                                    |
 * | int64         | bigint                                                                    |
 * | decimal       | {@link DecimalValue}: `{ unscaled: bigint, scale }`, or `'NaN'`, `'Infinity'`, `'-Infinity'` |
 * | float32       | number, rounded to binary32 (`Math.fround`); NaN and ±Infinity included  |
 * | float64       | number; NaN and ±Infinity included                                        |
 * | bool          | boolean                                                                   |
 * | text          | string, as printed (character(n) keeps its padding)                       |
 * | bytes         | Uint8Array                                                                |
 * | date          | number: days since 1970-01-01, or `'infinity'` / `'-infinity'`            |
 * | time          | bigint: microseconds since midnight (0 to 86 400 000 000)                 |
 * | timestamp     | bigint: microseconds since 1970-01-01 00:00 (wall clock), or ±infinity    |
 * | timestamptz   | bigint: microseconds since 1970-01-01 00:00 UTC, or ±infinity             |
 * | uuid          | string: lower-case 8-4-4-4-12                                             |
 * | json          | string: the JSON text, as printed (not parsed or validated)               |
 * | interval      | {@link IntervalValue}: `{ months, days, microseconds: bigint }`, or ±infinity |
 */
export interface ScalarValues {
  int16: number;
  int32: number;
  int64: bigint;
  decimal: DecimalValue;
  float32: number;
  float64: number;
  bool: boolean;
  text: string;
  bytes: Uint8Array;
  date: number | InfiniteValue;
  time: bigint;
  timestamp: bigint | InfiniteValue;
  timestamptz: bigint | InfiniteValue;
  uuid: string;
  json: string;
  interval: IntervalValue | InfiniteValue;
}

/** Any scalar typed value. */
export type ScalarValue = ScalarValues[keyof ScalarValues];

/**
 * The value of logical type T: {@link ScalarValues}`[kind]`, and for `array<E>` an
 * {@link ArrayValue} of E's values (nested for more dimensions; null for SQL NULL elements).
 */
export type TypedValueOf<T extends LogicalType> = T extends { readonly kind: 'array'; readonly element: infer E }
  ? ArrayValue<ElementValueOf<E>>
  : T extends { readonly kind: infer K extends keyof ScalarValues }
    ? ScalarValues[K]
    : never;

/**
 * The scalar values inside an array of E. For an array of arrays (which no PostgreSQL type
 * produces: `integer[]` already holds any number of dimensions) it is any scalar value.
 */
type ElementValueOf<E> = E extends { readonly kind: infer K extends keyof ScalarValues } ? ScalarValues[K] : ScalarValue;

/** Any typed value. */
export type TypedValue = ScalarValue | ArrayValue<ScalarValue>;

/** The reader of a scalar logical type. */
function scalarReader(type: LogicalType): (text: string) => ScalarValue {
  switch (type.kind) {
    case 'int16':
      return readInt16;
    case 'int32':
      return readInt32;
    case 'int64':
      return readInt64;
    case 'decimal':
      return readDecimal;
    case 'float32':
      return readFloat32;
    case 'float64':
      return readFloat64;
    case 'bool':
      return readBool;
    case 'text':
    case 'json':
      return identity;
    case 'bytes':
      return readBytea;
    case 'date':
      return readDate;
    case 'time':
      return readTime;
    case 'timestamp':
      return readTimestampNaive;
    case 'timestamptz':
      return readTimestampZoned;
    case 'uuid':
      return readUuid;
    case 'interval':
      return readInterval;
    case 'array':
      return scalarReader(type.element);
  }
}

const readInt16 = (text: string) => readSmallInteger(text, 16);
const readInt32 = (text: string) => readSmallInteger(text, 32);
const readFloat32 = (text: string) => readFloat(text, true);
const readFloat64 = (text: string) => readFloat(text, false);
const readTimestampNaive = (text: string) => readTimestamp(text, false);
const readTimestampZoned = (text: string) => readTimestamp(text, true);
const identity = (text: string) => text;

/** boolout prints `t` and `f`; `true` and `false` are what the Debezium decoder writes. */
function readBool(text: string): boolean {
  switch (text) {
    case 't':
    case 'true':
      return true;
    case 'f':
    case 'false':
      return false;
  }
  return problem('expected t or f');
}

/**
 * Reads one non-null value from its PostgreSQL text, by its logical type (see
 * {@link ScalarValues} for what each type gives; `array<T>` gives nested arrays of T's values
 * with `null` for NULL elements). SQL NULL itself is not text: it is the caller's to handle, as
 * are unchanged-TOAST markers.
 *
 * Output settings. The text must be in PostgreSQL's default output styles, which are what a
 * replication stream carries unless the server, database or replication role overrides them:
 * - DateStyle `ISO` (any field order: `ISO, MDY` and `ISO, DMY` print the same). pgoutput sends
 *   values as the walsender's session prints them, so a server with another DateStyle must set
 *   `ISO` for the replication role (`ALTER ROLE … SET DateStyle = 'ISO'`). Other styles are an
 *   error, never a guess.
 * - IntervalStyle `postgres` (default) or `iso_8601`; `sql_standard` and `postgres_verbose` are
 *   an error.
 * - bytea_output `hex` (default); `escape` is an error.
 * - extra_float_digits >= 1 (default 1): real and double precision print their shortest exact
 *   form. With 0 or less PostgreSQL rounds them, and the decoder reads the rounded number.
 * - Any TimeZone: timestamptz text carries its offset, which is applied.
 *
 * Speed: no regular expression is built per value, and most types are read character by
 * character. Measured with scripts/typed-value-speed.mjs (Node 20, one core of a 2-core machine
 * shared with other work, load average ~8, so these are upper bounds), per 1 000 000 values: bool ~10 ms, int32 ~40–130 ms, int64 ~130–210 ms,
 * decimal(12,2) ~180 ms, float64 ~180–260 ms, date ~60–140 ms, timestamp ~250–400 ms,
 * timestamptz ~500 ms, uuid ~270–670 ms, 16-byte bytea ~300–470 ms, interval ~500 ms, 8-element
 * int32 arrays ~1–1.5 s. {@link decoderFor} skips the dispatch and is the faster of the two.
 *
 * @see https://www.postgresql.org/docs/current/runtime-config-client.html#RUNTIME-CONFIG-CLIENT-FORMAT
 * @throws {ValueTextError} VALUE_TEXT_INVALID naming the logical type and the value, when the
 *   text is not a value of that type as PostgreSQL prints it (or an element of an array is not).
 */
export function decodeTextValue<T extends LogicalType>(type: T, text: string): TypedValueOf<T>;
export function decodeTextValue(type: LogicalType, text: string): TypedValue {
  try {
    if (type.kind === 'array') return readArray(text, scalarReader(type.element));
    return scalarReader(type)(text);
  } catch (error) {
    if (error instanceof TextProblem) throw new ValueTextError(type, text, error.message);
    throw error;
  }
}

/**
 * A decoder for one logical type, resolved once: `decoderFor(type)(text)` is
 * `decodeTextValue(type, text)` without the dispatch on every call, for a column's values in
 * bulk.
 * @throws {ValueTextError} as {@link decodeTextValue}, from the returned function.
 */
export function decoderFor<T extends LogicalType>(type: T): (text: string) => TypedValueOf<T>;
export function decoderFor(type: LogicalType): (text: string) => TypedValue {
  let read: (text: string) => TypedValue;
  if (type.kind === 'array') {
    const element = scalarReader(type.element);
    read = (text) => readArray(text, element);
  } else {
    read = scalarReader(type);
  }
  return (text: string) => {
    try {
      return read(text);
    } catch (error) {
      if (error instanceof TextProblem) throw new ValueTextError(type, text, error.message);
      throw error;
    }
  };
}
