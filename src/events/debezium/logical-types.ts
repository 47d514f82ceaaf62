/**
 * Values described by an embedded Kafka Connect schema: the PostgreSQL type a column of that
 * schema gets, and each JSON value as PostgreSQL text. The logical type (`name`) decides when
 * there is one; otherwise the physical type does. A logical type this decoder does not know
 * falls back to its physical type (a string stays text), except a struct, which has no column
 * form and is an error.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-data-types
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-data-types
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-data-types
 */
import { UNCHANGED, type ColumnValue } from '../change.js';
import { byteaText } from './binary.js';
import { integerParameter, type ConnectSchema, type ConnectType } from './connect-schema.js';
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

/** Logical type names Debezium and Kafka Connect put in schemas. */
export const LogicalName = {
  Decimal: 'org.apache.kafka.connect.data.Decimal',
  ConnectDate: 'org.apache.kafka.connect.data.Date',
  ConnectTime: 'org.apache.kafka.connect.data.Time',
  ConnectTimestamp: 'org.apache.kafka.connect.data.Timestamp',
  VariableScaleDecimal: 'io.debezium.data.VariableScaleDecimal',
  Date: 'io.debezium.time.Date',
  Time: 'io.debezium.time.Time',
  MicroTime: 'io.debezium.time.MicroTime',
  NanoTime: 'io.debezium.time.NanoTime',
  Timestamp: 'io.debezium.time.Timestamp',
  MicroTimestamp: 'io.debezium.time.MicroTimestamp',
  NanoTimestamp: 'io.debezium.time.NanoTimestamp',
  ZonedTimestamp: 'io.debezium.time.ZonedTimestamp',
  ZonedTime: 'io.debezium.time.ZonedTime',
  Year: 'io.debezium.time.Year',
  MicroDuration: 'io.debezium.time.MicroDuration',
  Interval: 'io.debezium.time.Interval',
  Uuid: 'io.debezium.data.Uuid',
  Json: 'io.debezium.data.Json',
  Xml: 'io.debezium.data.Xml',
  Enum: 'io.debezium.data.Enum',
  EnumSet: 'io.debezium.data.EnumSet',
  Ltree: 'io.debezium.data.Ltree',
  Bits: 'io.debezium.data.Bits',
  Geometry: 'io.debezium.data.geometry.Geometry',
  Geography: 'io.debezium.data.geometry.Geography',
  Point: 'io.debezium.data.geometry.Point',
} as const;

/** How one logical type maps to PostgreSQL. */
interface LogicalType {
  /** The PostgreSQL column type, as `format_type()` writes it. */
  postgresType(schema: ConnectSchema, path: JsonPath): string;
  /** A non-null JSON value as PostgreSQL text (or {@link UNCHANGED}). */
  decode(json: JsonValue, schema: ConnectSchema, path: JsonPath, settings: ValueSettings): Converted;
}

/** Runs a temporal conversion, reporting its RangeError at `path`. */
function inRange(path: JsonPath, convert: () => string): string {
  try {
    return convert();
  } catch (error) {
    if (error instanceof RangeError) fail(path, error.message, error);
    throw error;
  }
}

function dateType(): LogicalType {
  return {
    postgresType: () => 'date',
    decode: (json, _s, path) => inRange(path, () => dateText(readInteger(json, path, 'a date (days since 1970-01-01)', 32))),
  };
}

function timeType(unit: TimeUnit, bits: 32 | 64, precision: number): LogicalType {
  return {
    postgresType: () => `time(${precision}) without time zone`,
    decode: (json, _s, path) => inRange(path, () => timeText(readInteger(json, path, `a time of day (${unit} since midnight)`, bits), unit)),
  };
}

function timestampType(unit: TimeUnit, precision: number): LogicalType {
  return {
    postgresType: () => `timestamp(${precision}) without time zone`,
    decode: (json, _s, path) => {
      const value = readInteger(json, path, `a timestamp (${unit} since 1970-01-01)`, 64);
      if (value === POSITIVE_INFINITY_TIMESTAMP) return 'infinity';
      if (value === NEGATIVE_INFINITY_TIMESTAMP) return '-infinity';
      return inRange(path, () => timestampText(value, unit));
    },
  };
}

function textType(postgresType: string): LogicalType {
  return {
    postgresType: () => postgresType,
    decode: (json, _s, path, settings) => textValue(readString(json, path, postgresType), path, settings),
  };
}

const decimalType: LogicalType = {
  postgresType(schema, path) {
    const scale = integerParameter(schema, 'scale', [...path, 'parameters', 'scale']);
    const precision = integerParameter(schema, 'connect.decimal.precision', [...path, 'parameters', 'connect.decimal.precision']);
    // numeric(p,s) needs 1 <= p <= 1000 and, before PostgreSQL 15, 0 <= s <= p.
    if (precision === undefined || scale === undefined || precision < 1 || precision > 1000 || scale < 0 || scale > precision) return 'numeric';
    return `numeric(${precision},${scale})`;
  },
  decode(json, schema, path, settings) {
    const scale = integerParameter(schema, 'scale', path);
    if (scale === undefined) fail(path, 'the Decimal schema has no scale parameter');
    // JsonConverter's decimal.format=NUMERIC writes the number itself.
    if (json instanceof JsonNumber) return decimalLiteralText(json.text, Math.max(scale, 0));
    const bytes = typeof json === 'string' ? readBase64(json, path, 'Decimal') : fail(path, `expected base64 for Decimal, found ${describe(json)}`);
    if (settings.unavailable.isBytes(bytes)) return UNCHANGED;
    return decimalFromBytes(bytes, scale, path);
  },
};

