/**
 * Values without an embedded schema (`schemas.enable=false`, Debezium Server, the
 * ExtractNewRecordState form): a JSON number, string or boolean says little about the column
 * (is `19439` an integer or a date? is `"AQID"` text or base64?). When the caller supplies the
 * column's PostgreSQL type, the value is read as the connector would have written that type;
 * otherwise it is taken as it comes (numbers and strings as written, booleans as
 * `true`/`false`, arrays as array literals), and a JSON object, whose meaning depends on the
 * type, is an error.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-data-types
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-data-types
 */
import { UNCHANGED, type ColumnValue } from '../change.js';
import { byteaText } from './binary.js';
import { decimalLiteralText } from './decimal.js';
import { fail, type JsonPath } from './errors.js';
import { isJsonArray, isJsonObject, JsonNumber, stringifyJson, type JsonValue } from './json.js';
import { decodeStringMap, toColumnValue } from './logical-types.js';
import {
  dateText,
  intervalText,
  NEGATIVE_INFINITY_TIMESTAMP,
  POSITIVE_INFINITY_TIMESTAMP,
  timestampText,
  timeText,
  zonedTimestampText,
  zonedTimeText,
  type TimeUnit,
} from './temporal.js';
import {
  bitsText,
  booleanText,
  decimalFromBytes,
  describe,
  floatText,
  geometryText,
  integerText,
  pointText,
  readBinaryText,
  readInteger,
  readString,
  textValue,
  variableScaleDecimal,
  type Converted,
  type ValueSettings,
} from './value-readers.js';

/**
 * Debezium's `time.precision.mode`, which decides the unit of temporal integers:
 * `adaptive` (the default: precision 0–3 → milliseconds, 4–6 → microseconds),
 * `adaptive_time_microseconds` (time always in microseconds), `connect` (always milliseconds).
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-property-time-precision-mode
 */
export type TimePrecisionMode = 'adaptive' | 'adaptive_time_microseconds' | 'connect';

/**
 * Debezium's `decimal.handling.mode`, which decides how a schemaless numeric string reads:
 * `precise` (the default: base64 unscaled bytes, the scale taken from the column's
 * `numeric(p,s)`), `string` (a plain decimal string), `double` (numbers only).
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-property-decimal-handling-mode
 */
export type DecimalHandlingMode = 'precise' | 'string' | 'double';

/** Settings for reading values by column type. */
export interface ColumnTypeSettings extends ValueSettings {
  readonly timePrecisionMode: TimePrecisionMode;
  readonly decimalHandlingMode: DecimalHandlingMode;
}

/** What a PostgreSQL type name says about how its values arrive. */
interface TypeShape {
  readonly kind:
    | 'integer'
    | 'float'
    | 'numeric'
    | 'boolean'
    | 'bytea'
    | 'date'
    | 'time'
    | 'timetz'
    | 'timestamp'
    | 'timestamptz'
    | 'interval'
    | 'bit'
    | 'point'
    | 'geometry'
    | 'geography'
    | 'hstore'
    | 'json'
    | 'text';
  /** First type modifier: precision of time types, length of bit, precision of numeric. */
  readonly modifier?: number;
  /** Second modifier: scale of numeric (money: 2). */
  readonly scale?: number;
}

const KINDS: Readonly<Record<string, TypeShape['kind']>> = {
  smallint: 'integer',
  integer: 'integer',
  int: 'integer',
  bigint: 'integer',
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  smallserial: 'integer',
  serial: 'integer',
  bigserial: 'integer',
  serial2: 'integer',
  serial4: 'integer',
  serial8: 'integer',
  oid: 'integer',
  real: 'float',
  float4: 'float',
  float8: 'float',
  float: 'float',
  'double precision': 'float',
  numeric: 'numeric',
  decimal: 'numeric',
  money: 'numeric',
  boolean: 'boolean',
  bool: 'boolean',
  bytea: 'bytea',
  date: 'date',
  time: 'time',
  'time without time zone': 'time',
  'time with time zone': 'timetz',
  timetz: 'timetz',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  timestamptz: 'timestamptz',
  interval: 'interval',
  bit: 'bit',
  'bit varying': 'bit',
  varbit: 'bit',
  point: 'point',
  geometry: 'geometry',
  geography: 'geography',
  hstore: 'hstore',
  json: 'json',
  jsonb: 'json',
};

/** Splits `timestamp(3) without time zone`, `numeric(10,2)`, `bit(8)` into kind and modifiers. */
function typeShape(postgresType: string): TypeShape {
  const t = postgresType.trim().toLowerCase().replace(/\s+/g, ' ');
  const m = /^([a-z0-9_ ]+?) ?(?:\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\))?( with(?:out)? time zone)?$/.exec(t);
  if (!m) return { kind: 'text' };
  const base = `${m[1]}${m[4] ?? ''}`;
  const kind = Object.hasOwn(KINDS, base) ? KINDS[base]! : Object.hasOwn(KINDS, m[1]!) ? KINDS[m[1]!]! : 'text';
  const shape: { kind: TypeShape['kind']; modifier?: number; scale?: number } = { kind };
  if (m[2] !== undefined) shape.modifier = Number(m[2]);
  if (m[3] !== undefined) shape.scale = Number(m[3]);
  else if (m[1] === 'money') shape.scale = 2;
  else if (kind === 'numeric' && m[2] !== undefined) shape.scale = 0;
  return shape;
}

