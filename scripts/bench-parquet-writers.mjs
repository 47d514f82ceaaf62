// Compares Parquet writers from npm on the same CDC-like data (docs/benchmarks.md, "Parquet writer
// choice"): write throughput (median of --runs), peak memory, output size, and whether pyarrow and
// delta-rs read every value back exactly.
//
//   node scripts/bench-parquet-writers.mjs [--rows 1000000] [--runs 3] [--only NAME,...] [--keep DIR]
//
// Writers: hyparquet-writer (a dependency) directly and through cdc-merge's codec (`codec`, from
// dist/: run `npm run build` first), parquet-wasm + apache-arrow and @duckdb/node-api (not
// dependencies: `npm install --no-save parquet-wasm@0.8.0 apache-arrow@21.2.0 @duckdb/node-api@1.5.6-r.1`
// first; a writer whose package is missing is skipped). Each writer runs in its own child process
// (so peak RSS is its own) on rows generated there from one seed. The rows are what a sink holds:
// an array of rows of JS values (bigint for int64, decimals and timestamps), converted to each
// library's input inside the timed part. The checks need the oracles' Python (pyarrow, deltalake;
// src/testing/python-oracles.ts): scripts/parquet-digest.py hashes what they read, row by row, and
// that hash must equal the one computed here from the generated rows.
import { Buffer } from 'node:buffer';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, homedir, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextEncoder } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const WRITERS = ['hyparquet-writer', 'codec', 'parquet-wasm', 'duckdb'];
const ROW_GROUP_ROWS = 100_000;
/** The heap cap of the streamed run: well below the ~1.3 GiB the 1,000,000 rows take in memory. */
const STREAM_HEAP_MIB = 256;
const SCALE = 10;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

// ---- data -----------------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so every child makes the same rows. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The columns: name, Delta type, nullable. Values per row in this order. */
const COLUMNS = [
  ['id', 'long', false],
  ['qty', 'integer', true],
  ['note', 'string', true],
  ['amount', `decimal(38,${SCALE})`, true],
  ['changed_at', 'timestamp', true],
  ['active', 'boolean', true],
  ['payload', 'binary', true],
  ['score', 'double', true],
];

const LETTERS = 'abcdefghijklmnopqrstuvwxyzäöüé€ ';

/** `count` CDC-like rows; about 10 % of each nullable column is null. */
function makeRows(count) {
  return Array.from(rowStream(count));
}

/** The rows of {@link makeRows}, made one at a time. */
function* rowStream(count) {
  const r = random(20261205);
  const nul = () => r() < 0.1;
  for (let i = 0; i < count; i++) {
    let note = `order ${i} `;
    while (note.length < 30) note += LETTERS[Math.floor(r() * LETTERS.length)];
    // 18 to 28 significant digits: beyond what a float64 holds exactly
    const digits = 18 + Math.floor(r() * 11);
    let unscaled = 0n;
    for (let d = 0; d < digits; d++) unscaled = unscaled * 10n + BigInt(Math.floor(r() * 10));
    if (r() < 0.3) unscaled = -unscaled;
    const payload = new Uint8Array(16);
    for (let b = 0; b < 16; b++) payload[b] = Math.floor(r() * 256);
    yield [
      2n ** 60n + BigInt(i) * 7919n,
      nul() ? null : Math.floor(r() * 4294967296) - 2147483648,
      nul() ? null : note,
      nul() ? null : unscaled,
      nul() ? null : 1_700_000_000_000_000n + BigInt(i) * 1_000_003n - 50_000_000_000_000n,
      nul() ? null : r() < 0.5,
      nul() ? null : payload,
      nul() ? null : (r() - 0.5) * 1e6,
    ];
  }
}

const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const doubleBits = (x) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return b.toString('hex');
};

/** sha256 over one line per row, as scripts/parquet-digest.py prints them. */
function digest(rows) {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(rowLine(row));
  return hash.digest('hex');
}

function rowLine(row) {
  const text = (v, i) => {
    if (v === null) return '\\N';
    if (i === 5) return v ? '1' : '0';
    if (i === 6) return hex(v);
    if (i === 7) return doubleBits(v);
    return String(v);
  };
  return row.map(text).join('\t') + '\n';
}

