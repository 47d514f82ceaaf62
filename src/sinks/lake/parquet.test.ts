import { parquetMetadata } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import { compareUtf8, readParquet, writeParquet, type LakeColumn, type LakeValue } from './parquet.js';
import { decimalBytes } from './parquet-schema.js';

const dec = (unscaled: bigint, scale = 10) => ({ unscaled, scale });
const MAX_38 = 10n ** 38n - 1n;

/** One column of every type, and rows holding each type's edge values. */
const COLUMNS: LakeColumn[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false, fieldId: 1 },
  { name: 'small', type: { kind: 'int16' }, nullable: true, fieldId: 2 },
  { name: 'n', type: { kind: 'int32' }, nullable: true, fieldId: 3 },
  { name: 'f32', type: { kind: 'float32' }, nullable: true, fieldId: 4 },
  { name: 'f64', type: { kind: 'float64' }, nullable: true, fieldId: 5 },
  { name: 'flag', type: { kind: 'bool' }, nullable: true, fieldId: 6 },
  { name: 'text', type: { kind: 'string' }, nullable: true, fieldId: 7 },
  { name: 'bytes', type: { kind: 'binary' }, nullable: true, fieldId: 8 },
  { name: 'day', type: { kind: 'date' }, nullable: true, fieldId: 9 },
  { name: 'at', type: { kind: 'timestamp-utc' }, nullable: true, fieldId: 10 },
  { name: 'local', type: { kind: 'timestamp-ntz' }, nullable: true, fieldId: 11 },
  { name: 'amount', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true, fieldId: 12 },
  { name: 'price', type: { kind: 'decimal', precision: 9, scale: 2 }, nullable: true, fieldId: 13 },
  { name: 'big', type: { kind: 'decimal', precision: 18, scale: 0 }, nullable: true, fieldId: 14 },
  { name: 'tags', type: { kind: 'list', element: { kind: 'string' }, elementFieldId: 16 }, nullable: true, fieldId: 15 },
  { name: 'nums', type: { kind: 'list', element: { kind: 'decimal', precision: 20, scale: 3 } }, nullable: true, fieldId: 17 },
];

const ROWS: LakeValue[][] = [
  [-(2n ** 63n), -32768, -(2 ** 31), -1.5, -Infinity, false, '', new Uint8Array([0, 0, 0]), -719162, -62135596800000000n, -1n,
    dec(-MAX_38), { unscaled: -999999999n, scale: 2 }, { unscaled: -(10n ** 18n - 1n), scale: 0 }, [], [dec(-1n, 3), null]],
  [2n ** 63n - 1n, 32767, 2 ** 31 - 1, 3.4028234663852886e38, Number.MAX_VALUE, true, 'zeta \u{1F600} \0 nul', new Uint8Array([255, 0, 1]),
    2932896, 253402300799999999n, 4102444800000001n, dec(MAX_38), { unscaled: 999999999n, scale: 2 }, { unscaled: 10n ** 18n - 1n, scale: 0 },
    ['a', null, 'é', ''], [dec(10n ** 20n - 1n, 3)]],
  [0n, null, 0, -0, NaN, null, 'zeta \uFFFF', new Uint8Array(0), 0, 0n, 0n, dec(0n), { unscaled: 0n, scale: 2 }, null, null, [null]],
  [42n, 7, null, null, 0, false, null, null, null, null, null, null, null, { unscaled: 1n, scale: 0 }, [null, null], []],
];

