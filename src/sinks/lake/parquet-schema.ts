/**
 * The Parquet schema of lake columns: physical type, logical type annotation, repetition and
 * field id per column, as apache/parquet-format LogicalTypes.md defines them and as Delta
 * (PROTOCOL.md appendix "Parquet types") and Iceberg (spec "Parquet" type table) expect.
 */
import type { SchemaElement } from 'hyparquet';
import { CdcError } from '../../errors.js';
import { lakeTypeText, type LakeColumn, type LakeType } from './lake-type.js';

/**
 * Bytes of the FIXED_LEN_BYTE_ARRAY holding a decimal of `precision` digits: the fewest whose
 * signed range covers ±(10^precision − 1) (LogicalTypes.md DECIMAL; Iceberg requires the minimum).
 */
export function decimalBytes(precision: number): number {
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) - 1n < 10n ** BigInt(precision) - 1n) bytes++;
  return bytes;
}

/**
 * How a decimal of `precision` is stored: INT32 up to 9 digits, INT64 up to 18, otherwise a
 * FIXED_LEN_BYTE_ARRAY of {@link decimalBytes} (what Spark and delta-rs write).
 */
export function decimalPhysical(precision: number): Pick<SchemaElement, 'type' | 'type_length'> {
  if (precision <= 9) return { type: 'INT32' };
  if (precision <= 18) return { type: 'INT64' };
  return { type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalBytes(precision) };
}

/** The annotation-carrying part of a leaf's schema element. */
function leaf(type: LakeType): Omit<SchemaElement, 'name' | 'repetition_type'> {
  switch (type.kind) {
    case 'int16':
      // Only the converted type, which readers map to INTEGER(16, signed): hyparquet-writer 0.17.0
      // writes the INTEGER annotation's bitWidth as a thrift i32 where parquet.thrift says i8, and
      // pyarrow then rejects the whole footer ("Couldn't deserialize thrift").
      return { type: 'INT32', converted_type: 'INT_16' };
    case 'int32':
      return { type: 'INT32' };
    case 'int64':
      return { type: 'INT64' };
    case 'float32':
      return { type: 'FLOAT' };
    case 'float64':
      return { type: 'DOUBLE' };
    case 'bool':
      return { type: 'BOOLEAN' };
    case 'string':
      return { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'binary':
      return { type: 'BYTE_ARRAY' };
    case 'date':
      return { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'timestamp-utc':
      // TIMESTAMP_MICROS as the converted type too: it means isAdjustedToUTC=true to older readers
      return {
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      };
    case 'timestamp-ntz':
      // no converted type: TIMESTAMP_MICROS would say "adjusted to UTC" (LogicalTypes.md)
      return { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } };
    case 'decimal':
      return {
        ...decimalPhysical(type.precision),
        converted_type: 'DECIMAL',
        precision: type.precision,
        scale: type.scale,
        logical_type: { type: 'DECIMAL', precision: type.precision, scale: type.scale },
      };
    case 'list':
      throw new Error('a list is not a leaf');
  }
}

/**
 * The schema elements of one column, depth first: one element for a scalar, and the three-level
 * LIST structure for a list (`<name> (LIST) { repeated group list { optional element } }`,
 * LogicalTypes.md "Lists"), recursively for lists of lists.
 */
function columnElements(name: string, type: LakeType, nullable: boolean, fieldId: number | undefined): SchemaElement[] {
  const repetition_type = nullable ? 'OPTIONAL' : 'REQUIRED';
  const id = fieldId === undefined ? {} : { field_id: fieldId };
  if (type.kind !== 'list') return [{ name, repetition_type, ...leaf(type), ...id }];
  return [
    { name, repetition_type, num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' }, ...id },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    ...columnElements('element', type.element, true, type.elementFieldId),
  ];
}

/** Throws unless the column can be written: a name, a decimal's precision 1..38 and scale 0..precision. */
function checkColumn(column: LakeColumn, seen: Set<string>): void {
  const fail = (why: string): never => {
    throw new CdcError('PARQUET_SCHEMA_INVALID', `column ${JSON.stringify(column.name)} (${lakeTypeText(column.type)}): ${why}`, {
      remedy: 'describe lake columns as LakeColumn documents them (src/sinks/lake/lake-type.ts); this is a bug in the caller',
      context: { column: column.name },
    });
  };
  if (column.name === '') fail('empty name');
  if (seen.has(column.name)) fail('a second column of this name');
  seen.add(column.name);
  const check = (type: LakeType): void => {
    if (type.kind === 'list') check(type.element);
    if (type.kind !== 'decimal') return;
    const { precision, scale } = type;
    if (!Number.isInteger(precision) || precision < 1 || precision > 38) fail('decimal precision must be 1..38');
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) fail('decimal scale must be 0..precision');
  };
  check(column.type);
}

/**
 * The Parquet schema (flat, depth-first, root first) of `columns`.
 * @throws {CdcError} `PARQUET_SCHEMA_INVALID` for an empty or repeated name or an impossible decimal
 */
export function parquetSchema(columns: readonly LakeColumn[]): SchemaElement[] {
  const seen = new Set<string>();
  for (const column of columns) checkColumn(column, seen);
  return [
    { name: 'root', num_children: columns.length },
    ...columns.flatMap((c) => columnElements(c.name, c.type, c.nullable, c.fieldId)),
  ];
}
