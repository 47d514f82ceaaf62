/**
 * Row images (`before`, `after`, the key, the unwrap form's flat row): a JSON object of column
 * values, read with the embedded struct schema when there is one, else by the caller's column
 * types, else as the values come.
 */
import type { ColumnValue } from '../change.js';
import type { ConnectSchema } from './connect-schema.js';
import { columnValueByType, isBinaryType, type ColumnTypeSettings } from './column-types.js';
import { fail, type JsonPath } from './errors.js';
import { isJsonObject, JsonNumber, type JsonObject, type JsonValue } from './json.js';
import { columnValueWithSchema, postgresTypeOf } from './logical-types.js';
import type { ColumnInfo, DecodedRow } from './record.js';
import { describe, isPlainText, type ValueSettings } from './value-readers.js';

/** Column name → PostgreSQL type, for one table (from {@link DecodeOptions.columnTypes}). */
export type ColumnTypeMap = ReadonlyMap<string, string>;

/** How to read the rows of one table. */
export interface RowReading {
  /** Column types the caller supplied for the table, if any. */
  readonly types: ColumnTypeMap | undefined;
  readonly settings: ColumnTypeSettings;
  /** Which members are columns (the unwrap form's `__` fields are not); all when absent. */
  readonly isColumn?: (name: string) => boolean;
}

const allColumns = () => true;

function newRow(): Record<string, ColumnValue> {
  return Object.create(null) as Record<string, ColumnValue>;
}

/**
 * The columns a struct schema declares, with PostgreSQL types (a supplied column type wins).
 *
 * The list depends only on the schema, the supplied types and the column filter, so it is
 * computed once for each and shared between records: the array and its items are frozen.
 * (Record consumers such as `tableFromRecord` rely on that to cache per column list.)
 * @throws {InvalidField} when the schema is not a struct or a field has no PostgreSQL type.
 */
export function columnsFromSchema(schema: ConnectSchema, path: JsonPath, reading: RowReading): readonly ColumnInfo[] {
  let cached = SCHEMA_COLUMNS.get(schema);
  if (cached === undefined) {
    cached = [];
    SCHEMA_COLUMNS.set(schema, cached);
  }
  for (const c of cached) {
    if (c.types === reading.types && c.isColumn === reading.isColumn) return c.columns;
  }
  const columns = Object.freeze(schemaColumns(schema, path, reading).map((c) => Object.freeze(c)));
  // Few (types, filter) pairs meet one schema; more means new option objects per record.
  if (cached.length >= 8) cached.length = 0;
  cached.push({ types: reading.types, isColumn: reading.isColumn, columns });
  return columns;
}

/** {@link columnsFromSchema} results by schema, supplied types and column filter. */
const SCHEMA_COLUMNS = new WeakMap<
  ConnectSchema,
  { readonly types: ColumnTypeMap | undefined; readonly isColumn: RowReading['isColumn']; readonly columns: readonly ColumnInfo[] }[]
>();

function schemaColumns(schema: ConnectSchema, path: JsonPath, reading: RowReading): ColumnInfo[] {
  if (schema.type !== 'struct') fail(path, `expected a struct schema for a row, found ${schema.type}`);
  const isColumn = reading.isColumn ?? allColumns;
  const columns: ColumnInfo[] = [];
  schema.fields!.forEach((f, i) => {
    if (!isColumn(f.name)) return;
    const info: { -readonly [K in keyof ColumnInfo]: ColumnInfo[K] } = {
      name: f.name,
      type: reading.types?.get(f.name) ?? postgresTypeOf(f.schema, [...path, 'fields', i]),
      nullable: f.schema.optional,
    };
    if (f.schema.name !== undefined) info.logicalType = f.schema.name;
    if (f.schema.defaultValue !== undefined) {
      // A default only fills rows that predate the column: one this reader cannot decode is left out, never fatal.
      try {
        const value = columnValueWithSchema(f.schema.defaultValue, f.schema, [...path, 'fields', i, 'default'], reading.settings);
        if (typeof value === 'string') info.defaultValue = value;
      } catch {
        // the column then has no default, as without one in the schema
      }
    }
    columns.push(info);
  });
  return columns;
}

/** The columns of schemaless row images, in order of first appearance, typed when a type was supplied. */
export function columnsFromRows(rows: readonly (JsonObject | undefined)[], reading: RowReading): ColumnInfo[] {
  const isColumn = reading.isColumn ?? allColumns;
  const seen = new Set<string>();
  const columns: ColumnInfo[] = [];
  for (const row of rows) {
    for (const name of row?.keys() ?? []) {
      if (seen.has(name) || !isColumn(name)) continue;
      seen.add(name);
      columns.push({ name, type: reading.types?.get(name), nullable: undefined });
    }
  }
  return columns;
}

