/**
 * Row images (`before`, `after`, the key, the unwrap form's flat row): a JSON object of column
 * values, read with the embedded struct schema when there is one, else by the caller's column
 * types, else as the values come.
 */
import type { ColumnValue } from '../change.js';
import type { ConnectSchema } from './connect-schema.js';
import { columnValueByType, isBinaryType, type ColumnTypeSettings } from './column-types.js';
import { fail, type JsonPath } from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { columnValueWithSchema, postgresTypeOf } from './logical-types.js';
import type { ColumnInfo, DecodedRow } from './record.js';
import { describe } from './value-readers.js';

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
 * @throws {InvalidField} when the schema is not a struct or a field has no PostgreSQL type.
 */
export function columnsFromSchema(schema: ConnectSchema, path: JsonPath, reading: RowReading): ColumnInfo[] {
  // Without supplied types or a column filter the answer depends on the schema alone: keep it.
  if (reading.types !== undefined || reading.isColumn !== undefined) return schemaColumns(schema, path, reading);
  let columns = PLAIN_COLUMNS.get(schema);
  if (columns === undefined) {
    columns = schemaColumns(schema, path, reading);
    PLAIN_COLUMNS.set(schema, columns);
  }
  return columns.map((c) => ({ ...c }));
}

/** {@link columnsFromSchema} results by schema, for readings without types or a filter. */
const PLAIN_COLUMNS = new WeakMap<ConnectSchema, readonly ColumnInfo[]>();

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
  const row = newRow();
  const declared = new Set<string>();
  for (const field of schema.fields ?? []) {
    declared.add(field.name);
    if (!isColumn(field.name)) continue;
    const value = json.get(field.name);
    const fieldPath = [...path, field.name];
    if (value === undefined) fail(fieldPath, 'missing: the schema declares this field but the row does not have it');
    const type = types?.get(field.name);
    const stringSchema = field.schema.type === 'string' || (field.schema.type === 'array' && field.schema.items?.type === 'string');
    const binaryString = type !== undefined && settings.binaryHandlingMode !== 'bytes' && stringSchema && isBinaryType(type);
    row[field.name] = binaryString ? columnValueByType(value, type, fieldPath, settings) : columnValueWithSchema(value, field.schema, fieldPath, settings);
  }
  for (const name of json.keys()) {
    if (!declared.has(name)) fail([...path, name], 'not declared in the schema');
  }
  return row;
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
