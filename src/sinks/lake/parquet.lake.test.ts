// The Parquet codec against pyarrow and delta-rs (the oracles' Python, src/testing/python-oracles.ts):
// what cdc-merge writes, pyarrow reads back exactly and with the types the lake formats expect;
// what pyarrow (DataPage V1, zstd, dictionary pages) and delta-rs write, readParquet reads exactly.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquetWithDeltaRs, readParquetWithPyarrow, writeParquetWithPyarrow, type OracleValue } from '../../testing/python-oracles.js';
import { readParquet, writeParquet, type LakeColumn, type LakeDecimal, type LakeType, type LakeValue } from './parquet.js';

const dir = mkdtempSync(join(tmpdir(), 'cdc-parquet-lake-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dec = (unscaled: bigint, scale: number): LakeDecimal => ({ unscaled, scale });
const MAX_38 = 10n ** 38n - 1n;
const FAR_FUTURE = 253402300799999999n; // 9999-12-31T23:59:59.999999
const YEAR_1 = -62135596800000000n; // 0001-01-01T00:00:00

/** Every lake type, each column with the Arrow type pyarrow should report. */
const COLUMNS: (LakeColumn & { arrow: string })[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false, fieldId: 1, arrow: 'int64' },
  { name: 'small', type: { kind: 'int16' }, nullable: true, fieldId: 2, arrow: 'int16' },
  { name: 'n', type: { kind: 'int32' }, nullable: true, fieldId: 3, arrow: 'int32' },
  { name: 'f32', type: { kind: 'float32' }, nullable: true, fieldId: 4, arrow: 'float' },
  { name: 'f64', type: { kind: 'float64' }, nullable: true, fieldId: 5, arrow: 'double' },
  { name: 'flag', type: { kind: 'bool' }, nullable: true, fieldId: 6, arrow: 'bool' },
  { name: 'text', type: { kind: 'string' }, nullable: true, fieldId: 7, arrow: 'string' },
  { name: 'bytes', type: { kind: 'binary' }, nullable: true, fieldId: 8, arrow: 'binary' },
  { name: 'day', type: { kind: 'date' }, nullable: true, fieldId: 9, arrow: 'date32[day]' },
  { name: 'at', type: { kind: 'timestamp-utc' }, nullable: true, fieldId: 10, arrow: 'timestamp[us, tz=UTC]' },
  { name: 'local', type: { kind: 'timestamp-ntz' }, nullable: true, fieldId: 11, arrow: 'timestamp[us]' },
  { name: 'amount', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true, fieldId: 12, arrow: 'decimal128(38, 10)' },
  { name: 'price', type: { kind: 'decimal', precision: 9, scale: 2 }, nullable: true, fieldId: 13, arrow: 'decimal128(9, 2)' },
  { name: 'qty', type: { kind: 'decimal', precision: 18, scale: 4 }, nullable: true, fieldId: 14, arrow: 'decimal128(18, 4)' },
  { name: 'tags', type: { kind: 'list', element: { kind: 'string' }, elementFieldId: 16 }, nullable: true, fieldId: 15, arrow: 'list<element: string>' },
  { name: 'amounts', type: { kind: 'list', element: { kind: 'decimal', precision: 38, scale: 10 } }, nullable: true, fieldId: 17, arrow: 'list<element: decimal128(38, 10)>' },
  { name: 'times', type: { kind: 'list', element: { kind: 'timestamp-utc' } }, nullable: true, fieldId: 18, arrow: 'list<element: timestamp[us, tz=UTC]>' },
];

const ROWS: LakeValue[][] = [
  [-(2n ** 63n), -32768, -(2 ** 31), -3.4028234663852886e38, -Infinity, false, '', new Uint8Array([0, 0, 0]), -719162, YEAR_1, -1n,
    dec(-MAX_38, 10), dec(-999999999n, 2), dec(-(10n ** 18n - 1n), 4), [], [dec(-MAX_38, 10), null], [YEAR_1]],
  [2n ** 63n - 1n, 32767, 2 ** 31 - 1, 3.4028234663852886e38, Number.MAX_VALUE, true, 'ünïcødé \u{1F600} \0 nul', new Uint8Array([255, 0, 1, 0]),
    2932896, FAR_FUTURE, FAR_FUTURE, dec(MAX_38, 10), dec(999999999n, 2), dec(10n ** 18n - 1n, 4), ['a', null, ''], [dec(MAX_38, 10)], [null, FAR_FUTURE]],
  [0n, 0, 0, -0, -0, true, 'plain', new Uint8Array(0), 0, -1n, 0n, dec(1n, 10), dec(1n, 2), dec(-1n, 4), [null], [], []],
  [1n, null, null, Math.fround(0.1), NaN, null, null, null, null, null, null, null, null, null, null, null, null],
];

const floatHex = (x: number): string => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return Buffer.from(view.buffer).toString('hex');
};

/** A lake value as oracles/parquet_file.py prints what pyarrow read. */
function oracleText(type: LakeType, value: LakeValue): OracleValue {
  if (value === null) return null;
  switch (type.kind) {
    case 'list':
      return (value as LakeValue[]).map((v) => oracleText(type.element, v));
    case 'decimal':
      return String((value as LakeDecimal).unscaled);
    case 'float32':
    case 'float64':
      return floatHex(value as number);
    case 'binary':
      return Buffer.from(value as Uint8Array).toString('hex');
    case 'bool':
    case 'string':
      return value as boolean | string;
    default:
      return `${value as number | bigint}`;
  }
}

