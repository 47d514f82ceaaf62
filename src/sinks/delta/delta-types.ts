/**
 * Column types and values of Delta tables: each column's logical type becomes a Delta type by
 * the data file `type-maps/postgresql-delta.yaml`, and each value (the change model's text)
 * becomes the value the Parquet layer writes for that type.
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md#schema-serialization-format
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { z } from 'zod';
import { loadYamlFile } from '../../config/yaml-file.js';
import { CdcError } from '../../errors.js';
import { decoderFor, decimalAtScale, type DecimalValue, type TypedValue } from '../../events/values/typed-value.js';
import type { LogicalType } from '../../schema/logical-type.js';
import { columnLogicalType, formatTableId, type ColumnSchema, type TableSchema } from '../../schema/table.js';
import type { LakeColumn, LakeType, LakeValue } from '../lake/parquet.js';

const PRIMITIVES = ['short', 'integer', 'long', 'float', 'double', 'boolean', 'string', 'binary', 'date', 'timestamp', 'timestamp_ntz'] as const;
/** A Delta primitive type name (PROTOCOL.md "Primitive Types"), decimals aside. */
export type DeltaPrimitive = (typeof PRIMITIVES)[number];

const mapFileSchema = z
  .object({
    source: z.literal('logical'),
    types: z.record(z.string(), z.enum(PRIMITIVES)),
    decimal: z.object({ max_precision: z.number().int().min(1).max(38), beyond: z.enum(PRIMITIVES) }).strict(),
    array: z.object({ beyond: z.enum(PRIMITIVES) }).strict(),
  })
  .strict();

let cachedMap: z.infer<typeof mapFileSchema> | undefined;

/**
 * The type map, read once.
 * @throws {CdcError} TYPE_MAP_INVALID naming the file and line when it does not validate.
 */
function typeMap(): z.infer<typeof mapFileSchema> {
  if (!cachedMap) {
    const file = fileURLToPath(new URL('../../../type-maps/postgresql-delta.yaml', import.meta.url));
    cachedMap = loadYamlFile(file, mapFileSchema, { code: 'TYPE_MAP_INVALID', what: 'type map', remedy: 'fix the file; its header describes the format' }).data;
  }
  return cachedMap;
}

const LAKE_OF: Record<DeltaPrimitive, LakeType> = {
  short: { kind: 'int16' },
  integer: { kind: 'int32' },
  long: { kind: 'int64' },
  float: { kind: 'float32' },
  double: { kind: 'float64' },
  boolean: { kind: 'bool' },
  string: { kind: 'string' },
  binary: { kind: 'binary' },
  date: { kind: 'date' },
  timestamp: { kind: 'timestamp-utc' },
  timestamp_ntz: { kind: 'timestamp-ntz' },
};

/** A Delta column type as its schema JSON spells it: a primitive name, `decimal(p,s)`, or an array. */
export type DeltaType = string | { readonly type: 'array'; readonly elementType: DeltaType; readonly containsNull: boolean };

/** One column of a Delta table as the sink writes it. */
export interface DeltaColumn {
  readonly name: string;
  /** The Delta type (schema JSON). */
  readonly deltaType: DeltaType;
  /** What the Parquet layer writes. */
  readonly lake: LakeColumn;
  /** The source column's logical type. */
  readonly logical: LogicalType;
  /**
   * The value to store for the change model's text of this column (never null: callers handle
   * SQL NULL). Values no Delta type can hold (±infinity dates and timestamps, NaN and infinite
   * decimals) become null, with a warning naming the table and column (once per column and
   * process).
   * @throws {CdcError} VALUE_UNSUPPORTED for an array value of more than one dimension.
   */
  readonly convert: (text: string) => LakeValue;
  /**
   * Column mapping (PROTOCOL.md "Column Mapping"), on tables in mode `name`: the column's id and
   * the physical name its values have in data files, statistics and partition values (the
   * `lake` column then carries that name and the id as Parquet `field_id`).
   */
  readonly mapping?: { readonly id: number; readonly physicalName: string };
}

/** The Delta type and lake type a logical type maps to, and whether it keeps the source text. */
function mapType(logical: LogicalType, where: string, log: Logger | undefined): { delta: DeltaType; lake: LakeType; text: boolean } {
  const map = typeMap();
  if (logical.kind === 'decimal') {
    const { precision, scale } = logical;
    if (precision !== undefined && precision <= map.decimal.max_precision && scale >= 0 && scale <= precision) {
      return { delta: `decimal(${precision},${scale})`, lake: { kind: 'decimal', precision, scale }, text: false };
    }
    log?.warn({ column: where, type: precision === undefined ? 'numeric' : `numeric(${precision},${scale})` }, `a decimal column without a Delta decimal type is stored as ${map.decimal.beyond}`);
    return { delta: map.decimal.beyond, lake: LAKE_OF[map.decimal.beyond], text: true };
  }
  if (logical.kind === 'array') {
    const element = mapType(logical.element, where, log);
    if (element.lake.kind === 'list' || element.lake.kind === 'binary') return { delta: map.array.beyond, lake: LAKE_OF[map.array.beyond], text: true };
    return { delta: { type: 'array', elementType: element.delta, containsNull: true }, lake: { kind: 'list', element: element.lake }, text: false };
  }
  const primitive = map.types[logical.kind];
  if (!primitive) throw new CdcError('TYPE_MAP_INVALID', `type-maps/postgresql-delta.yaml maps no Delta type for logical type ${logical.kind}`, { remedy: `add ${logical.kind} under types:` });
  return { delta: primitive, lake: LAKE_OF[primitive], text: primitive === 'string' };
}