/**
 * A row image read with its struct schema: every schema field must be present, and nothing else.
 * A string field whose supplied column type is binary (`bytea`, `bytea[]`) is read under the
 * binary handling mode, since the connector declares such columns `string` when it encodes them.
 * @throws {InvalidField} when a field is missing, extra, or does not match its schema.
 */
export function decodeRowWithSchema(json: JsonValue, schema: ConnectSchema, path: JsonPath, reading: RowReading): DecodedRow {
  if (!isJsonObject(json)) fail(path, `expected a row object, found ${describe(json)}`);
  const { types, settings } = reading;
  const isColumn = reading.isColumn ?? allColumns;
  const fields = rowFields(schema);
  const row = newRow();
  /** Members of `json` that the schema declares. */
  let declaredPresent = 0;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const name = field.name;
    if (!isColumn(name)) {
      if (json.has(name)) declaredPresent++;
      continue;
    }
    const value = json.get(name);
    if (value === undefined) fail([...path, name], 'missing: the schema declares this field but the row does not have it');
    declaredPresent++;
    const type = types?.get(name);
    if (type !== undefined && field.stringSchema && settings.binaryHandlingMode !== 'bytes' && isBinaryType(type)) {
      row[name] = columnValueByType(value, type, [...path, name], settings);
      continue;
    }
    const quick = value === null ? null : quickValue(value, field.quick, settings);
    row[name] = quick !== undefined ? quick : columnValueWithSchema(value, field.schema, [...path, name], settings);
  }
  // Every member counted is declared (map keys are unique): any other member is not.
  if (json.size !== declaredPresent) {
    const declared = new Set(fields.map((f) => f.name));
    for (const name of json.keys()) {
      if (!declared.has(name)) fail([...path, name], 'not declared in the schema');
    }
  }
  return row;
}

/**
 * How a field's values may be read without building their path: plain Connect types with no
 * logical name, whose common values convert without any check that can fail.
 */
type QuickKind = 'int8' | 'int16' | 'int32' | 'int64' | 'string' | 'boolean' | 'float' | undefined;

/** A struct field with what {@link decodeRowWithSchema} needs to know about it, computed once. */
interface RowField {
  readonly name: string;
  readonly schema: ConnectSchema;
  /** A string, or an array of strings: may hold an encoded binary column. */
  readonly stringSchema: boolean;
  readonly quick: QuickKind;
}

const ROW_FIELDS = new WeakMap<ConnectSchema, readonly RowField[]>();

function rowFields(schema: ConnectSchema): readonly RowField[] {
  let fields = ROW_FIELDS.get(schema);
  if (fields === undefined) {
    fields = (schema.fields ?? []).map((f): RowField => {
      const s = f.schema;
      const stringSchema = s.type === 'string' || (s.type === 'array' && s.items?.type === 'string');
      let quick: QuickKind;
      if (s.name === undefined) {
        if (s.type === 'int8' || s.type === 'int16' || s.type === 'int32' || s.type === 'int64' || s.type === 'string' || s.type === 'boolean') quick = s.type;
        else if (s.type === 'float32' || s.type === 'float64') quick = 'float';
      }
      return { name: f.name, schema: s, stringSchema, quick };
    });
    ROW_FIELDS.set(schema, fields);
  }
  return fields;
}

/** Decimal digits that always fit each integer type (see `integerText`): no range check needed. */
const QUICK_DIGITS = { int8: 2, int16: 4, int32: 9, int64: 18 } as const;

/**
 * The value `columnValueWithSchema` would give for a non-null `json` of a {@link QuickKind}
 * field, when it can be had without a check that may fail; undefined otherwise (the caller then
 * takes the full path, which also reports errors with their path).
 */
function quickValue(json: JsonValue, kind: QuickKind, settings: ValueSettings): ColumnValue | undefined {
  switch (kind) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64': {
      if (!(json instanceof JsonNumber)) return undefined;
      const t = json.text;
      const digits = t.charCodeAt(0) === 0x2d ? t.length - 1 : t.length;
      return digits <= QUICK_DIGITS[kind] && t !== '-0' && json.isInteger ? t : undefined;
    }
    case 'string':
      return typeof json === 'string' && isPlainText(json, settings) ? json : undefined;
    case 'boolean':
      return typeof json === 'boolean' ? (json ? 'true' : 'false') : undefined;
    case 'float':
      return json instanceof JsonNumber ? json.text : undefined;
    default:
      return undefined;
  }
}

/** A schemaless row image: each value by its supplied column type, or as it comes. */
export function decodeRowByType(json: JsonValue, path: JsonPath, reading: RowReading): DecodedRow {
  if (!isJsonObject(json)) fail(path, `expected a row object, found ${describe(json)}`);
  const isColumn = reading.isColumn ?? allColumns;
  const row = newRow();
  for (const [name, value] of json) {
    if (!isColumn(name)) continue;
    row[name] = columnValueByType(value, reading.types?.get(name), [...path, name], reading.settings);
  }
  return row;
}