const LOGICAL_TYPES: ReadonlyMap<string, LogicalType> = new Map<string, LogicalType>([
  [LogicalName.Decimal, decimalType],
  [LogicalName.VariableScaleDecimal, { postgresType: () => 'numeric', decode: (json, _s, path, settings) => variableScaleDecimal(json, path, settings) }],
  [LogicalName.Date, dateType()],
  [LogicalName.ConnectDate, dateType()],
  [LogicalName.Time, timeType('ms', 32, 3)],
  [LogicalName.ConnectTime, timeType('ms', 32, 3)],
  [LogicalName.MicroTime, timeType('us', 64, 6)],
  [LogicalName.NanoTime, timeType('ns', 64, 6)],
  [LogicalName.Timestamp, timestampType('ms', 3)],
  [LogicalName.ConnectTimestamp, timestampType('ms', 3)],
  [LogicalName.MicroTimestamp, timestampType('us', 6)],
  [LogicalName.NanoTimestamp, timestampType('ns', 6)],
  [
    LogicalName.ZonedTimestamp,
    {
      postgresType: () => 'timestamp with time zone',
      decode: (json, _s, path, settings) => {
        const text = readString(json, path, 'ZonedTimestamp');
        return settings.unavailable.isText(text) ? UNCHANGED : inRange(path, () => zonedTimestampText(text));
      },
    },
  ],
  [
    LogicalName.ZonedTime,
    {
      postgresType: () => 'time with time zone',
      decode: (json, _s, path, settings) => {
        const text = readString(json, path, 'ZonedTime');
        return settings.unavailable.isText(text) ? UNCHANGED : inRange(path, () => zonedTimeText(text));
      },
    },
  ],
  [LogicalName.Year, { postgresType: () => 'integer', decode: (json, _s, path) => integerText(json, path, 'a year', 32) }],
  [LogicalName.MicroDuration, { postgresType: () => 'interval', decode: (json, _s, path) => intervalText(readInteger(json, path, 'a duration (µs)', 64)) }],
  [LogicalName.Interval, textType('interval')],
  [LogicalName.Uuid, textType('uuid')],
  [LogicalName.Json, textType('jsonb')],
  [LogicalName.Xml, textType('xml')],
  [LogicalName.Enum, textType('text')],
  [LogicalName.EnumSet, textType('text')],
  [LogicalName.Ltree, textType('ltree')],
  [
    LogicalName.Bits,
    {
      postgresType(schema, path) {
        const length = integerParameter(schema, 'length', [...path, 'parameters', 'length']);
        return length === undefined || length >= 2147483647 || length < 1 ? 'bit varying' : `bit(${length})`;
      },
      decode(json, schema, path, settings) {
        const bytes = readBase64(json, path, 'Bits');
        if (settings.unavailable.isBytes(bytes)) return UNCHANGED;
        return bitsText(bytes, integerParameter(schema, 'length', path), path);
      },
    },
  ],
  [LogicalName.Geometry, { postgresType: () => 'geometry', decode: (json, _s, path, settings) => geometryText(json, path, 'geometry', settings) }],
  [LogicalName.Geography, { postgresType: () => 'geography', decode: (json, _s, path, settings) => geometryText(json, path, 'geography', settings) }],
  [LogicalName.Point, { postgresType: () => 'point', decode: (json, _s, path) => pointText(json, path) }],
]);

const PHYSICAL_TYPES: Readonly<Record<Exclude<ConnectType, 'array' | 'map' | 'struct'>, string>> = {
  int8: 'smallint',
  int16: 'smallint',
  int32: 'integer',
  int64: 'bigint',
  float32: 'real',
  float64: 'double precision',
  boolean: 'boolean',
  string: 'text',
  bytes: 'bytea',
};

const INT_BITS = { int8: 8, int16: 16, int32: 32, int64: 64 } as const;

function logicalTypeOf(schema: ConnectSchema): LogicalType | undefined {
  if (schema.name === undefined) return undefined;
  const logical = LOGICAL_TYPES.get(schema.name);
  // A known name on an unexpected physical type (a Decimal declared int32…) is not that logical type.
  if (logical && schema.name === LogicalName.Decimal && schema.type !== 'bytes') return undefined;
  return logical;
}

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
  const logical = logicalTypeOf(schema);
  if (logical) return logical.postgresType(schema, path);
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
      return PHYSICAL_TYPES[schema.type];
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
  if (items.name === LogicalName.Uuid && json.length === 1 && json[0] === settings.unavailable.uuid) return UNCHANGED;
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
  const logical = logicalTypeOf(schema);
  return logical ? logical.decode(json, schema, path, settings) : decodePhysical(json, schema, path, settings);
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
