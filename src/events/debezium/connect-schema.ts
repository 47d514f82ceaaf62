/**
 * Kafka Connect schemas as JsonConverter embeds them (`schemas.enable=true`): the `schema` half
 * of `{schema, payload}`. A schema has a physical `type`, an `optional` flag, and may carry a
 * logical `name` (`io.debezium.time.MicroTimestamp`, `org.apache.kafka.connect.data.Decimal`…)
 * with string `parameters` (`scale`, `length`…). Structs list `fields`, arrays have `items`,
 * maps `keys` and `values`.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-events
 * @see https://kafka.apache.org/documentation/#connect_schemas
 */
import { fail, type JsonPath } from './errors.js';
import { isJsonArray, isJsonObject, JsonNumber, jsonTypeName, type JsonObject, type JsonValue } from './json.js';

/** Kafka Connect's physical types (JsonConverter spells float32 `float` and float64 `double`). */
export type ConnectType = 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string' | 'bytes' | 'array' | 'map' | 'struct';

/** One Kafka Connect schema. */
export interface ConnectSchema {
  readonly type: ConnectType;
  /** Logical type name, e.g. `io.debezium.time.Date`; for structs often the record name. */
  readonly name?: string;
  /** True when the value may be null. */
  readonly optional: boolean;
  /** String parameters of a logical type (`scale`, `connect.decimal.precision`, `length`, `allowed`). */
  readonly parameters: ReadonlyMap<string, string>;
  /** Members of a struct, in order. */
  readonly fields?: readonly ConnectField[];
  /** Element schema of an array. */
  readonly items?: ConnectSchema;
  /** Key schema of a map. */
  readonly keys?: ConnectSchema;
  /** Value schema of a map. */
  readonly values?: ConnectSchema;
  /**
   * The field's default (`default` in the JSON, encoded like its values): Debezium's PostgreSQL
   * connector propagates a column's constant default here ("Default values" in its docs).
   */
  readonly defaultValue?: JsonValue;
}

/** A struct member: its name (`field` in the JSON) and schema. */
export interface ConnectField {
  readonly name: string;
  readonly schema: ConnectSchema;
}

const TYPES: Readonly<Record<string, ConnectType>> = {
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  float: 'float32',
  float32: 'float32',
  double: 'float64',
  float64: 'float64',
  boolean: 'boolean',
  string: 'string',
  bytes: 'bytes',
  array: 'array',
  map: 'map',
  struct: 'struct',
};

/**
 * Reads a schema from its JSON form.
 * @throws {InvalidField} (as `path: reason`) when a part is missing or of the wrong type.
 */
export function parseConnectSchema(json: JsonValue, path: JsonPath): ConnectSchema {
  if (!isJsonObject(json)) fail(path, `expected a Kafka Connect schema object, found ${jsonTypeName(json)}`);
  const typeName = json.get('type');
  if (typeof typeName !== 'string' || !Object.hasOwn(TYPES, typeName)) {
    fail([...path, 'type'], `expected a Kafka Connect type (int8…int64, float, double, boolean, string, bytes, array, map, struct), found ${JSON.stringify(typeName ?? null)}`);
  }
  const type = TYPES[typeName]!;
  const name = optionalString(json, 'name', path);
  const optionalFlag = json.get('optional');
  if (optionalFlag !== undefined && typeof optionalFlag !== 'boolean') fail([...path, 'optional'], 'expected true or false');
  const schema: { -readonly [K in keyof ConnectSchema]: ConnectSchema[K] } = {
    type,
    optional: optionalFlag === true,
    parameters: parseParameters(json.get('parameters'), [...path, 'parameters']),
  };
  if (name !== undefined) schema.name = name;
  const defaultValue = json.get('default');
  if (defaultValue !== undefined && defaultValue !== null) schema.defaultValue = defaultValue;
  if (type === 'struct') {
    const fields = json.get('fields');
    if (!isJsonArray(fields)) fail([...path, 'fields'], 'a struct schema needs a fields array');
    schema.fields = fields.map((f, i) => {
      const fieldPath = [...path, 'fields', i];
      const fieldName = isJsonObject(f) ? f.get('field') : undefined;
      if (typeof fieldName !== 'string') fail([...fieldPath, 'field'], 'expected the field name');
      return { name: fieldName, schema: parseConnectSchema(f, fieldPath) };
    });
  } else if (type === 'array') {
    schema.items = parseConnectSchema(json.get('items') ?? null, [...path, 'items']);
  } else if (type === 'map') {
    schema.keys = parseConnectSchema(json.get('keys') ?? null, [...path, 'keys']);
    schema.values = parseConnectSchema(json.get('values') ?? null, [...path, 'values']);
  }
  return schema;
}

function optionalString(json: JsonObject, key: string, path: JsonPath): string | undefined {
  const v = json.get(key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail([...path, key], `expected a string, found ${jsonTypeName(v)}`);
  return v;
}

function parseParameters(json: JsonValue | undefined, path: JsonPath): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  if (json === undefined || json === null) return out;
  if (!isJsonObject(json)) fail(path, `expected an object of strings, found ${jsonTypeName(json)}`);
  for (const [k, v] of json) {
    if (typeof v === 'string') out.set(k, v);
    else if (v instanceof JsonNumber) out.set(k, v.text);
    else if (typeof v === 'boolean') out.set(k, String(v));
    else if (v !== null) fail([...path, k], `expected a string, found ${jsonTypeName(v)}`);
  }
  return out;
}

/** The named member of a struct schema, or undefined. */
export function structField(schema: ConnectSchema | undefined, name: string): ConnectField | undefined {
  return schema?.fields?.find((f) => f.name === name);
}

/**
 * An integer parameter (`scale`, `length`, `connect.decimal.precision`), or undefined when absent.
 * @throws {InvalidField} when present but not an integer.
 */
export function integerParameter(schema: ConnectSchema, key: string, path: JsonPath): number | undefined {
  const text = schema.parameters.get(key);
  if (text === undefined) return undefined;
  if (!/^-?\d{1,10}$/.test(text)) fail(path, `schema parameter ${key} is ${JSON.stringify(text)}, expected an integer`);
  return Number(text);
}