// ---- writers --------------------------------------------------------------------------------

async function hyparquetWriter() {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const version = JSON.parse(readFileSync(join(HERE, '../node_modules/hyparquet-writer/package.json'), 'utf8')).version;
  const opt = (nullable) => (nullable ? 'OPTIONAL' : 'REQUIRED');
  const schema = [
    { name: 'root', num_children: COLUMNS.length },
    { name: 'id', type: 'INT64', repetition_type: 'REQUIRED', field_id: 1 },
    { name: 'qty', type: 'INT32', repetition_type: opt(true), field_id: 2 },
    { name: 'note', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: opt(true), field_id: 3 },
    { name: 'amount', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, converted_type: 'DECIMAL', precision: 38, scale: SCALE,
      logical_type: { type: 'DECIMAL', precision: 38, scale: SCALE }, repetition_type: opt(true), field_id: 4 },
    { name: 'changed_at', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: opt(true), field_id: 5 },
    { name: 'active', type: 'BOOLEAN', repetition_type: opt(true), field_id: 6 },
    { name: 'payload', type: 'BYTE_ARRAY', repetition_type: opt(true), field_id: 7 },
    { name: 'score', type: 'DOUBLE', repetition_type: opt(true), field_id: 8 },
  ];
  return {
    version: `hyparquet-writer ${version}`,
    write(rows) {
      const columnData = COLUMNS.map(([name], c) => ({ name, data: rows.map((row) => row[c]) }));
      return new Uint8Array(parquetWriteBuffer({ columnData, schema, codec: 'SNAPPY', rowGroupSize: ROW_GROUP_ROWS }));
    },
  };
}

/**
 * cdc-merge's own codec (src/sinks/lake, built into dist/ by `npm run build`): hyparquet-writer
 * fed one row group at a time, with every value checked and exact column statistics computed.
 */
async function codec() {
  const { ParquetFileWriter } = await import('../dist/sinks/lake/parquet.js');
  const types = [{ kind: 'int64' }, { kind: 'int32' }, { kind: 'string' }, { kind: 'decimal', precision: 38, scale: SCALE },
    { kind: 'timestamp-utc' }, { kind: 'bool' }, { kind: 'binary' }, { kind: 'float64' }];
  const columns = COLUMNS.map(([name, , nullable], c) => ({ name, type: types[c], nullable, fieldId: c + 1 }));
  let lakeRows;
  return {
    version: 'cdc-merge ParquetFileWriter (hyparquet-writer 0.17.0)',
    /** The rows as LakeValues (decimals as { unscaled, scale }), made once, outside the timed part. */
    prepare(rows) {
      lakeRows = rows.map((row) => row.map((v, c) => (c === 3 && v !== null ? { unscaled: v, scale: SCALE } : v)));
    },
    write() {
      const writer = new ParquetFileWriter(columns, { rowGroupRows: ROW_GROUP_ROWS });
      for (const row of lakeRows) writer.add(row);
      return writer.finish().bytes;
    },
  };
}

/** Arrow validity bitmap of `values` (null = 0), and the null count. */
function validity(values) {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) nulls++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return { nullBitmap: bitmap, nullCount: nulls };
}

/** Arrow variable-length data (offsets + bytes) of strings or byte arrays. */
function varData(values) {
  const encoder = new TextEncoder();
  const parts = values.map((v) => (v === null ? new Uint8Array(0) : typeof v === 'string' ? encoder.encode(v) : v));
  const valueOffsets = new Int32Array(values.length + 1);
  let size = 0;
  for (let i = 0; i < parts.length; i++) {
    size += parts[i].length;
    valueOffsets[i + 1] = size;
  }
  const data = new Uint8Array(size);
  for (let i = 0; i < parts.length; i++) data.set(parts[i], valueOffsets[i]);
  return { valueOffsets, data };
}

