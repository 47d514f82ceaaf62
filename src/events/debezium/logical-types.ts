/**
 * Values described by an embedded Kafka Connect schema: the PostgreSQL type a column of that
 * schema gets, and each JSON value as PostgreSQL text. The logical type (`name`) decides when
 * there is one; otherwise the physical type does. Which PostgreSQL type and which reader each
 * one gets is data, in `type-maps/debezium-connect.yaml` (connect-types.ts); the readers are
 * here. A logical type the file does not list falls back to its physical type (a string stays
 * text), except a struct, which has no column form and is an error.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-data-types
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-data-types
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-data-types
 */
import { UNCHANGED, type ColumnValue } from '../change.js';
import { byteaText } from './binary.js';
import { integerParameter, type ConnectSchema } from './connect-schema.js';
import { connectLogicalType, connectPostgresType, connectTypes, type ConnectLogicalType, type ConnectReader } from './connect-types.js';
import { decimalLiteralText } from './decimal.js';
import { fail, type JsonPath } from './errors.js';
import { isJsonArray, isJsonObject, JsonNumber, type JsonValue } from './json.js';
import { arrayLiteral, hstoreLiteral } from './pg-literals.js';
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
  readBase64,
  readInteger,
  readString,
  textValue,
  variableScaleDecimal,
  type Converted,
  type ValueSettings,
} from './value-readers.js';

/** Debezium's logical name for a UUID string; an array of them has its own unavailable-value form. */
const UUID_NAME = 'io.debezium.data.Uuid';

/** Reads a non-null JSON value of a logical name as PostgreSQL text (or {@link UNCHANGED}). */
type Reader = (json: JsonValue, schema: ConnectSchema, path: JsonPath, settings: ValueSettings, entry: ConnectLogicalType) => Converted;

/** Runs a temporal conversion, reporting its RangeError at `path`. */
function inRange(path: JsonPath, convert: () => string): string {
  try {
    return convert();
  } catch (error) {
    if (error instanceof RangeError) fail(path, error.message, error);
    throw error;
  }
}

const days: Reader = (json, _s, path) => inRange(path, () => dateText(readInteger(json, path, 'a date (days since 1970-01-01)', 32)));

function timeOfDay(unit: TimeUnit, bits: 32 | 64): Reader {
  return (json, _s, path) => inRange(path, () => timeText(readInteger(json, path, `a time of day (${unit} since midnight)`, bits), unit));
}

function timestamp(unit: TimeUnit): Reader {
  return (json, _s, path) => {
    const value = readInteger(json, path, `a timestamp (${unit} since 1970-01-01)`, 64);
    if (value === POSITIVE_INFINITY_TIMESTAMP) return 'infinity';
    if (value === NEGATIVE_INFINITY_TIMESTAMP) return '-infinity';
    return inRange(path, () => timestampText(value, unit));
  };
}

const decimal: Reader = (json, schema, path, settings) => {
  const scale = integerParameter(schema, 'scale', path);
  if (scale === undefined) fail(path, 'the Decimal schema has no scale parameter');
  // JsonConverter's decimal.format=NUMERIC writes the number itself.
  if (json instanceof JsonNumber) return decimalLiteralText(json.text, Math.max(scale, 0));
  const bytes = typeof json === 'string' ? readBase64(json, path, 'Decimal') : fail(path, `expected base64 for Decimal, found ${describe(json)}`);
  if (settings.unavailable.isBytes(bytes)) return UNCHANGED;
  return decimalFromBytes(bytes, scale, path);
};

/**
 * The readers named in `type-maps/debezium-connect.yaml` (which says which logical name uses
 * which, and the PostgreSQL type it gets).
 */
const READERS: Readonly<Record<ConnectReader, Reader>> = {
  decimal,
  'variable-scale-decimal': (json, _s, path, settings) => variableScaleDecimal(json, path, settings),
  days,
  'time-ms': timeOfDay('ms', 32),
  'time-us': timeOfDay('us', 64),
  'time-ns': timeOfDay('ns', 64),
  'timestamp-ms': timestamp('ms'),
  'timestamp-us': timestamp('us'),
  'timestamp-ns': timestamp('ns'),
  'zoned-timestamp': (json, _s, path, settings) => {
    const text = readString(json, path, 'ZonedTimestamp');
    return settings.unavailable.isText(text) ? UNCHANGED : inRange(path, () => zonedTimestampText(text));
  },
  'zoned-time': (json, _s, path, settings) => {
    const text = readString(json, path, 'ZonedTime');
    return settings.unavailable.isText(text) ? UNCHANGED : inRange(path, () => zonedTimeText(text));
  },
  year: (json, _s, path) => integerText(json, path, 'a year', 32),
  'duration-us': (json, _s, path) => intervalText(readInteger(json, path, 'a duration (µs)', 64)),
  string: (json, _s, path, settings, entry) => textValue(readString(json, path, entry.to), path, settings),
  bits: (json, schema, path, settings) => {
    const bytes = readBase64(json, path, 'Bits');
    if (settings.unavailable.isBytes(bytes)) return UNCHANGED;
    return bitsText(bytes, integerParameter(schema, 'length', path), path);
  },
  geometry: (json, _s, path, settings) => geometryText(json, path, 'geometry', settings),
  geography: (json, _s, path, settings) => geometryText(json, path, 'geography', settings),
  point: (json, _s, path) => pointText(json, path),
};

