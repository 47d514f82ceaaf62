/**
 * Writes lake rows as a Parquet file through hyparquet-writer (docs/benchmarks.md "Parquet writer
 * choice" says why that library): snappy pages, one row group per `rowGroupRows` rows, footer
 * statistics, field ids, and exact per-column {@link ColumnStats} for the table formats' logs.
 *
 * What the file holds (apache/parquet-format, LogicalTypes.md): types as in `parquet-schema.ts`;
 * pages are DATA_PAGE_V2, the only kind hyparquet-writer 0.17 writes (Delta PROTOCOL.md says
 * writers SHOULD default to V1 pages; delta-rs, pyarrow, Spark 3+, Trino and DuckDB read V2 —
 * the lake tests check delta-rs and pyarrow).
 */
import { ByteWriter, ParquetWriter, type ColumnSource } from 'hyparquet-writer';
import { CdcError } from '../../errors.js';
import { ColumnStatsBuilder } from './column-stats.js';
import type { LakeColumn, LakeDecimal, LakeType, LakeValue, ParquetFile } from './lake-type.js';
import { checkLakeValue } from './lake-value.js';
import { parquetSchema } from './parquet-schema.js';

/** Options of {@link ParquetFileWriter} and {@link writeParquet}. */
export interface ParquetWriteOptions {
  /**
   * Rows per row group (default {@link DEFAULT_ROW_GROUP_ROWS}). The writer holds at most one
   * row group's values, plus the encoded file so far.
   */
  readonly rowGroupRows?: number;
  /** Key/value pairs for the footer's `key_value_metadata`. */
  readonly keyValueMetadata?: Readonly<Record<string, string>>;
}

/**
 * 100,000 rows: hyparquet-writer encodes a row group whole (every column's values, levels and
 * pages at once), so this bounds the writer's memory to about 10-50 MB for tables of a dozen
 * columns, while row groups stay large enough for readers to skip by their statistics.
 */
export const DEFAULT_ROW_GROUP_ROWS = 100_000;

/**
 * hyparquet-writer's in-memory writer, emptied into a list of chunks after each row group
 * (hyparquet-writer calls `flush` then), so its buffer holds one row group's pages instead of
 * doubling (and copying) up to the whole file's size.
 */
class ChunkedByteWriter extends ByteWriter {
  readonly chunks: Uint8Array[] = [];

  flush(): void {
    if (this.index === 0) return;
    this.chunks.push(new Uint8Array(this.buffer.slice(0, this.index)));
    this.index = 0;
  }

  /** The whole file, in one array. */
  bytes(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    this.chunks.length = 0;
    return out;
  }
}

/** A value as hyparquet-writer takes it: decimals as their unscaled bigint, lists element-wise. */
function toWriterValue(type: LakeType, value: LakeValue): unknown {
  if (value === null) return null;
  if (type.kind === 'decimal') return (value as LakeDecimal).unscaled;
  if (type.kind === 'list') return (value as readonly LakeValue[]).map((v) => toWriterValue(type.element, v));
  return value;
}

/**
 * An incremental Parquet writer: add rows, then {@link finish} for the file. Row groups are
 * encoded as they fill, so memory stays bounded by one row group plus the encoded bytes.
 * Not reusable after `finish`.
 */
export class ParquetFileWriter {
  private readonly output = new ChunkedByteWriter();
  private readonly writer: ParquetWriter;
  private readonly stats: ColumnStatsBuilder[];
  private buffered: unknown[][];
  private bufferedRows = 0;
  private numRecords = 0;
  private readonly rowGroupRows: number;
  private finished = false;