async function parquetWasm() {
  const arrow = await import('apache-arrow');
  const pw = await import('parquet-wasm');
  const version = (name) => JSON.parse(readFileSync(join(HERE, `../node_modules/${name}/package.json`), 'utf8')).version;
  const types = [
    new arrow.Int64(), new arrow.Int32(), new arrow.Utf8(), new arrow.Decimal(SCALE, 38, 128),
    new arrow.TimestampMicrosecond('UTC'), new arrow.Bool(), new arrow.Binary(), new arrow.Float64(),
  ];
  const fields = COLUMNS.map(([name, , nullable], c) =>
    new arrow.Field(name, types[c], nullable, new Map([['PARQUET:field_id', String(c + 1)]])));
  const schema = new arrow.Schema(fields);
  const column = (c, values) => {
    const type = types[c];
    const n = values.length;
    const base = { type, length: n, ...validity(values) };
    switch (c) {
      case 0: case 4: return arrow.makeData({ ...base, data: BigInt64Array.from(values, (v) => v ?? 0n) });
      case 1: return arrow.makeData({ ...base, data: Int32Array.from(values, (v) => v ?? 0) });
      case 7: return arrow.makeData({ ...base, data: Float64Array.from(values, (v) => v ?? 0) });
      case 2: case 6: return arrow.makeData({ ...base, ...varData(values) });
      case 5: {
        const bits = new Uint8Array(Math.ceil(n / 8));
        for (let i = 0; i < n; i++) if (values[i]) bits[i >> 3] |= 1 << (i & 7);
        return arrow.makeData({ ...base, data: bits });
      }
      case 3: {
        // 128-bit two's complement, little-endian 32-bit words
        const words = new Uint32Array(n * 4);
        for (let i = 0; i < n; i++) {
          let v = BigInt.asUintN(128, values[i] ?? 0n);
          for (let w = 0; w < 4; w++) { words[i * 4 + w] = Number(v & 0xffffffffn); v >>= 32n; }
        }
        return arrow.makeData({ ...base, data: words });
      }
    }
    throw new Error(`column ${c}`);
  };
  return {
    version: `parquet-wasm ${version('parquet-wasm')} (apache-arrow ${version('apache-arrow')})`,
    write(rows, pageVersion = pw.WriterVersion.V1) {
      const children = COLUMNS.map((_, c) => column(c, rows.map((row) => row[c])));
      const data = arrow.makeData({ type: new arrow.Struct(fields), length: rows.length, nullCount: 0, children });
      const table = new arrow.Table(schema, [new arrow.RecordBatch(schema, data)]);
      const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
      const props = new pw.WriterPropertiesBuilder()
        .setCompression(pw.Compression.SNAPPY)
        .setWriterVersion(pageVersion)
        .setMaxRowGroupSize(ROW_GROUP_ROWS)
        .build();
      return pw.writeParquet(wasmTable, props);
    },
  };
}

async function duckdb(dir) {
  const d = await import('@duckdb/node-api');
  const version = JSON.parse(readFileSync(join(HERE, '../node_modules/@duckdb/node-api/package.json'), 'utf8')).version;
  const instance = await d.DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const file = join(dir, 'duckdb-out.parquet');
  return {
    version: `@duckdb/node-api ${version}`,
    async write(rows) {
      await connection.run('drop table if exists t');
      await connection.run(`create table t (id bigint not null, qty integer, note varchar, amount decimal(38,${SCALE}),
        changed_at timestamptz, active boolean, payload blob, score double)`);
      const appender = await connection.createAppender('t');
      for (const row of rows) {
        appender.appendBigInt(row[0]);
        if (row[1] === null) appender.appendNull(); else appender.appendInteger(row[1]);
        if (row[2] === null) appender.appendNull(); else appender.appendVarchar(row[2]);
        if (row[3] === null) appender.appendNull(); else appender.appendDecimal(new d.DuckDBDecimalValue(row[3], 38, SCALE));
        if (row[4] === null) appender.appendNull(); else appender.appendTimestampTZ(new d.DuckDBTimestampTZValue(row[4]));
        if (row[5] === null) appender.appendNull(); else appender.appendBoolean(row[5]);
        if (row[6] === null) appender.appendNull(); else appender.appendBlob(row[6]);
        if (row[7] === null) appender.appendNull(); else appender.appendDouble(row[7]);
        appender.endRow();
      }
      appender.closeSync();
      const ids = COLUMNS.map(([name], c) => `${name}: ${c + 1}`).join(', ');
      await connection.run(`copy t to '${file}' (format parquet, compression snappy, row_group_size ${ROW_GROUP_ROWS}, field_ids {${ids}})`);
      await connection.run('drop table t');
      return new Uint8Array(readFileSync(file));
    },
  };
}