describe('Parquet files cdc-merge writes, read by pyarrow and delta-rs', () => {
  const path = join(dir, 'every-type.parquet');
  writeFileSync(path, writeParquet(COLUMNS, ROWS, { rowGroupRows: 3 }).bytes);

  it('every value exactly, with the Arrow types and field ids the lake formats expect', async () => {
    const reading = await readParquetWithPyarrow(path);
    expect(reading.schema).toEqual(COLUMNS.map((c) => ({ name: c.name, type: c.arrow, fieldId: c.fieldId, nullable: c.nullable })));
    expect(reading.rows).toEqual(ROWS.map((row) => row.map((v, i) => oracleText(COLUMNS[i]!.type, v))));
  });

  it('every value exactly through delta-rs too (arrow-rs reading our DataPage V2 pages)', async () => {
    const reading = await readParquetWithDeltaRs(path);
    expect(reading.rows).toEqual(ROWS.map((row) => row.map((v, i) => oracleText(COLUMNS[i]!.type, v))));
  });

  it('physical and logical types, snappy, and footer statistics', async () => {
    const { columns } = await readParquetWithPyarrow(path);
    const leaf = (path: string) => columns.find((c) => c.path === path)!;
    expect(leaf('amount')).toMatchObject({ physical: 'FIXED_LEN_BYTE_ARRAY', logical: 'Decimal(precision=38, scale=10)',
      min: '-9999999999999999999999999999.9999999999', max: '9999999999999999999999999999.9999999999', nullCount: 0 });
    expect(leaf('price')).toMatchObject({ physical: 'INT32', logical: 'Decimal(precision=9, scale=2)' });
    expect(leaf('qty')).toMatchObject({ physical: 'INT64', logical: 'Decimal(precision=18, scale=4)' });
    expect(leaf('small')).toMatchObject({ physical: 'INT32', logical: 'Int(bitWidth=16, isSigned=true)', min: '-32768', max: '32767' });
    expect(leaf('id')).toMatchObject({ physical: 'INT64', min: String(-(2n ** 63n)), max: String(2n ** 63n - 1n), nullCount: 0 });
    expect(leaf('at').logical).toMatch(/^Timestamp\(isAdjustedToUTC=true, timeUnit=microseconds/);
    expect(leaf('local').logical).toMatch(/^Timestamp\(isAdjustedToUTC=false, timeUnit=microseconds/);
    expect(leaf('day')).toMatchObject({ physical: 'INT32', logical: 'Date', min: '0001-01-01', max: '9999-12-31' });
    expect(leaf('f64')).toMatchObject({ min: floatHex(-Infinity), max: floatHex(Number.MAX_VALUE) });
    expect(leaf('tags.list.element')).toMatchObject({ physical: 'BYTE_ARRAY', logical: 'String' });
    for (const c of columns) expect(c.compression, c.path).toBe('SNAPPY');
  });
});

/** The table oracles/parquet_file.py writes, as lake columns and values. */
const PY_COLUMNS: LakeColumn[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: true },
  { name: 'small', type: { kind: 'int16' }, nullable: true },
  { name: 'n', type: { kind: 'int32' }, nullable: true },
  { name: 'f64', type: { kind: 'float64' }, nullable: true },
  { name: 'flag', type: { kind: 'bool' }, nullable: true },
  { name: 'text', type: { kind: 'string' }, nullable: true },
  { name: 'bytes', type: { kind: 'binary' }, nullable: true },
  { name: 'day', type: { kind: 'date' }, nullable: true },
  { name: 'at', type: { kind: 'timestamp-utc' }, nullable: true },
  { name: 'local', type: { kind: 'timestamp-ntz' }, nullable: true },
  { name: 'amount', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true },
  { name: 'price', type: { kind: 'decimal', precision: 9, scale: 2 }, nullable: true },
  { name: 'tags', type: { kind: 'list', element: { kind: 'string' } }, nullable: true },
  { name: 'not_in_file', type: { kind: 'string' }, nullable: true },
];

const PY_ROWS: LakeValue[][] = [
  [-(2n ** 63n), -32768, -(2 ** 31), -0, true, 'same', new Uint8Array([0, 1]), -719162, -1n, 1709208000000001n,
    dec(-MAX_38, 10), dec(-999999999n, 2), ['a', null], null],
  [2n ** 63n - 1n, null, 7, null, false, 'same', null, 0, null, null, dec(1n, 10), dec(1n, 2), [], null],
  [0n, 32767, null, 1.5, null, 'é\u{1F600}', new Uint8Array(0), null, FAR_FUTURE, -2208988800000000n, null, null, null, null],
];

describe('Parquet files pyarrow and delta-rs write, read by readParquet', () => {
  const written = writeParquetWithPyarrow(dir);

  it('pyarrow: DataPage V1, zstd, dictionary pages', async () => {
    const { pyarrow } = await written;
    const rows = await readParquet(new Uint8Array(readFileSync(pyarrow)), PY_COLUMNS);
    expect(rows).toEqual(PY_ROWS);
    expect(Object.is(rows[0]![3], -0)).toBe(true);
  });

  it("delta-rs' own writer", async () => {
    const { deltars } = await written;
    expect(deltars).toHaveLength(1);
    expect(await readParquet(new Uint8Array(readFileSync(deltars[0]!)), PY_COLUMNS)).toEqual(PY_ROWS);
  });
});