describe('writeParquet / readParquet', () => {
  it('round-trips every lake type, edge values exactly', async () => {
    const file = writeParquet(COLUMNS, ROWS);
    expect(file.numRecords).toBe(ROWS.length);
    const back = await readParquet(file.bytes, COLUMNS);
    expect(back).toEqual(ROWS);
    // -0 stays -0 (toEqual does not tell it from +0)
    expect(Object.is(back[2]![3], -0)).toBe(true);
  });

  it('writes the footer: field ids, types, snappy, key/value metadata, row groups', () => {
    const file = writeParquet(COLUMNS, ROWS, { rowGroupRows: 3, keyValueMetadata: { 'cdc-merge.test': 'yes' } });
    const meta = parquetMetadata(file.bytes.buffer as ArrayBuffer);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([3, 1]);
    expect(meta.key_value_metadata).toEqual([{ key: 'cdc-merge.test', value: 'yes' }]);
    const byName = new Map(meta.schema.map((e) => [e.name, e]));
    expect(byName.get('amount')).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, field_id: 12 });
    expect(byName.get('price')).toMatchObject({ type: 'INT32', precision: 9, scale: 2 });
    expect(byName.get('big')).toMatchObject({ type: 'INT64', precision: 18 });
    expect(byName.get('at')?.logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' });
    expect(byName.get('local')?.logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' });
    expect(byName.get('local')?.converted_type).toBeUndefined();
    expect(meta.schema.filter((e) => e.name === 'element').map((e) => e.field_id)).toEqual([16, undefined]);
    for (const column of meta.row_groups[0]!.columns) expect(column.meta_data?.codec).toBe('SNAPPY');
  });

  it('returns exact statistics: by value, UTF-8 byte order, NaN never a bound, -0 min and +0 max', () => {
    const { stats } = writeParquet(COLUMNS, ROWS);
    const of = (name: string) => stats[COLUMNS.findIndex((c) => c.name === name)]!;
    expect(of('id')).toEqual({ min: -(2n ** 63n), max: 2n ** 63n - 1n, nullCount: 0 });
    expect(of('amount')).toEqual({ min: dec(-MAX_38), max: dec(MAX_38), nullCount: 1 });
    // U+1F600 (UTF-8 F0…) sorts after U+FFFF (EF BF BF), though its UTF-16 units sort before
    expect(of('text')).toEqual({ min: '', max: 'zeta \u{1F600} \0 nul', nullCount: 1 });
    expect(of('f64')).toEqual({ min: -Infinity, max: Number.MAX_VALUE, nullCount: 0 });
    expect(of('bytes')).toEqual({ nullCount: 1 });
    expect(of('tags')).toEqual({ nullCount: 1 });
    expect(of('flag')).toEqual({ min: false, max: true, nullCount: 1 });
    expect(of('local')).toEqual({ min: -1n, max: 4102444800000001n, nullCount: 1 });

    const zeros = writeParquet([{ name: 'x', type: { kind: 'float64' }, nullable: true }], [[0], [-0], [NaN], [null]]).stats[0]!;
    expect(Object.is(zeros.min, -0) && Object.is(zeros.max, 0)).toBe(true);
    expect(writeParquet([{ name: 'x', type: { kind: 'float32' }, nullable: true }], [[NaN], [null]]).stats[0]).toEqual({ nullCount: 1 });
    expect(writeParquet([{ name: 'x', type: { kind: 'float32' }, nullable: true }], [[0.1]]).stats[0]).toEqual({
      min: Math.fround(0.1), max: Math.fround(0.1), nullCount: 0 });
  });

  it('reads a column missing from the file as null, and columns in the order asked for', async () => {
    const file = writeParquet(COLUMNS.slice(0, 2), [[1n, 2], [3n, null]]);
    const asked: LakeColumn[] = [
      { name: 'added', type: { kind: 'string' }, nullable: true },
      { name: 'small', type: { kind: 'int16' }, nullable: true },
      { name: 'id', type: { kind: 'int64' }, nullable: false },
    ];
    expect(await readParquet(file.bytes, asked)).toEqual([[null, 2, 1n], [null, null, 3n]]);
    expect(await readParquet(file.bytes, [asked[0]!])).toEqual([[null], [null]]);
  });

  it('widens on read: int32 into int64, a decimal into a larger scale', async () => {
    const file = writeParquet(
      [{ name: 'n', type: { kind: 'int32' }, nullable: true }, { name: 'd', type: { kind: 'decimal', precision: 9, scale: 2 }, nullable: true }],
      [[-5, { unscaled: -12345n, scale: 2 }]],
    );
    const back = await readParquet(file.bytes, [
      { name: 'n', type: { kind: 'int64' }, nullable: true },
      { name: 'd', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true },
    ]);
    expect(back).toEqual([[-5n, dec(-1234500000000n)]]);
  });

  it('writes an empty file that reads back as no rows', async () => {
    const file = writeParquet(COLUMNS, []);
    expect(file.numRecords).toBe(0);
    expect(file.stats.every((s) => s.nullCount === 0 && s.min === undefined)).toBe(true);
    expect(await readParquet(file.bytes, COLUMNS)).toEqual([]);
  });

  it('rejects values not of their column type, and nulls in non-nullable columns', () => {
    const col = (type: LakeColumn['type'], nullable = true): LakeColumn[] => [{ name: 'c', type, nullable }];
    const bad: [LakeColumn[], LakeValue][] = [
      [col({ kind: 'int64' }), 1],
      [col({ kind: 'int32' }), 2 ** 31],
      [col({ kind: 'int16' }), 1.5],
      [col({ kind: 'decimal', precision: 5, scale: 2 }), { unscaled: 100000n, scale: 2 }],
      [col({ kind: 'decimal', precision: 5, scale: 2 }), { unscaled: 1n, scale: 3 }],
      [col({ kind: 'timestamp-utc' }), 2n ** 63n],
      [col({ kind: 'string' }), 'lone \uD800 surrogate'],
      [col({ kind: 'list', element: { kind: 'int32' } }), [1, 'x']],
      [col({ kind: 'bool' }, false), null],
    ];
    bad.forEach(([columns, value], i) => {
      expect(() => writeParquet(columns, [[value]]), `case ${i}`).toThrow(CdcError);
    });
    expect(() => writeParquet(col({ kind: 'decimal', precision: 39, scale: 0 }), [])).toThrow(/precision must be 1..38/);
    expect(() => writeParquet([...col({ kind: 'bool' }), ...col({ kind: 'bool' })], [])).toThrow(/second column/);
  });

  it('fails with PARQUET_READ_FAILED on bytes that are not Parquet, and on a type the file cannot hold', async () => {
    await expect(readParquet(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), COLUMNS)).rejects.toMatchObject({ code: 'PARQUET_READ_FAILED' });
    const file = writeParquet([{ name: 'c', type: { kind: 'string' }, nullable: true }], [['x']]);
    await expect(readParquet(file.bytes, [{ name: 'c', type: { kind: 'int64' }, nullable: true }])).rejects.toMatchObject({ code: 'PARQUET_READ_FAILED' });
  });

  it('sizes FIXED_LEN_BYTE_ARRAY decimals with the fewest bytes (Iceberg requires it)', () => {
    expect([1, 2, 9, 10, 18, 19, 20, 38].map(decimalBytes)).toEqual([1, 1, 4, 5, 8, 9, 9, 16]);
  });

  it('writes many row groups from an incremental writer and reads them in order', async () => {
    const columns: LakeColumn[] = [{ name: 'k', type: { kind: 'int64' }, nullable: false }, { name: 's', type: { kind: 'string' }, nullable: true }];
    const rows = Array.from({ length: 2500 }, (_, i): LakeValue[] => [BigInt(i) - 1000n, i % 7 ? `row ${i % 50}` : null]);
    const file = writeParquet(columns, rows, { rowGroupRows: 1000 });
    expect(parquetMetadata(file.bytes.buffer as ArrayBuffer).row_groups).toHaveLength(3);
    expect(await readParquet(file.bytes, columns)).toEqual(rows);
  });

  it('compareUtf8 orders strings as their UTF-8 bytes, surrogate pairs above U+E000..U+FFFF', () => {
    const pool = ['a', 'z', '\0', 'é', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}'];
    let seed = 7;
    const pick = () => pool[(seed = (seed * 48271) % 2147483647) % pool.length]!;
    for (let i = 0; i < 2000; i++) {
      const a = Array.from({ length: 1 + (i % 4) }, pick).join('');
      const b = Array.from({ length: 1 + ((i >> 2) % 4) }, pick).join('');
      expect(Math.sign(compareUtf8(a, b)), `${a} vs ${b}`).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }
  });
});