/** `text[]`, `_int4`, `integer[][]` → the element type; undefined for a scalar type. */
export function arrayElementType(postgresType: string): string | undefined {
  const t = postgresType.trim();
  if (/\[\d*\]$/.test(t)) return t.replace(/(\s*\[\d*\])+$/, '');
  if (t.startsWith('_')) return t.slice(1);
  return undefined;
}

function inRange(path: JsonPath, convert: () => string): string {
  try {
    return convert();
  } catch (error) {
    if (error instanceof RangeError) fail(path, error.message, error);
    throw error;
  }
}

/** The unit of a temporal integer for a `time(p)` / `timestamp(p)` column under a precision mode. */
function temporalUnit(kind: 'time' | 'timestamp', precision: number | undefined, mode: TimePrecisionMode): TimeUnit {
  if (mode === 'connect') return 'ms';
  if (kind === 'time' && mode === 'adaptive_time_microseconds') return 'us';
  return (precision ?? 6) <= 3 ? 'ms' : 'us';
}

function decodeScalar(json: JsonValue, shape: TypeShape, postgresType: string, path: JsonPath, settings: ColumnTypeSettings): Converted {
  const what = postgresType;
  switch (shape.kind) {
    case 'integer':
      return integerText(json, path, what, 64);
    case 'float':
      return floatText(json, path, what);
    case 'numeric':
      return decodeNumeric(json, shape, path, settings);
    case 'boolean':
      if (json instanceof JsonNumber && (json.text === '0' || json.text === '1')) return json.text === '1' ? 'true' : 'false';
      return booleanText(json, path);
    case 'bytea': {
      const bytes = readBinaryText(json, path, what, settings.binaryHandlingMode);
      return settings.unavailable.isBytes(bytes) ? UNCHANGED : byteaText(bytes);
    }
    case 'date':
      if (json instanceof JsonNumber) return inRange(path, () => dateText(readInteger(json, path, what, 32)));
      return temporalString(json, path, settings, DATE_TEXT, 'days since 1970-01-01 or a date (YYYY-MM-DD)');
    case 'time':
      if (json instanceof JsonNumber) {
        const unit = temporalUnit('time', shape.modifier, settings.timePrecisionMode);
        return inRange(path, () => timeText(readInteger(json, path, what, 64), unit));
      }
      return temporalString(json, path, settings, TIME_TEXT, 'a count since midnight or a time (HH:MM:SS)');
    case 'timestamp': {
      if (!(json instanceof JsonNumber)) return temporalString(json, path, settings, TIMESTAMP_TEXT, 'a count since 1970-01-01 or a timestamp (YYYY-MM-DD HH:MM:SS)');
      const value = readInteger(json, path, what, 64);
      if (value === POSITIVE_INFINITY_TIMESTAMP) return 'infinity';
      if (value === NEGATIVE_INFINITY_TIMESTAMP) return '-infinity';
      const unit = temporalUnit('timestamp', shape.modifier, settings.timePrecisionMode);
      return inRange(path, () => timestampText(value, unit));
    }
    case 'timestamptz': {
      const text = readString(json, path, what);
      return settings.unavailable.isText(text) ? UNCHANGED : inRange(path, () => zonedTimestampText(text));
    }
    case 'timetz': {
      const text = readString(json, path, what);
      return settings.unavailable.isText(text) ? UNCHANGED : inRange(path, () => zonedTimeText(text));
    }
    case 'interval':
      if (json instanceof JsonNumber) return intervalText(readInteger(json, path, what, 64));
      return textValue(readString(json, path, what), path, settings);
    case 'bit': {
      if (typeof json === 'boolean') return json ? '1' : '0';
      const bytes = readBinaryText(json, path, what, settings.binaryHandlingMode);
      return settings.unavailable.isBytes(bytes) ? UNCHANGED : bitsText(bytes, shape.modifier, path);
    }
    case 'point':
      return pointText(json, path);
    case 'geometry':
    case 'geography':
      return geometryText(json, path, shape.kind, settings);
    case 'hstore':
      return typeof json === 'string' ? textValue(json, path, settings) : decodeStringMap(json, path, settings);
    case 'json':
      return typeof json === 'string' ? textValue(json, path, settings) : stringifyJson(json);
    case 'text':
      return decodeAsItComes(json, path, settings);
  }
}

const DATE_TEXT = /^(?:\d{4,}-\d{2}-\d{2}(?: BC)?|-?infinity)$/;
const TIME_TEXT = /^\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?Z?$/;
const TIMESTAMP_TEXT = /^(?:\d{4,}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?Z?(?: BC)?|-?infinity)$/;

