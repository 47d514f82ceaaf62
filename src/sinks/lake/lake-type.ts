/**
 * Column types and values as the lake formats (Delta Lake, Iceberg) store them: the shared
 * vocabulary of the lake sinks and their Parquet codec (`parquet.ts`).
 *
 * Spec sources: apache/parquet-format LogicalTypes.md (how each type is stored), Delta
 * PROTOCOL.md §"Primitive Types", Iceberg spec §"Schemas and Data Types".
 */

/**
 * A column type as the lake formats store it.
 *
 * - `int16`, `int32`, `int64`: signed integers of that many bits.
 * - `float32`, `float64`: IEEE 754 binary32 / binary64.
 * - `bool`, `string` (UTF-8 text), `binary` (bytes).
 * - `date`: a calendar day, no time zone.
 * - `timestamp-utc`: an instant, microsecond precision (Delta `timestamp`, Iceberg `timestamptz`).
 * - `timestamp-ntz`: a wall-clock time without zone, microsecond precision (Delta
 *   `timestamp_ntz`, Iceberg `timestamp`).
 * - `decimal`: exact decimal, `precision` 1..38 digits of which `scale` (0..precision) after the point.
 * - `list`: a list of `element`; elements may be null. `elementFieldId` is the element's field
 *   id (Iceberg `element-id`), written to Parquet when given.
 */
export type LakeType =
  | {
      readonly kind:
        | 'int16'
        | 'int32'
        | 'int64'
        | 'float32'
        | 'float64'
        | 'bool'
        | 'string'
        | 'binary'
        | 'date'
        | 'timestamp-utc'
        | 'timestamp-ntz';
    }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'list'; readonly element: LakeType; readonly elementFieldId?: number };

/** A column of a lake table. */
export interface LakeColumn {
  /** The column's name, matched exactly (case-sensitive) when reading. */
  readonly name: string;
  readonly type: LakeType;
  /** False: every value must be non-null (Parquet `REQUIRED`). */
  readonly nullable: boolean;
  /** Parquet `field_id` (Iceberg needs one on every column; Delta column mapping `id` mode too). */
  readonly fieldId?: number;
}

/** An exact decimal: the value is `unscaled × 10^-scale`. */
export interface LakeDecimal {
  readonly unscaled: bigint;
  /** Digits after the point; equals its column's scale. */
  readonly scale: number;
}

/**
 * A value of a {@link LakeType}, or `null` for SQL NULL:
 * int16/int32/float64: `number`; float32: `number` (written rounded to binary32, `Math.fround`); int64: `bigint`; bool: `boolean`; string: `string`;
 * binary: `Uint8Array`; date: `number` (days since 1970-01-01, may be negative);
 * timestamp-utc/timestamp-ntz: `bigint` (microseconds since 1970-01-01T00:00:00, UTC for
 * timestamp-utc); decimal: {@link LakeDecimal}; list: an array of element values (each may be null).
 * int64 and decimal values never pass through a JS `number`.
 */
export type LakeValue = null | number | bigint | boolean | string | Uint8Array | LakeDecimal | readonly LakeValue[];

/**
 * What a file's values of one column span.
 * `min`/`max` are exact (never truncated or rounded; ordering as in `column-stats.ts`), and are
 * omitted for `list` and `binary` columns, and when no value bounds them (all null, or all NaN).
 * NaN is never a bound; a zero minimum is `-0` and a zero maximum `+0` (parquet-format).
 */
export interface ColumnStats {
  readonly min?: LakeValue;
  readonly max?: LakeValue;
  /** Rows whose value is null (for a list column: whose list is null). */
  readonly nullCount: number;
}

/** A Parquet file as written: its bytes, row count and per-column statistics. */
export interface ParquetFile {
  readonly bytes: Uint8Array;
  readonly numRecords: number;
  /** One entry per column, in the columns' order. */
  readonly stats: readonly ColumnStats[];
}

/** `decimal(38,10)`, `list<int32>`: a type as text, for messages. */
export function lakeTypeText(type: LakeType): string {
  if (type.kind === 'decimal') return `decimal(${type.precision},${type.scale})`;
  if (type.kind === 'list') return `list<${lakeTypeText(type.element)}>`;
  return type.kind;
}