const warned = new Set<string>();

/** The scalar value of `lake` for a decoded value, or undefined when the type cannot hold it. */
function scalarValue(lake: LakeType, value: TypedValue): LakeValue | undefined {
  switch (lake.kind) {
    case 'decimal': {
      const d = value as DecimalValue;
      if (typeof d === 'string') return undefined;
      const scaled = decimalAtScale(d, lake.scale);
      return { unscaled: scaled.unscaled, scale: lake.scale };
    }
    case 'date':
    case 'timestamp-utc':
    case 'timestamp-ntz':
      return typeof value === 'string' ? undefined : (value as number | bigint);
    default:
      return value as LakeValue;
  }
}

/**
 * The Delta columns of `table`, in its column order.
 * @throws {CdcError} TYPE_MAP_INVALID when the type map lacks a logical type.
 */
export function deltaColumns(table: TableSchema, log?: Logger): DeltaColumn[] {
  return table.columns.map((column) => deltaColumn(table, column, log));
}

function deltaColumn(table: TableSchema, column: ColumnSchema, log: Logger | undefined): DeltaColumn {
  const where = `${formatTableId(table.id)}.${column.name}`;
  const logical = columnLogicalType(column);
  const { delta, lake, text } = mapType(logical, where, log);
  const lakeColumn: LakeColumn = { name: column.name, type: lake, nullable: true };
  const lost = (value: string): null => {
    if (!warned.has(where)) {
      warned.add(where);
      log?.warn({ column: where, value }, 'a value no Delta type holds (infinity or NaN) is stored as null');
    }
    return null;
  };
  let convert: (text: string) => LakeValue;
  if (text) {
    convert = (value) => value;
  } else if (lake.kind === 'list') {
    const decode = decoderFor(logical);
    const element = lake.element;
    convert = (value) => {
      const items = decode(value) as (TypedValue | null | unknown[])[];
      return items.map((item) => {
        if (item === null) return null;
        if (Array.isArray(item)) {
          throw new CdcError('VALUE_UNSUPPORTED', `${where}: an array of more than one dimension (${value.slice(0, 80)}) does not fit the column's Delta type array<${JSON.stringify(delta)}>`, {
            remedy: 'store one-dimensional arrays in this column, or map the column to text in the table definition',
          });
        }
        return scalarValue(element, item) ?? lost(value);
      });
    };
  } else {
    const decode = decoderFor(logical);
    convert = (value) => scalarValue(lake, decode(value)) ?? lost(value);
  }
  return { name: column.name, deltaType: delta, lake: lakeColumn, logical, convert };
}

/** The `schemaString` of a Delta `metaData` action for `columns` (every column nullable). */
export function deltaSchemaString(columns: readonly Pick<DeltaColumn, 'name' | 'deltaType' | 'mapping'>[]): string {
  return JSON.stringify({
    type: 'struct',
    fields: columns.map((c) => ({
      name: c.name,
      type: c.deltaType,
      nullable: true,
      metadata: c.mapping ? { 'delta.columnMapping.id': c.mapping.id, 'delta.columnMapping.physicalName': c.mapping.physicalName } : {},
    })),
  });
}

/** True when a Delta type is or contains timestamp_ntz (the table then needs the timestampNtz feature). */
export function usesTimestampNtz(type: DeltaType): boolean {
  return typeof type === 'string' ? type === 'timestamp_ntz' : usesTimestampNtz(type.elementType);
}

const POSTGRES_OF: Record<DeltaPrimitive, string> = {
  short: 'smallint',
  integer: 'integer',
  long: 'bigint',
  float: 'real',
  double: 'double precision',
  boolean: 'boolean',
  string: 'text',
  binary: 'bytea',
  date: 'date',
  timestamp: 'timestamp with time zone',
  timestamp_ntz: 'timestamp without time zone',
};

/**
 * A PostgreSQL type whose Delta type (by the type map) is `type`: how a table read from its
 * Delta schema alone (maintenance, without a source) gets columns that map back to the same
 * Delta types.
 * @throws {CdcError} DELTA_SCHEMA_CONFLICT for a Delta type the sink never writes (struct, map).
 */
export function postgresTypeOfDelta(type: DeltaType): string {
  if (typeof type !== 'string') return `${postgresTypeOfDelta(type.elementType)}[]`;
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return `numeric(${decimal[1]},${decimal[2]})`;
  const pg = POSTGRES_OF[type as DeltaPrimitive] as string | undefined;
  if (!pg) throw new CdcError('DELTA_SCHEMA_CONFLICT', `a Delta column of type ${JSON.stringify(type)} is not one cdc-merge writes`, { remedy: 'maintain this table with the tool that wrote it' });
  return pg;
}

/**
 * The lake type of a Delta type read from a stored schema (columns the source no longer has).
 * A type the sink never writes reads as string.
 */
export function lakeTypeOfDelta(type: DeltaType): LakeType {
  if (typeof type !== 'string') return { kind: 'list', element: lakeTypeOfDelta(type.elementType) };
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  return (LAKE_OF[type as DeltaPrimitive]) ?? { kind: 'string' };
}
