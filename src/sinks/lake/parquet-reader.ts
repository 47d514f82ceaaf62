/**
 * Reads Parquet files written by anyone (delta-rs, Spark, pyarrow, DuckDB, cdc-merge) into lake
 * rows, through hyparquet with hyparquet-compressors (every codec: snappy, zstd, gzip, brotli,
 * lz4), exactly: int64 and decimals never pass through a JS `number`.
 *
 * hyparquet turns DECIMAL into a JS number and timestamps into `Date` (milliseconds). So the
 * reader hands hyparquet a copy of the footer's schema without the DECIMAL annotation (hyparquet
 * then returns the stored integer or bytes, which this module turns into the unscaled bigint),
 * and parsers that keep timestamps as bigint microseconds and dates as day numbers.
 * Physical storage of each logical type: apache/parquet-format LogicalTypes.md.
 */
import { parquetMetadata, parquetRead, type FileMetaData, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { CdcError } from '../../errors.js';
import { lakeTypeText, type LakeColumn, type LakeType, type LakeValue } from './lake-type.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Floor division of bigints (toward −∞, so instants before 1970 round down like later ones). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** hyparquet parsers that keep values exact: timestamps as bigint µs, dates as day numbers. */
const PARSERS = {
  timestampFromMilliseconds: (v: bigint): unknown => (typeof v === 'bigint' ? v * 1000n : v),
  timestampFromMicroseconds: (v: bigint): unknown => v,
  // nanoseconds (and INT96) are truncated to microseconds, toward −∞
  timestampFromNanoseconds: (v: bigint): unknown => (typeof v === 'bigint' ? floorDiv(v, 1000n) : v),
  dateFromDays: (v: number): unknown => v,
  jsonFromBytes: (v: Uint8Array): unknown => (v instanceof Uint8Array ? utf8.decode(v) : v),
};

function isDecimal(element: SchemaElement): boolean {
  return element.converted_type === 'DECIMAL' || element.logical_type?.type === 'DECIMAL';
}

/** The decimal's scale as the file stores it. */
function decimalScale(element: SchemaElement): number {
  const logical = element.logical_type;
  return logical?.type === 'DECIMAL' ? logical.scale : (element.scale ?? 0);
}

/** Big-endian two's complement bytes as a bigint. */
function signedBigEndian(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return BigInt.asIntN(bytes.length * 8, value);
}

/** A top-level column of the file: its schema elements, depth first (the column's first). */
function fileColumns(metadata: FileMetaData): Map<string, SchemaElement[]> {
  const byName = new Map<string, SchemaElement[]>();
  const { schema } = metadata;
  let i = 1;
  const subtree = (): SchemaElement[] => {
    const element = schema[i++]!;
    const elements = [element];
    for (let c = 0; c < (element.num_children ?? 0); c++) elements.push(...subtree());
    return elements;
  };
  for (let c = 0; c < (schema[0]?.num_children ?? 0); c++) {
    const elements = subtree();
    byName.set(elements[0]!.name, elements);
  }
  return byName;
}

/** Turns one value hyparquet read into a {@link LakeValue} of `type`. */
type Converter = (raw: unknown) => LakeValue;

/**
 * The converter of a column of `type` whose file elements (depth first) are `elements`.
 * @throws {CdcError} `PARQUET_READ_FAILED` when the file's column cannot hold `type`'s values
 */
function converter(type: LakeType, elements: readonly SchemaElement[], name: string): Converter {
  const fail = (raw: unknown): never => {
    const got = raw instanceof Uint8Array ? 'bytes' : Array.isArray(raw) ? 'a list' : typeof raw;
    throw new CdcError('PARQUET_READ_FAILED', `column ${name}: the file holds ${got} where ${lakeTypeText(type)} was expected`, {
      remedy: 'check that the table schema matches the file (a column changed type outside cdc-merge?)',
      context: { column: name, type: lakeTypeText(type), fileType: elements[0]?.type, fileLogicalType: elements[0]?.logical_type?.type },
    });
  };
  const mismatch = (stored: string): never => {
    throw new CdcError('PARQUET_READ_FAILED', `column ${name}: the file stores ${stored}, which cannot be read as ${lakeTypeText(type)}`, {
      remedy: 'check that the table schema matches the file (a column changed type outside cdc-merge?)',
      context: { column: name, type: lakeTypeText(type) },
    });
  };
  const element = elements[0]!;
  switch (type.kind) {
    case 'int16':
    case 'int32':
    case 'date':
    case 'float32':
    case 'float64':
      return (raw) => (typeof raw === 'number' ? raw : fail(raw));
    case 'int64':
    case 'timestamp-utc':
    case 'timestamp-ntz':
      return (raw) => (typeof raw === 'bigint' ? raw : typeof raw === 'number' && Number.isInteger(raw) ? BigInt(raw) : fail(raw));
    case 'bool':
      return (raw) => (typeof raw === 'boolean' ? raw : fail(raw));
    case 'string':
      return (raw) => (typeof raw === 'string' ? raw : raw instanceof Uint8Array ? utf8.decode(raw) : fail(raw));
    case 'binary':
      return (raw) => (raw instanceof Uint8Array ? raw.slice() : typeof raw === 'string' ? encoder.encode(raw) : fail(raw));
    case 'decimal': {
      if (!isDecimal(element)) return mismatch(`${element.type ?? 'a group'} without a DECIMAL annotation`);
      const shift = type.scale - decimalScale(element);
      if (shift < 0) return mismatch(`decimal(${element.precision},${decimalScale(element)}), of a larger scale`);
      const factor = 10n ** BigInt(shift);
      const { scale } = type;
      return (raw) => {
        const stored = typeof raw === 'bigint' ? raw : typeof raw === 'number' ? BigInt(raw) : raw instanceof Uint8Array ? signedBigEndian(raw) : fail(raw);
        return { unscaled: stored * factor, scale };
      };
    }
    case 'list': {
      // <name> (LIST) { repeated group list { element } }: the element's elements start at 2
      // (two-level lists from old writers have the element right under the repeated field)
      const repeated = elements[1];
      if (repeated?.repetition_type !== 'REPEATED') return mismatch(`${element.type ?? 'a group'} that is not a list`);
      const elementElements = repeated.type === undefined && repeated.num_children === 1 ? elements.slice(2) : elements.slice(1);
      const convert = converter(type.element, elementElements, `${name}[]`);
      return (raw) => (Array.isArray(raw) ? raw.map((v: unknown) => (v == null ? null : convert(v))) : fail(raw));
    }
  }
}

/**
 * Decodes a Parquet file written by anyone (delta-rs, Spark, pyarrow, DuckDB, cdc-merge) into
 * one array per column of `columns` (matched by top-level name; a column missing from the file
 * reads as all null, for schema evolution), each `numRows` long. Values as {@link LakeValue}
 * documents them, exactly: int64 as bigint, decimals as their unscaled bigint (rescaled up when
 * the file's scale is smaller than the column's), timestamps in µs (millisecond files
 * multiplied, nanosecond and INT96 files truncated toward −∞), int32 read into an int64 column
 * widened. Columnar, so a caller that needs few of the rows builds only those.
 * @throws {CdcError} `PARQUET_READ_FAILED` when the bytes are not a Parquet file hyparquet can
 *   read, or a column's stored type cannot hold its lake type's values
 */
export async function readParquetColumns(bytes: Uint8Array, columns: readonly LakeColumn[]): Promise<{ numRows: number; columns: LakeValue[][] }> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const failed = (cause: unknown): CdcError =>
    new CdcError('PARQUET_READ_FAILED', `cannot read a Parquet file of ${bytes.length} bytes: ${cause instanceof Error ? cause.message : String(cause)}`, {
      remedy: 'the file is damaged or uses a Parquet feature hyparquet does not read; see the cause',
      cause,
    });
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(buffer);
  } catch (error) {
    throw failed(error);
  }
  const inFile = fileColumns(metadata);
  const numRows = Number(metadata.num_rows);
  const out: LakeValue[][] = columns.map(() => new Array<LakeValue>(numRows).fill(null));
  const present = columns.map((c, i) => ({ column: c, i })).filter((c) => inFile.has(c.column.name));
  if (present.length === 0 || numRows === 0) return { numRows, columns: out };
  const byName = new Map(present.map((c) => [c.column.name, { target: out[c.i]!, convert: converter(c.column.type, inFile.get(c.column.name)!, c.column.name) }]));

  // hyparquet would turn DECIMAL into a float: strip the annotation, keep the stored values.
  const plain: FileMetaData = {
    ...metadata,
    schema: metadata.schema.map((e) => (isDecimal(e) ? { ...e, converted_type: undefined, logical_type: undefined } : e)),
  };
  let conversionError: unknown;
  try {
    await parquetRead({
      file: buffer,
      metadata: plain,
      columns: present.map((c) => c.column.name),
      compressors,
      utf8: false,
      parsers: PARSERS,
      onChunk: (chunk) => {
        const entry = byName.get(chunk.columnName);
        if (!entry) return;
        try {
          const { target, convert } = entry;
          const data = chunk.columnData;
          for (let k = 0, r = chunk.rowStart; k < data.length; k++, r++) {
            const value = data[k] as unknown;
            target[r] = value == null ? null : convert(value);
          }
        } catch (error) {
          conversionError ??= error;
        }
      },
    });
  } catch (error) {
    throw failed(error);
  }
  if (conversionError) throw conversionError instanceof CdcError ? conversionError : failed(conversionError);
  return { numRows, columns: out };
}

/**
 * Decodes a Parquet file into rows in `columns` order: {@link readParquetColumns}, transposed.
 * @throws {CdcError} `PARQUET_READ_FAILED` (see {@link readParquetColumns})
 */
export async function readParquet(bytes: Uint8Array, columns: readonly LakeColumn[]): Promise<LakeValue[][]> {
  const read = await readParquetColumns(bytes, columns);
  const rows: LakeValue[][] = new Array<LakeValue[]>(read.numRows);
  const width = columns.length;
  for (let r = 0; r < read.numRows; r++) {
    const row = new Array<LakeValue>(width);
    for (let c = 0; c < width; c++) row[c] = read.columns[c]![r]!;
    rows[r] = row;
  }
  return rows;
}
