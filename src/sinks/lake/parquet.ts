/**
 * The Parquet codec of the lake sinks (Delta Lake, Iceberg): lake columns and values
 * (`lake-type.ts`) to and from Parquet files. Writing goes through hyparquet-writer, reading
 * through hyparquet + hyparquet-compressors (docs/benchmarks.md "Parquet writer choice").
 *
 * Spec: apache/parquet-format (README, LogicalTypes.md).
 */
export type { ColumnStats, LakeColumn, LakeDecimal, LakeType, LakeValue, ParquetFile } from './lake-type.js';
export { lakeTypeText } from './lake-type.js';
export { compareLakeValues, compareUtf8 } from './lake-value.js';
export { DEFAULT_ROW_GROUP_ROWS, ParquetFileWriter, writeParquet, type ParquetWriteOptions } from './parquet-writer.js';
export { readParquet, readParquetColumns } from './parquet-reader.js';