// ---- child: one writer ----------------------------------------------------------------------

async function child(name, rowsCount, runs, out) {
  const rows = makeRows(rowsCount);
  const expected = digest(rows);
  const make = { 'hyparquet-writer': hyparquetWriter, codec, 'parquet-wasm': parquetWasm, duckdb: () => duckdb(dirname(out)) }[name];
  const writer = await make();
  writer.prepare?.(rows);
  const times = [];
  let bytes;
  let dataRss = 0;
  let peakRss = 0;
  let peakRssDelta = 0;
  for (let run = 0; run < runs; run++) {
    bytes = undefined;
    globalThis.gc?.();
    // Linux: writing 5 to clear_refs resets the peak RSS (VmHWM), so each run's peak is its own.
    writeFileSync('/proc/self/clear_refs', '5');
    const before = procStatusBytes('VmRSS');
    const start = process.hrtime.bigint();
    bytes = await writer.write(rows);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
    const peak = procStatusBytes('VmHWM');
    dataRss = Math.max(dataRss, before);
    peakRss = Math.max(peakRss, peak);
    peakRssDelta = Math.max(peakRssDelta, peak - before);
  }
  writeFileSync(out, bytes);
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(JSON.stringify({
    name, version: writer.version, rows: rowsCount, times, median, rowsPerSecond: rowsCount / median,
    dataRss, peakRss, peakRssDelta, bytes: bytes.length, expected,
  }));
}

/**
 * The codec fed row by row as the rows are made, never holding them all: what a sink does. Run
 * with a small --max-old-space-size, it shows the writer's memory is bounded by one row group
 * plus the encoded file.
 */
async function streamChild(rowsCount, out) {
  const { ParquetFileWriter } = await import('../dist/sinks/lake/parquet.js');
  const types = [{ kind: 'int64' }, { kind: 'int32' }, { kind: 'string' }, { kind: 'decimal', precision: 38, scale: SCALE },
    { kind: 'timestamp-utc' }, { kind: 'bool' }, { kind: 'binary' }, { kind: 'float64' }];
  const columns = COLUMNS.map(([name, , nullable], c) => ({ name, type: types[c], nullable, fieldId: c + 1 }));
  const hash = createHash('sha256');
  writeFileSync('/proc/self/clear_refs', '5');
  const before = procStatusBytes('VmRSS');
  const start = process.hrtime.bigint();
  const writer = new ParquetFileWriter(columns, { rowGroupRows: ROW_GROUP_ROWS });
  for (const row of rowStream(rowsCount)) {
    hash.update(rowLine(row));
    writer.add(row.map((v, c) => (c === 3 && v !== null ? { unscaled: v, scale: SCALE } : v)));
  }
  const { bytes } = writer.finish();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  writeFileSync(out, bytes);
  console.log(JSON.stringify({ seconds, before, peakRss: procStatusBytes('VmHWM'), bytes: bytes.length, expected: hash.digest('hex') }));
}

/** cdc-merge's readParquet on a file of the bench: the hash of what it read, and how long it took. */
async function readChild(file) {
  const { readParquet } = await import('../dist/sinks/lake/parquet.js');
  const types = [{ kind: 'int64' }, { kind: 'int32' }, { kind: 'string' }, { kind: 'decimal', precision: 38, scale: SCALE },
    { kind: 'timestamp-utc' }, { kind: 'bool' }, { kind: 'binary' }, { kind: 'float64' }];
  const columns = COLUMNS.map(([name, , nullable], c) => ({ name, type: types[c], nullable }));
  const bytes = new Uint8Array(readFileSync(file));
  const start = process.hrtime.bigint();
  const rows = await readParquet(bytes, columns);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const hash = createHash('sha256');
  for (const row of rows) hash.update(rowLine(row.map((v, c) => (c === 3 && v !== null ? v.unscaled : v))));
  console.log(JSON.stringify({ seconds, digest: hash.digest('hex') }));
}

