/**
 * Independent readers of what the lake sinks write: delta-rs (`deltalake` from PyPI) in a Python
 * virtual environment that `.ci/run` creates from `oracles/requirements.txt`. Tests call them as
 * child processes and compare what they read with the source; cdc-merge's own code reads
 * nothing here.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ORACLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../oracles');

/**
 * The oracles' Python: `CDC_MERGE_ORACLES_PYTHON`, else
 * `${CDC_MERGE_CACHE:-~/.cache/cdc-merge}/venv-oracles/bin/python` (where `.ci/run` installs it).
 * @throws {Error} saying how to create the environment when it is missing.
 */
export function oraclesPython(): string {
  const fromEnv = process.env.CDC_MERGE_ORACLES_PYTHON;
  if (fromEnv) return fromEnv;
  const cache = process.env.CDC_MERGE_CACHE ?? join(homedir(), '.cache', 'cdc-merge');
  const python = join(cache, 'venv-oracles', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(
      `the test oracles' Python environment is missing (${python}): create it with ` +
        `python3 -m venv ${join(cache, 'venv-oracles')} && ${python} -m pip install -r oracles/requirements.txt ` +
        '(bash .ci/run does this), or set CDC_MERGE_ORACLES_PYTHON',
    );
  }
  return python;
}

/** A JSON value as the oracle prints it (decimals and large integers as strings, bytes as hex). */
export type OracleValue = null | boolean | number | string | OracleValue[] | { [key: string]: OracleValue };

/** What delta-rs reads of a Delta table (`oracles/delta_read.py`). */
export interface DeltaReading {
  /** The table's latest version. */
  readonly version: number;
  readonly protocol: {
    readonly minReaderVersion: number;
    readonly minWriterVersion: number;
    readonly readerFeatures: string[] | null;
    readonly writerFeatures: string[] | null;
  };
  /** `metaData.configuration`. */
  readonly configuration: Record<string, string>;
  readonly partitionColumns: string[];
  /** Column names and Arrow types as delta-rs maps them, in table order. */
  readonly schema: { name: string; type: string }[];
  /** The snapshot's rows, sorted by their JSON text. */
  readonly rows: Record<string, OracleValue>[];
  /** Data files in the snapshot. */
  readonly files: number;
  /** With `cdfFrom`: the change data feed (`_change_type`, `_commit_version` per row), sorted. */
  readonly cdf?: Record<string, OracleValue>[];
}

/**
 * Reads a Delta table with delta-rs: its snapshot (the latest, or as of `version`), and the
 * change data feed from version `cdfFrom` when given.
 * @param uri a local path or `s3://…` URI
 * @param storageOptions delta-rs storage options (for S3: `AWS_ENDPOINT_URL`, keys, …)
 * @throws {Error} with delta-rs' message when it cannot read the table.
 */
export function readDeltaTable(uri: string, options: { version?: number; cdfFrom?: number; storageOptions?: Record<string, string> } = {}): Promise<DeltaReading> {
  const args = [join(ORACLES_DIR, 'delta_read.py'), uri];
  if (options.version !== undefined) args.push('--version', String(options.version));
  if (options.cdfFrom !== undefined) args.push('--cdf', String(options.cdfFrom));
  if (options.storageOptions) args.push('--storage-options', JSON.stringify(options.storageOptions));
  return new Promise((resolvePromise, reject) => {
    execFile(oraclesPython(), args, { maxBuffer: 1024 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`delta-rs could not read ${uri}: ${stderr.trim() || error.message}`));
      else resolvePromise(JSON.parse(stdout) as DeltaReading);
    });
  });
}

/** What pyarrow reads of a Parquet file (`oracles/parquet_file.py read`). */
export interface ParquetReading {
  /** Top-level fields: Arrow type as pyarrow prints it (`decimal128(38, 10)`), field id or null. */
  readonly schema: { name: string; type: string; fieldId: number | null; nullable: boolean }[];
  /** Leaf columns of the first row group: physical and logical type, codec, exact statistics. */
  readonly columns: {
    path: string;
    physical: string;
    logical: string;
    compression: string | null;
    min: string | boolean | null;
    max: string | boolean | null;
    nullCount: number | null;
  }[];
  /**
   * Rows in file order. Integers, dates (days) and timestamps (µs since the epoch) as decimal
   * strings, decimals as their unscaled integer string, floats as the hex of their 8 bytes
   * (big-endian), bytes as hex.
   */
  readonly rows: OracleValue[][];
  readonly numRows: number;
}

function runOracle(args: string[], what: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(oraclesPython(), [join(ORACLES_DIR, 'parquet_file.py'), ...args], { maxBuffer: 1024 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the oracle could not ${what}: ${stderr.trim() || error.message}`));
      else resolvePromise(stdout);
    });
  });
}

/**
 * Reads a Parquet file with pyarrow.
 * @throws {Error} with pyarrow's message when it cannot read the file.
 */
export async function readParquetWithPyarrow(path: string): Promise<ParquetReading> {
  return JSON.parse(await runOracle(['read', path], `read ${path}`)) as ParquetReading;
}

/**
 * Reads a Parquet file with delta-rs, as the one data file of a Delta table made for it
 * (`oracles/parquet_file.py delta`): Arrow types as delta-rs maps them, rows as in
 * {@link ParquetReading}.
 * @throws {Error} with delta-rs' message when it cannot read the file.
 */
export async function readParquetWithDeltaRs(path: string): Promise<{ schema: { name: string; type: string }[]; rows: OracleValue[][] }> {
  return JSON.parse(await runOracle(['delta', path], `read ${path} as a Delta table`)) as { schema: { name: string; type: string }[]; rows: OracleValue[][] };
}

/**
 * Writes the sample table of `oracles/parquet_file.py` into `dir` with pyarrow (DataPage V1,
 * zstd, dictionary pages) and with delta-rs' writer; returns the Parquet files' paths.
 */
export async function writeParquetWithPyarrow(dir: string): Promise<{ pyarrow: string; deltars: string[] }> {
  return JSON.parse(await runOracle(['write', dir], `write into ${dir}`)) as { pyarrow: string; deltars: string[] };
}