const INT_BITS = { int8: 8, int16: 16, int32: 32, int64: 64 } as const;

/**
 * The PostgreSQL column type for a Connect schema: `int32` → `integer`, `int64` → `bigint`,
 * `float64` → `double precision`, `bytes` → `bytea`, Decimal(precision p, scale s) →
 * `numeric(p,s)` (`numeric` without a precision), MicroTimestamp →
 * `timestamp(6) without time zone`, ZonedTimestamp → `timestamp with time zone`, Uuid → `uuid`,
 * Json → `jsonb`, Bits(length n) → `bit(n)`, an array → `T[]`, a string map → `hstore`, …
 * @throws {InvalidField} for a struct that is not a known logical type, or a map whose values
 * are not strings.
 */
export function postgresTypeOf(schema: ConnectSchema, path: JsonPath): string {
  const logical = connectLogicalType(schema);
  if (logical) return connectPostgresType(logical, schema, path);
  switch (schema.type) {
    case 'array':
      return `${postgresTypeOf(schema.items!, [...path, 'items']).replace(/(\[\])+$/, '')}[]`;
    case 'map':
      if (schema.keys!.type !== 'string' || schema.values!.type !== 'string') fail(path, 'only maps of strings to strings (hstore) have a PostgreSQL column type');
      return 'hstore';
    case 'struct':
      fail(path, `a struct${schema.name ? ` (${schema.name})` : ''} has no PostgreSQL column type`);
      break;
    default:
      return connectTypes().physical[schema.type];
  }
}

/** Converts a non-null value by its physical type (no logical type applies). */
function decodePhysical(json: JsonValue, schema: ConnectSchema, path: JsonPath, settings: ValueSettings): Converted {
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      return integerText(json, path, schema.type, INT_BITS[schema.type]);
    case 'float32':
    case 'float64':
      return floatText(json, path, schema.type);
    case 'boolean':
      return booleanText(json, path);
    case 'string':
      return textValue(readString(json, path, 'string'), path, settings);
    case 'bytes': {
      const bytes = readBase64(json, path, 'bytes');
      return settings.unavailable.isBytes(bytes) ? UNCHANGED : byteaText(bytes);
    }
    case 'array':
      return decodeArray(json, schema.items!, path, settings);
    case 'map':
      return decodeStringMap(json, path, settings);
    case 'struct':
      fail(path, `a struct${schema.name ? ` (${schema.name})` : ''} has no PostgreSQL column form`);
  }
}

function decodeArray(json: JsonValue, items: ConnectSchema, path: JsonPath, settings: ValueSettings): Converted {
  if (!isJsonArray(json)) fail(path, `expected an array, found ${describe(json)}`);
  const integerItems = items.type === 'int8' || items.type === 'int16' || items.type === 'int32' || items.type === 'int64';
  if (integerItems && json.every((v) => v instanceof JsonNumber) && settings.unavailable.isByteNumbers(json.map((v) => v.text))) {
    return UNCHANGED;
  }
  if (items.name === UUID_NAME && json.length === 1 && json[0] === settings.unavailable.uuid) return UNCHANGED;
  const out: Converted[] = [];
  for (let i = 0; i < json.length; i++) {
    const element = json[i]!;
    const converted = element === null ? null : decodeWithSchema(element, items, [...path, i], settings);
    if (converted === UNCHANGED) return UNCHANGED;
    out.push(converted);
  }
  return out as Exclude<Converted, typeof UNCHANGED>[];
}

/** A JSON object of strings as hstore text (Debezium's `hstore.handling.mode=map`). */
export function decodeStringMap(json: JsonValue, path: JsonPath, settings: ValueSettings): Converted {
  if (!isJsonObject(json)) fail(path, `expected an object (a map), found ${describe(json)}`);
  const pairs: [string, string | null][] = [];
  for (const [k, v] of json) {
    if (v !== null && typeof v !== 'string') fail([...path, k], `expected a string map value, found ${describe(v)}`);
    pairs.push([k, v]);
  }
  const only = pairs.length === 1 ? pairs[0]! : undefined;
  if (only && settings.unavailable.isText(only[0]) && only[1] !== null && settings.unavailable.isText(only[1])) return UNCHANGED;
  return hstoreLiteral(pairs);
}

/**
 * Converts a non-null JSON value described by `schema` (an array element may be a nested array).
 * @throws {InvalidField} when the value does not have the shape its schema promises.
 */
export function decodeWithSchema(json: JsonValue, schema: ConnectSchema, path: JsonPath, settings: ValueSettings): Converted {
  const logical = connectLogicalType(schema);
  return logical ? READERS[logical.reader](json, schema, path, settings, logical) : decodePhysical(json, schema, path, settings);
}

/** A converted value as a column value: arrays become array literals. */
export function toColumnValue(converted: Converted): ColumnValue {
  return typeof converted === 'object' && converted !== null ? arrayLiteral(converted) : converted;
}

/**
 * One column's value under its schema: null stays null, anything else is converted to
 * PostgreSQL text (arrays as array literals) or {@link UNCHANGED}.
 * @throws {InvalidField} as {@link decodeWithSchema}.
 */
export function columnValueWithSchema(json: JsonValue, schema: ConnectSchema, path: JsonPath, settings: ValueSettings): ColumnValue {
  return json === null ? null : toColumnValue(decodeWithSchema(json, schema, path, settings));
}