/** A `kB` line of /proc/self/status, in bytes. */
function procStatusBytes(key) {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${key}:`));
  return Number(line.split(/\s+/)[1]) * 1024;
}

// ---- page kinds and the type probe ----------------------------------------------------------

/** The kinds of the first data page of each column chunk (DATA_PAGE = V1, DATA_PAGE_V2). */
async function pageKinds(bytes) {
  const { parquetMetadata } = await import('hyparquet');
  const { deserializeTCompactProtocol } = await import('hyparquet/src/thrift.js');
  const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kinds = new Set();
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const header = deserializeTCompactProtocol({ view, offset: Number(chunk.meta_data.data_page_offset) });
      kinds.add(['DATA_PAGE', 'INDEX_PAGE', 'DICTIONARY_PAGE', 'DATA_PAGE_V2'][header.field_1]);
    }
  }
  return [...kinds].join(', ');
}

/**
 * Types the bench's data leaves out, written by each library into a small file for pyarrow to
 * read: int16, date, timestamp without time zone (isAdjustedToUTC=false), list<int32> with null
 * elements, with edge values.
 */
const PROBE = {
  small: [-32768, null, 32767],
  day: [-719162, 0, 2932896],
  local: [-1n, null, 253402300799999999n],
  nums: [[1, null], [], null],
};
const PROBE_EXPECTED = {
  types: ['int16', 'date32[day]', 'timestamp[us]', 'list<element: int32>'],
  rows: [['-32768', '-719162', '-1', ['1', null]], [null, '0', null, []], ['32767', '2932896', '253402300799999999', null]],
};

async function probe(name, out) {
  if (name === 'codec') {
    const { writeParquet } = await import('../dist/sinks/lake/parquet.js');
    const columns = [
      { name: 'small', type: { kind: 'int16' }, nullable: true },
      { name: 'day', type: { kind: 'date' }, nullable: true },
      { name: 'local', type: { kind: 'timestamp-ntz' }, nullable: true },
      { name: 'nums', type: { kind: 'list', element: { kind: 'int32' } }, nullable: true },
    ];
    const rows = [0, 1, 2].map((i) => Object.values(PROBE).map((values) => values[i]));
    writeFileSync(out, writeParquet(columns, rows).bytes);
  } else if (name === 'hyparquet-writer') {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const schema = [
      { name: 'root', num_children: 4 },
      // INT_16 alone: hyparquet-writer 0.17.0 writes INTEGER's bitWidth as a thrift i32 (pyarrow rejects it)
      { name: 'small', type: 'INT32', converted_type: 'INT_16', repetition_type: 'OPTIONAL' },
      { name: 'day', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' }, repetition_type: 'OPTIONAL' },
      { name: 'local', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' }, repetition_type: 'OPTIONAL' },
      { name: 'nums', converted_type: 'LIST', logical_type: { type: 'LIST' }, repetition_type: 'OPTIONAL', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT32', repetition_type: 'OPTIONAL' },
    ];
    const columnData = Object.entries(PROBE).map(([name, data]) => ({ name, data }));
    writeFileSync(out, new Uint8Array(parquetWriteBuffer({ columnData, schema })));
  } else if (name === 'parquet-wasm') {
    const arrow = await import('apache-arrow');
    const pw = await import('parquet-wasm');
    const table = new arrow.Table({
      small: arrow.vectorFromArray(PROBE.small, new arrow.Int16()),
      day: arrow.makeVector({ type: new arrow.DateDay(), length: 3, data: Int32Array.from(PROBE.day) }),
      local: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond(null), length: 3, ...validity(PROBE.local),
        data: BigInt64Array.from(PROBE.local, (v) => v ?? 0n) })),
      nums: arrow.vectorFromArray(PROBE.nums, new arrow.List(new arrow.Field('element', new arrow.Int32(), true))),
    });
    writeFileSync(out, pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'))));
  } else {
    const d = await import('@duckdb/node-api');
    const connection = await (await d.DuckDBInstance.create(':memory:')).connect();
    await connection.run(`copy (select * from (values
      ((-32768)::smallint, date '0001-01-01', timestamp '1969-12-31 23:59:59.999999', [1, null]::integer[]),
      (null, date '1970-01-01', null, []::integer[]),
      (32767, date '9999-12-31', timestamp '9999-12-31 23:59:59.999999', null)) t(small, day, local, nums))
      to '${out}' (format parquet)`);
  }
}

// ---- parent ---------------------------------------------------------------------------------

function oraclesPython() {
  if (process.env.CDC_MERGE_ORACLES_PYTHON) return process.env.CDC_MERGE_ORACLES_PYTHON;
  const cache = process.env.CDC_MERGE_CACHE ?? join(homedir(), '.cache', 'cdc-merge');
  return join(cache, 'venv-oracles', 'bin', 'python');
}

/** Writes the probe file with `name` in a child process and says how pyarrow read it. */
function runProbe(name, dir, python) {
  const out = join(dir, `${name}-probe.parquet`);
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--probe', name, '--out', out], { encoding: 'utf8' });
  if (run.status !== 0) return `write failed: ${run.stderr.trim().split('\n')[0]}`;
  if (!existsSync(python)) return 'not checked (no oracles Python)';
  const read = spawnSync(python, [join(HERE, '../oracles/parquet_file.py'), 'read', out], { encoding: 'utf8' });
  if (read.status !== 0) return `pyarrow cannot read it: ${read.stderr.trim().split('\n').at(-1)}`;
  const reading = JSON.parse(read.stdout);
  const types = reading.schema.map((f) => f.type);
  const same = JSON.stringify(types) === JSON.stringify(PROBE_EXPECTED.types) && JSON.stringify(reading.rows) === JSON.stringify(PROBE_EXPECTED.rows);
  return same ? `exact (${types.join(', ')})` : `DIFFERENT: ${types.join(', ')} ${JSON.stringify(reading.rows)}`;
}

const mib = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;

async function main() {
  const rows = Number(arg('rows', '1000000'));
  const runs = Number(arg('runs', '3'));
  const only = arg('only', WRITERS.join(',')).split(',');
  const keep = arg('keep', undefined);
  const dir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'bench-parquet-'));
  mkdirSync(dir, { recursive: true });
  const python = oraclesPython();
  console.error(`${rows} rows, median of ${runs} runs, row groups of ${ROW_GROUP_ROWS} rows, snappy; files in ${dir}`);
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, ` +
    `Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; load average at start ${load()}`);
  const results = [];
  for (const name of only) {
    const out = join(dir, `${name}.parquet`);
    const run = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', fileURLToPath(import.meta.url),
      '--child', name, '--rows', String(rows), '--runs', String(runs), '--out', out], { encoding: 'utf8', maxBuffer: 2 ** 26 });
    if (run.status !== 0) {
      const missing = /ERR_MODULE_NOT_FOUND|Cannot find (package|module)/.test(run.stderr);
      console.error(`${name}: ${missing ? 'skipped, its package is not installed' : `failed\n${run.stderr}`}`);
      continue;
    }
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1));
    const check = existsSync(python)
      ? JSON.parse(execFileSync(python, [join(HERE, 'parquet-digest.py'), out, '--delta'], { encoding: 'utf8', maxBuffer: 2 ** 26 }))
      : { pyarrow: 'no oracles Python', deltars: 'no oracles Python' };
    result.pyarrowExact = check.pyarrow === result.expected;
    result.deltaRsExact = check.deltars === result.expected;
    result.physical = check.physical;
    result.pages = await pageKinds(readFileSync(out));
    const read = spawnSync(process.execPath, ['--max-old-space-size=8192', fileURLToPath(import.meta.url), '--read', out], { encoding: 'utf8' });
    const readResult = read.status === 0 ? JSON.parse(read.stdout.trim()) : undefined;
    result.readBack = readResult
      ? `${readResult.digest === result.expected ? 'exact' : 'DIFFERENT'}, ${Math.round(rows / readResult.seconds).toLocaleString('en-US')} rows/s`
      : `failed: ${read.stderr.trim().split('\n')[0]}`;
    result.probe = runProbe(name, dir, python);
    results.push(result);
    console.error(`${name}: ${result.median.toFixed(2)} s`);
  }
  console.log(`load average at end ${load()}`);
  console.log('');
  console.log('| writer | rows/s (median) | runs (s) | RSS with the rows | peak RSS while writing | peak above the rows | file size | pyarrow exact | delta-rs exact |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |');
  for (const r of results) {
    console.log(`| ${r.version} | ${Math.round(r.rowsPerSecond).toLocaleString('en-US')} | ${r.times.map((t) => t.toFixed(2)).join(', ')} | ` +
      `${mib(r.dataRss)} | ${mib(r.peakRss)} | ${mib(r.peakRssDelta)} | ${(r.bytes / 2 ** 20).toFixed(1)} MiB | ` +
      `${r.pyarrowExact ? 'yes' : 'NO'} | ${r.deltaRsExact ? 'yes' : 'NO'} |`);
  }
  console.log('');
  console.log('| writer | data pages | int16, date, timestamp without zone, list<int32> with null elements (pyarrow) | its file read by cdc-merge readParquet |');
  console.log('| --- | --- | --- | --- |');
  for (const r of results) console.log(`| ${r.version} | ${r.pages} | ${r.probe} | ${r.readBack} |`);
  console.log('');
  for (const r of results) console.log(`${r.name}: ${r.physical}`);
  if (only.includes('codec')) {
    // The codec again, rows streamed into it, heap capped: bounded memory, or a crash.
    const out = join(dir, 'codec-stream.parquet');
    const run = spawnSync(process.execPath, [`--max-old-space-size=${STREAM_HEAP_MIB}`, fileURLToPath(import.meta.url),
      '--stream', '--rows', String(rows), '--out', out], { encoding: 'utf8' });
    console.log('');
    if (run.status !== 0) console.log(`codec, rows streamed, heap capped at ${STREAM_HEAP_MIB} MiB: FAILED ${run.stderr.trim().split('\n').at(-1)}`);
    else {
      const r = JSON.parse(run.stdout.trim());
      const check = existsSync(python)
        ? JSON.parse(execFileSync(python, [join(HERE, 'parquet-digest.py'), out], { encoding: 'utf8', maxBuffer: 2 ** 26 })) : {};
      console.log(`codec, rows made and streamed into it one by one, heap capped at ${STREAM_HEAP_MIB} MiB: ` +
        `${Math.round(rows / r.seconds).toLocaleString('en-US')} rows/s (one run, row making included), ` +
        `peak RSS ${mib(r.peakRss)} (${mib(r.before)} before the first row), file ${(r.bytes / 2 ** 20).toFixed(1)} MiB, ` +
        `pyarrow exact: ${check.pyarrow === r.expected ? 'yes' : 'NO'}`);
    }
  }
  if (!keep) rmSync(dir, { recursive: true, force: true });
  else for (const r of results) console.error(`${r.name}: ${statSync(join(dir, `${r.name}.parquet`)).size} bytes kept`);
  return results.every((r) => r.pyarrowExact && r.deltaRsExact) ? 0 : 1;
}

const childName = arg('child', undefined);
const probeName = arg('probe', undefined);
if (probeName) await probe(probeName, arg('out', 'probe.parquet'));
else if (arg('read', undefined)) await readChild(arg('read', undefined));
else if (process.argv.includes('--stream')) await streamChild(Number(arg('rows', '1000')), arg('out', 'stream.parquet'));
else if (childName) await child(childName, Number(arg('rows', '1000')), Number(arg('runs', '1')), arg('out', 'out.parquet'));
else process.exitCode = await main();