/**
 * A date or time that arrived as a string (a converter that formats temporal values, or
 * Debezium's `isostring` mode): passed on as written when it has the expected shape, so that a
 * stray value fails here, with its path, rather than in COPY.
 */
function temporalString(json: JsonValue, path: JsonPath, settings: ValueSettings, shape: RegExp, expected: string): Converted {
  if (typeof json === 'string' && settings.unavailable.isText(json)) return UNCHANGED;
  if (typeof json !== 'string' || !shape.test(json)) fail(path, `expected ${expected}, found ${describe(json)}`);
  return json;
}

function decodeNumeric(json: JsonValue, shape: TypeShape, path: JsonPath, settings: ColumnTypeSettings): Converted {
  const scale = shape.scale;
  const literal = (text: string) => inRange(path, () => decimalLiteralText(text, Math.max(scale ?? 0, 0)));
  if (json instanceof JsonNumber) return literal(json.text);
  if (isJsonObject(json)) return variableScaleDecimal(json, path, settings);
  if (typeof json !== 'string') fail(path, `expected a number for numeric, found ${describe(json)}`);
  if (settings.unavailable.isText(json)) return UNCHANGED;
  if (json === 'NaN') return json;
  switch (settings.decimalHandlingMode) {
    case 'string':
      return literal(json);
    case 'double':
      fail(path, `expected a number for numeric (decimal.handling.mode=double), found ${describe(json)}`);
      break;
    case 'precise': {
      const bytes = readBinaryText(json, path, 'Decimal', 'bytes');
      if (settings.unavailable.isBytes(bytes)) return UNCHANGED;
      if (scale === undefined) fail(path, 'a base64 Decimal needs its scale: declare the column numeric(p,s), or enable the embedded schema');
      return decimalFromBytes(bytes, scale, path);
    }
  }
}

/**
 * A value with no type information: a string as is, a number as written, a boolean as
 * `true`/`false`, an array as an array literal of such elements. Placeholders become
 * {@link UNCHANGED}.
 */
function decodeAsItComes(json: JsonValue, path: JsonPath, settings: ValueSettings): Converted {
  if (json === null) return null;
  if (typeof json === 'string') return textValue(json, path, settings);
  if (json instanceof JsonNumber) return json.text;
  if (typeof json === 'boolean') return json ? 'true' : 'false';
  if (isJsonArray(json)) return decodeArray(json, path, (element, elementPath) => decodeAsItComes(element, elementPath, settings), settings);
  if (json.size === 1) {
    const [k, v] = [...json][0]!;
    if (settings.unavailable.isText(k) && typeof v === 'string' && settings.unavailable.isText(v)) return UNCHANGED;
  }
  fail(path, 'a JSON object needs a column type to be read (pass DecodeOptions.columnTypes for this table, or enable the embedded schema)');
}

function decodeArray(
  json: readonly JsonValue[],
  path: JsonPath,
  element: (json: JsonValue, path: JsonPath) => Converted,
  settings: ValueSettings,
): Converted {
  if (json.length > 0 && json.every((v) => v instanceof JsonNumber) && settings.unavailable.isByteNumbers(json.map((v) => v.text))) {
    return UNCHANGED;
  }
  if (json.length === 1 && json[0] === settings.unavailable.uuid) return UNCHANGED;
  const out: Converted[] = [];
  for (let i = 0; i < json.length; i++) {
    const v = json[i]!;
    const converted = v === null ? null : element(v, [...path, i]);
    if (converted === UNCHANGED) return UNCHANGED;
    out.push(converted);
  }
  return out as Exclude<Converted, typeof UNCHANGED>[];
}

function decodeTyped(json: JsonValue, postgresType: string, path: JsonPath, settings: ColumnTypeSettings): Converted {
  const elementType = arrayElementType(postgresType);
  if (elementType !== undefined) {
    if (typeof json === 'string' && settings.unavailable.isText(json)) return UNCHANGED;
    if (!isJsonArray(json)) fail(path, `expected an array for ${postgresType}, found ${describe(json)}`);
    return decodeArray(json, path, (element, elementPath) => decodeTyped(element, elementType, elementPath, settings), settings);
  }
  return decodeScalar(json, typeShape(postgresType), postgresType, path, settings);
}

/**
 * One column's value read by its PostgreSQL type (`postgresType`), or as it comes when the type
 * is undefined. Null stays null.
 * @throws {InvalidField} when the value cannot be that type as Debezium writes it (e.g. a string
 * for `integer`, bad base64 for `bytea`, a date outside PostgreSQL's range).
 */
export function columnValueByType(json: JsonValue, postgresType: string | undefined, path: JsonPath, settings: ColumnTypeSettings): ColumnValue {
  if (json === null) return null;
  const converted = postgresType === undefined ? decodeAsItComes(json, path, settings) : decodeTyped(json, postgresType, path, settings);
  return toColumnValue(converted);
}

/** True when a PostgreSQL type holds binary data that a connector may send as an encoded string. */
export function isBinaryType(postgresType: string): boolean {
  const kind = typeShape(arrayElementType(postgresType) ?? postgresType).kind;
  return kind === 'bytea';
}