  /**
   * @throws {CdcError} `PARQUET_SCHEMA_INVALID` for columns that cannot be written
   * @throws {RangeError} when `rowGroupRows` is not a positive integer
   */
  constructor(
    private readonly columns: readonly LakeColumn[],
    options: ParquetWriteOptions = {},
  ) {
    this.rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    if (!Number.isInteger(this.rowGroupRows) || this.rowGroupRows <= 0) {
      throw new RangeError(`rowGroupRows must be a positive integer, not ${this.rowGroupRows}`);
    }
    const metadata = options.keyValueMetadata;
    this.writer = new ParquetWriter({
      writer: this.output,
      schema: parquetSchema(columns),
      codec: 'SNAPPY',
      statistics: true,
      createdBy: 'cdc-merge (hyparquet-writer)',
      ...(metadata ? { kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })) } : {}),
    });
    this.stats = columns.map((c) => new ColumnStatsBuilder(c.type));
    this.buffered = columns.map(() => []);
  }

  /**
   * Adds one row: its values in the columns' order.
   * @throws {CdcError} `PARQUET_VALUE_INVALID` for a value not of its column's type, a null in a
   *   non-nullable column, or a row of the wrong length; the row is then not added
   */
  add(row: readonly LakeValue[]): void {
    if (this.finished) throw new Error('ParquetFileWriter: add after finish');
    const { columns } = this;
    if (row.length !== columns.length) {
      throw new CdcError('PARQUET_VALUE_INVALID', `a row of ${row.length} values for ${columns.length} columns`, {
        remedy: 'pass one value per column, in the columns order; this is a bug in the caller',
      });
    }
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      const value = row[c]!;
      if (value === null) {
        if (!column.nullable) {
          throw new CdcError('PARQUET_VALUE_INVALID', `column ${column.name}: null in a non-nullable column`, {
            remedy: 'declare the column nullable or give it a value; this is a bug in the caller',
            context: { column: column.name },
          });
        }
      } else {
        checkLakeValue(column.type, value, column.name);
      }
    }
    for (let c = 0; c < columns.length; c++) {
      const value = row[c]!;
      this.stats[c]!.add(value);
      this.buffered[c]!.push(toWriterValue(columns[c]!.type, value));
    }
    this.bufferedRows++;
    this.numRecords++;
    if (this.bufferedRows >= this.rowGroupRows) this.flushRowGroup();
  }

  /** Adds rows one by one (see {@link add}). */
  addRows(rows: Iterable<readonly LakeValue[]>): void {
    for (const row of rows) this.add(row);
  }

  /** Encodes the buffered rows as one row group. */
  private flushRowGroup(): void {
    if (this.bufferedRows === 0) return;
    const columnData: ColumnSource[] = this.columns.map((c, i) => ({ name: c.name, data: this.buffered[i]! }));
    const pending = this.writer.write({ columnData, rowGroupSize: this.bufferedRows });
    if (pending) throw new Error('hyparquet-writer: an in-memory write became asynchronous');
    this.buffered = this.columns.map(() => []);
    this.bufferedRows = 0;
  }

  /** Writes the last row group and the footer; returns the file. */
  finish(): ParquetFile {
    if (this.finished) throw new Error('ParquetFileWriter: finish twice');
    this.flushRowGroup();
    this.finished = true;
    if (this.writer.finish()) throw new Error('hyparquet-writer: an in-memory finish became asynchronous');
    return {
      bytes: this.output.bytes(),
      numRecords: this.numRecords,
      stats: this.stats.map((s) => s.stats()),
    };
  }
}

/**
 * Encodes rows (values in `columns` order) as one Parquet file (snappy, field ids from
 * `LakeColumn.fieldId`, footer statistics), and returns it with exact column statistics.
 * For many rows, feed a {@link ParquetFileWriter} instead of building the array.
 * @throws {CdcError} `PARQUET_SCHEMA_INVALID`, `PARQUET_VALUE_INVALID` (see ParquetFileWriter)
 */
export function writeParquet(
  columns: readonly LakeColumn[],
  rows: readonly (readonly LakeValue[])[],
  options: ParquetWriteOptions = {},
): ParquetFile {
  const writer = new ParquetFileWriter(columns, options);
  writer.addRows(rows);
  return writer.finish();
}
