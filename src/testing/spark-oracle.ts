/**
 * A second, independent reader of the Delta sink's tables: Apache Spark with delta-spark, Delta's
 * reference implementation (`oracles/spark_delta_read.py`), from the optional environment that
 * `oracles/spark/setup.sh` installs into `${CDC_MERGE_CACHE:-~/.cache/cdc-merge}/spark-oracle`
 * (pyspark, delta-spark and Delta's jars from Maven Central; about 525 MB). Spark takes tens of
 * seconds to start, so one call reads many tables in one session.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OracleValue } from './python-oracles.js';

const ORACLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../oracles');

/** What Spark reads of one Delta table; `error` alone when it refuses the table. */
export interface SparkDeltaReading {
  /** Spark's message when it cannot read the table at all (then no other field is there). */
  readonly error?: string;
  /** The table's latest version. */
  readonly version: number;
  /** Minimum versions and the table features, reader and writer together, sorted. */
  readonly protocol: { readonly minReaderVersion: number; readonly minWriterVersion: number; readonly tableFeatures: string[] };
  /** `metaData.configuration`. */
  readonly configuration: Record<string, string>;
  readonly partitionColumns: string[];
  /** Logical column names and Spark's type names (`decimal(12,2)`, `timestamp_ntz`, `array<int>`), in table order. */
  readonly schema: { name: string; type: string }[];
  /** The snapshot's rows in the form of `oracles/delta_read.py`, sorted by their JSON text. */
  readonly rows: Record<string, OracleValue>[];
  /** Data files in the snapshot. */
  readonly files: number;
  /** With `cdfFrom`: the change data feed (`_change_type`, `_commit_version` per row), sorted. */
  readonly cdf?: Record<string, OracleValue>[];
  /** With `cdfFrom`: Spark's message when it reads the snapshot but refuses the change feed. */
  readonly cdfError?: string;
  /**
   * True when Spark refused the feed across a rename or drop under column mapping
   * (`DELTA_CHANGE_DATA_FEED_INCOMPATIBLE_SCHEMA_CHANGE` in `cdfError`) and `cdf` was read again
   * as of the latest schema (`…unsafeBatchReadOnIncompatibleSchemaChanges.enabled`): older
   * rows' columns found by physical name, dropped columns left out.
   */
  readonly cdfLatestSchema?: boolean;
}

/** The Spark oracle's folder: `venv/`, `jars/` and the `stamp` of what was installed. */
export function sparkOracleHome(): string {
  return join(process.env.CDC_MERGE_CACHE ?? join(homedir(), '.cache', 'cdc-merge'), 'spark-oracle');
}

/**
 * Installs the Spark oracle when it is missing or older than `oracles/spark/requirements.txt`
 * and `oracles/spark/pom.xml` (`bash oracles/spark/setup.sh`: PyPI and Maven Central, about 20 s
 * on a fast network); returns at once when it is there.
 * @throws {Error} when the install fails (its output is on the test's stderr).
 */
export function ensureSparkOracle(): void {
  const stamp = ['requirements.txt', 'pom.xml'].map((f) => readFileSync(join(ORACLES_DIR, 'spark', f), 'utf8')).join('');
  const installed = join(sparkOracleHome(), 'stamp');
  if (existsSync(installed) && readFileSync(installed, 'utf8') === stamp) return;
  execFileSync('bash', [join(ORACLES_DIR, 'spark', 'setup.sh')], { stdio: 'inherit' });
}

/**
 * Reads Delta tables with Spark in one session: each table's snapshot and, with `cdfFrom`, its
 * change data feed from that version (`cdfFromOf` sets another version, or none with null, for
 * the paths it names). A table Spark refuses comes back with `error` (or `cdfError` for the feed
 * alone) rather than failing the others.
 * @param paths local table directories
 * @param timeoutMs how long the whole session may take (default 5 minutes; Spark starts in 10–40 s)
 * @returns the readings keyed by path, as given
 * @throws {Error} with Spark's output when the session itself fails, or when the oracle is not installed.
 */
export function readDeltaTablesWithSpark(
  paths: readonly string[],
  options: { cdfFrom?: number; cdfFromOf?: Readonly<Record<string, number | null>>; timeoutMs?: number } = {},
): Promise<Record<string, SparkDeltaReading>> {
  const home = sparkOracleHome();
  const python = join(home, 'venv', 'bin', 'python');
  if (!existsSync(python)) throw new Error(`the Spark oracle is not installed in ${home}: run bash oracles/spark/setup.sh (or ensureSparkOracle())`);
  const args = [join(ORACLES_DIR, 'spark_delta_read.py'), '--jars', join(home, 'jars')];
  if (options.cdfFrom !== undefined) args.push('--cdf', String(options.cdfFrom));
  for (const [path, from] of Object.entries(options.cdfFromOf ?? {})) args.push('--cdf-of', `${path}=${from ?? 'none'}`);
  args.push(...paths);
  return new Promise((resolvePromise, reject) => {
    execFile(python, args, { maxBuffer: 1024 * 1024 * 1024, timeout: options.timeoutMs ?? 300_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`Spark could not read ${paths.join(', ')}: ${stderr.trim() || error.message}`));
      else resolvePromise(JSON.parse(stdout) as Record<string, SparkDeltaReading>);
    });
  });
}
