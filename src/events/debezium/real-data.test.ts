/**
 * The decoder against recorded Debezium events (../shared/data/debezium, see its README.md for
 * what each file is and where it comes from). Each line is one record value; the line number is
 * used as the offset.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../change.js';
import {
  compareSourcePositions,
  decodeDebeziumRecord,
  DebeziumDecodeError,
  type DebeziumChangeRecord,
  type DebeziumRecord,
  type DecodedRow,
  type DecodeOptions,
  type DebeziumSchemaChangeRecord,
} from './index.js';

const DATA = new URL('../../../../shared/data/debezium/', import.meta.url);

function lines(file: string): string[] {
  return readFileSync(new URL(file, DATA), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

type Outcome = DebeziumRecord | DebeziumDecodeError;

function decodeFile(file: string, options?: DecodeOptions, topic = 'server.schema.table'): Outcome[] {
  return lines(file).map((value, i) => {
    try {
      return decodeDebeziumRecord({ topic, partition: 0, offset: BigInt(i), value, ...(options ? { options } : {}) });
    } catch (error) {
      if (error instanceof DebeziumDecodeError) return error;
      throw error;
    }
  });
}

function changes(outcomes: Outcome[]): DebeziumChangeRecord[] {
  return outcomes.map((o, i) => {
    if (o instanceof DebeziumDecodeError || o.kind !== 'change') throw new Error(`line ${i} is not a change: ${o instanceof Error ? o.message : o.kind}`);
    return o;
  });
}

/** `insert:11 update:4` style summary of what a file decodes to. */
function summary(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const k = o instanceof DebeziumDecodeError ? 'error' : o.kind === 'change' ? o.op : o.kind === 'transaction' ? o.status : o.kind;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k}:${n}`).join(' ');
}

describe('what each recorded file decodes to', () => {
  const expected: Record<string, string> = {
    'debezium-docs-postgresql.jsonl': 'BEGIN:1 END:1 insert:2 update:1 delete:1 truncate:1 message:2',
    'debezium-docs-sqlserver.jsonl': 'schema-change:1 error:1 update:1 delete:1 BEGIN:1 END:1',
    'debezium-docs-mysql.jsonl': 'schema-change:1 BEGIN:1 END:1 insert:1 update:1 delete:1 truncate:1',
    'debezium-docs-mysql-tutorial.jsonl': 'read:1 update:1 delete:1 tombstone:1 insert:2',
    'flink-mysql-schema-include.jsonl': 'insert:11 update:4 delete:1',
    'flink-mysql-schema-exclude.jsonl': 'insert:11 update:4 delete:1',
    'flink-postgresql-schema-include.jsonl': 'read:9 update:4 insert:2 delete:1',
    'flink-postgresql-schema-exclude.jsonl': 'read:9 update:4 insert:2 delete:1',
    'flink-postgresql-replica-identity-not-full.jsonl': 'read:9 update:4 insert:2 delete:1',
    'justunsix-sqlserver-schema-include.jsonl': 'insert:1',
    'memiiso-iceberg-mysql.jsonl': 'insert:1 update:1 read:1 delete:1 schema-change:1',
    'memiiso-iceberg-postgresql-unwrap.jsonl': 'read:2 insert:1',
    'paimon-mysql-schema-include.jsonl': 'read:1 insert:7 delete:1',
    'paimon-mysql-schema-exclude.jsonl': 'insert:27 error:1 delete:1 update:1',
    'risingwave-mysql-payload-wrapper.jsonl': 'read:3',
    'risingwave-mysql-schema-include.jsonl': 'read:4 insert:2 update:3 delete:1',
    'risingwave-mysql-schema-exclude.jsonl': 'read:4 insert:2 update:3 delete:1',
    'risingwave-parser-tests-mysql.jsonl': 'read:3 insert:3 delete:3 update:3',
    'risingwave-parser-tests-postgresql.jsonl': 'read:2 error:1',
    'risingwave-postgresql-schema-include.jsonl': 'read:25',
    'risingwave-postgresql-schema-exclude.jsonl': 'read:3 update:1',
    'seatunnel-mysql-all-types.jsonl': 'read:1',
  };
  for (const [file, counts] of Object.entries(expected)) {
    it(file, () => expect(summary(decodeFile(file))).toBe(counts));
  }
});

describe('Debezium documentation examples', () => {
  it('PostgreSQL: transaction boundaries, REPLICA IDENTITY DEFAULT before images, truncate, messages, positions', () => {
    const out = decodeFile('debezium-docs-postgresql.jsonl');
    expect(out[0]).toEqual({ kind: 'transaction', status: 'BEGIN', id: '571:53195829', timestampMs: 1486500577125 });
    expect(out[1]).toMatchObject({ kind: 'transaction', status: 'END', eventCount: 2, dataCollections: [{ dataCollection: 's1.a', eventCount: 1 }, { dataCollection: 's2.a', eventCount: 1 }] });
    const [insert, update, del, truncate] = out.slice(2, 6) as DebeziumChangeRecord[];
    expect(insert!.after).toEqual({ id: '1', first_name: 'Anne', last_name: 'Kretchmar', email: 'annek@noanswer.org' });
    expect(insert!.columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' not null'}`)).toEqual(['id integer not null', 'first_name text not null', 'last_name text not null', 'email text not null']);
    expect(insert!.position).toEqual({ connector: 'postgresql', sortKey: [24023119n, 24023128n], text: 'lsn 0/16E9058 (last commit 0/16E904F)' });
    expect(insert!.source.snapshot).toBe('true');
    expect(update!.before).toEqual({ id: '1' }); // REPLICA IDENTITY DEFAULT: the key only
    expect(update!.after!.first_name).toBe('Anne Marie');
    expect(del!.before).toEqual({ id: '1' });
    expect(del!.position.sortKey).toEqual([46523128n]);
    expect(truncate).toMatchObject({ op: 'truncate', table: { schema: 'public', name: 'customers' }, before: null, after: null });
    expect(out[6]).toMatchObject({ kind: 'message', prefix: 'foo', transactional: true, content: new Uint8Array([0x62, 0x67, 0xf2]) });
    expect(out[7]).toMatchObject({ kind: 'message', transactional: false });
  });

  it('PostgreSQL: a ZonedTimestamp with nanoseconds, read by its column type', () => {
    const raw = changes(decodeFile('debezium-docs-postgresql.jsonl').slice(8))[0]!;
    expect(raw.after!.created_at).toBe('2011-01-11T16:40:30.123456789+00:00'); // schemaless: as it comes
    const options: DecodeOptions = { columnTypes: [{ id: { schema: 'public', name: 'customers' }, columns: [{ name: 'created_at', type: 'timestamp with time zone' }] }] };
    const typed = changes(decodeFile('debezium-docs-postgresql.jsonl', options).slice(8))[0]!;
    expect(typed.after!.created_at).toBe('2011-01-11 16:40:30.123456+00');
  });

  it('SQL Server: LSN positions in order, string event_serial_no, schema change, and a ts_ms that is not milliseconds', () => {
    const out = decodeFile('debezium-docs-sqlserver.jsonl');
    expect(out[0]).toMatchObject({ kind: 'schema-change', database: 'testDB', schemaName: 'dbo', position: { connector: 'sqlserver', text: 'commit_lsn 00000025:00000d98:00a2' } });
    const schemaChange = out[0] as DebeziumSchemaChangeRecord;
    expect(schemaChange.ddl).toBeUndefined();
    expect(schemaChange.tableChanges[0]).toMatchObject({ type: 'CREATE', table: { primaryKeyColumnNames: ['id'] } });
    // The docs' create event repeats "ts_ms" three times; the last (nanoseconds) wins, and is refused.
    expect((out[1] as DebeziumDecodeError).message).toBe(
      'Debezium value on topic "server.schema.table" (partition 0, offset 1) is invalid: payload.ts_ms: 1559729471739876149 is not a time in milliseconds (beyond ±8640000000000000; microseconds or nanoseconds?)',
    );
    const [update, del] = out.slice(2, 4) as DebeziumChangeRecord[];
    expect(update!.table).toEqual({ schema: 'dbo', name: 'customers' });
    expect([update!.before!.email, update!.after!.email]).toEqual(['john.doe@example.org', 'noreply@example.org']);
    expect(update!.position.text).toBe('commit_lsn 00000027:00000ac0:0007, change_lsn 00000027:00000ac0:0002, event_serial_no 2');
    expect(del!.position.sortKey[2]).toBe(1n);
    expect(compareSourcePositions(schemaChange.position, update!.position)).toBeLessThan(0);
    expect(compareSourcePositions(update!.position, del!.position)).toBeLessThan(0);
    expect(out[5]).toMatchObject({ kind: 'transaction', status: 'END', id: '00000025:00000d08:0025', eventCount: 2 });
  });

  it('MySQL: binlog positions order the events; GTID transaction ids; truncate', () => {
    const out = decodeFile('debezium-docs-mysql.jsonl');
    expect(out[0]).toMatchObject({ kind: 'schema-change', ddl: 'ALTER TABLE customers ADD middle_name varchar(255) AFTER first_name', position: { sortKey: [3n, 570n, 0n] } });
    expect(out[1]).toMatchObject({ kind: 'transaction', status: 'BEGIN', id: '0e4d5dcd-a33b-11ea-80f1-02010a22a99e:10' });
    const [insert, update, del, truncate] = changes(out.slice(3));
    expect(insert!.table).toEqual({ schema: 'inventory', name: 'customers' });
    expect(update!.source.gtid).toBeUndefined();
    const order = [del!, truncate!, insert!, update!].sort((a, b) => compareSourcePositions(a.position, b.position)).map((c) => `${c.op}@${c.position.text}`);
    expect(order).toEqual(['insert@mysql-bin.000003:154 row 0', 'truncate@mysql-bin.000003:484 row 0', 'update@mysql-bin.000003:484 row 0', 'delete@mysql-bin.000003:805 row 0']);
  });

  it('MySQL tutorial: old source layouts and the tombstone after a delete', () => {
    const out = decodeFile('debezium-docs-mysql-tutorial.jsonl', undefined, 'dbserver1.inventory.customers');
    const read = out[0] as DebeziumChangeRecord;
    expect(read.source.connector).toBe('mysql'); // from the schema name io.debezium.connector.mysql.Source
    expect(read.after).toEqual({ id: '1004', first_name: 'Anne', last_name: 'Kretchmar', email: 'annek@noanswer.org' });
    const update = out[1] as DebeziumChangeRecord;
    expect(update.source).toMatchObject({ connector: 'mysql', serverName: 'dbserver1' }); // from its fields: no connector, no schema
    expect(update.position.sortKey).toEqual([3n, 364n, 0n]);
    expect(out[2]).toMatchObject({ op: 'delete', after: null, before: { first_name: 'Anne Marie' } });
    expect(out[3]).toEqual({ kind: 'tombstone', key: null, keyColumns: [] });
    expect((out[4] as DebeziumChangeRecord).after!.id).toBe('1005');
    expect(compareSourcePositions((out[4] as DebeziumChangeRecord).position, (out[5] as DebeziumChangeRecord).position)).toBeLessThan(0);
  });
});

describe('connector output recorded by other projects', () => {
  it('Flink: the same changes decode to the same rows with and without the embedded schema', () => {
    // Number literals are kept as written, and the two recordings spell some floats differently
    // (1.0 and 1): the same double, which is what this compares for the float column.
    const comparable = (row: DecodedRow | null) => row && { ...row, weight: row.weight === null ? null : Number(row.weight) };
    for (const connector of ['mysql', 'postgresql']) {
      const withSchema = changes(decodeFile(`flink-${connector}-schema-include.jsonl`));
      const without = changes(decodeFile(`flink-${connector}-schema-exclude.jsonl`));
      const view = (c: DebeziumChangeRecord) => [c.op, comparable(c.before), comparable(c.after), c.position];
      expect(without.map(view)).toEqual(withSchema.map(view));
    }
    expect(changes(decodeFile('flink-mysql-schema-include.jsonl'))[5]!.after!.weight).toBe('1.0');
    expect(changes(decodeFile('flink-mysql-schema-exclude.jsonl'))[5]!.after!.weight).toBe('1');
    const mysql = changes(decodeFile('flink-mysql-schema-include.jsonl'));
    expect(mysql[0]!.after).toEqual({ id: '101', name: 'scooter', description: 'Small 2-wheel scooter', weight: '3.140000104904175' });
    expect(mysql[0]!.columns.map((c) => c.type)).toEqual(['integer', 'text', 'text', 'double precision']);
    const pg = changes(decodeFile('flink-postgresql-schema-include.jsonl'));
    expect(pg[15]).toMatchObject({ op: 'delete', before: { id: '111', weight: '5.17' }, after: null, position: { connector: 'postgresql', sortKey: [34133800n] } });
    const ordered = [...pg].sort((a, b) => compareSourcePositions(a.position, b.position));
    expect(ordered.slice(9).map((c) => c.after?.id ?? c.before?.id)).toEqual(['106', '107', '110', '111', '110', '111', '111']);
  });

  it('Flink: updates and deletes without a before image (REPLICA IDENTITY not FULL)', () => {
    const out = changes(decodeFile('flink-postgresql-replica-identity-not-full.jsonl'));
    expect(out.filter((c) => c.op === 'update').every((c) => c.before === null && c.after !== null)).toBe(true);
    expect(out[15]).toMatchObject({ op: 'delete', before: null, after: null, key: null });
  });

  it('SQL Server (justunsix): values, types and position', () => {
    const [record] = changes(decodeFile('justunsix-sqlserver-schema-include.jsonl'));
    expect(record!.after).toEqual({ PersonID: '7', Name: 'Targarien', Age: '125' });
    expect(record!.columns).toEqual([
      { name: 'PersonID', type: 'integer', nullable: false },
      { name: 'Name', type: 'text', nullable: true },
      { name: 'Age', type: 'integer', nullable: true },
    ]);
    expect(record!.table).toEqual({ schema: 'dbo', name: 'Persons' });
    expect(record!.position.sortKey).toEqual([(0x2bn << 48n) | (0x4f8n << 16n) | 5n, (0x2bn << 48n) | (0x4f8n << 16n) | 4n, 1n]);
  });

  it('Debezium Server (memiiso): io.debezium.time.Date, keys, and a schema change', () => {
    const values = lines('memiiso-iceberg-mysql.jsonl');
    const keys = lines('memiiso-iceberg-mysql-keys.jsonl');
    const read = decodeDebeziumRecord({ topic: 'testc.inventory.orders', partition: 0, offset: 2n, key: keys[0]!, value: values[2]! }) as DebeziumChangeRecord;
    expect(read.after).toEqual({ order_number: '10004', order_date: '2016-02-21', purchaser: '1003', quantity: '1', product_id: '107' });
    expect(read.key).toEqual({ order_number: '10004' });
    expect(read.source.snapshot).toBe('last_in_data_collection');
    const del = decodeDebeziumRecord({ topic: 'testc.inventory.customers', partition: 0, offset: 3n, key: keys[1]!, value: values[3]! }) as DebeziumChangeRecord;
    expect(del).toMatchObject({ op: 'delete', key: { id: '1004' }, after: null, before: { email: 'annek@noanswer.org' } });
    const ddl = decodeFile('memiiso-iceberg-mysql.jsonl')[4]!;
    expect(ddl).toMatchObject({ kind: 'schema-change', database: 'inventory', tableChanges: [] });
    expect((ddl as DebeziumSchemaChangeRecord).ddl).toMatch(/^CREATE TABLE `geom`/);
  });

  it('ExtractNewRecordState with a schema (memiiso): __ fields, PostGIS geometry, arrays', () => {
    const out = changes(decodeFile('memiiso-iceberg-postgresql-unwrap.jsonl', undefined, 'testc.inventory.orders'));
    expect(out[0]).toMatchObject({
      op: 'read',
      table: { schema: 'inventory', name: 'orders' },
      after: { id: '10003', order_date: '2016-02-19', purchaser: '1002', quantity: '2', product_id: '106' },
      unwrapFields: { op: 'r', table: 'orders', lsn: '33832960', source_ts_ms: '1596309876678', deleted: 'false' },
      position: { connector: 'postgresql', sortKey: [33832960n] },
      timestampMs: 1596309876678,
    });
    expect(out[0]!.columns.map((c) => c.name)).toEqual(['id', 'order_date', 'purchaser', 'quantity', 'product_id']);
    // POINT(1 1) with SRID 123, as hex EWKB
    expect(out[1]!.after).toEqual({ id: '1', g: '01010000207B000000000000000000F03F000000000000F03F', h: null });
    expect(out[1]!.columns.map((c) => c.type)).toEqual(['integer', 'geometry', 'geometry']);
    expect(out[1]!.position.connector).toBe('broker'); // no __lsn in this one
    // text[] arrived as Java toString() output upstream: decoded faithfully as text
    expect(out[2]!.after).toEqual({ name: 'Bill', pay_by_quarter: '{10000,10001,10002,10003}', schedule: '{[Ljava.lang.String;@508917a0,[Ljava.lang.String;@7412bd2}' });
    expect(out[2]!.columns.map((c) => c.type)).toEqual(['text', 'integer[]', 'text[]']);
  });

  it('Paimon all-types MySQL row: decimals, bits, temporal types, binaries, JSON, geometry', () => {
    const row = changes(decodeFile('paimon-mysql-schema-include.jsonl'))[0]!;
    const after = row.after!;
    expect(after.pt).toBe('1.1');
    expect(after._numeric).toBe('12345.110');
    expect(after._fixed).toBe('123456789876543212345678987654321.110'); // 36 digits: JSON.parse would give 1.2345678987654322e+32
    expect(after._big_decimal).toBe('2222222222222222300000001111.1234567890');
    expect(after._bigint_unsigned).toBe('20000000000');
    expect(after._bit1).toBe('true');
    expect(after._bit).toBe(`${'0'.repeat(53)}11111000111`);
    expect(after._date).toBe('2023-03-23');
    expect(after._datetime).toBe('2023-03-23 14:30:05');
    expect(after._datetime3).toBe('2023-03-23 14:30:05.123');
    expect(after._datetime6).toBe('2023-03-23 14:30:05.123456');
    expect(after._datetime_p2).toBe('2023-03-24 14:30:05.12');
    expect(after._timestamp).toBe('2023-03-23 22:00:10.123456+00');
    expect(after._timestamp0).toBe('2023-03-23 07:10:00+00');
    expect(after._time).toBe('10:13:23');
    expect(after._year).toBe('2023');
    expect(after._bin).toBe('\\x62797465730000000000');
    expect(after._json).toBe('{"a": "b"}');
    expect(after._enum).toBe('value1');
    expect(after._set).toBe('a,b');
    expect(after._point).toBe('(1.0,1.0)');
    // POLYGON((1 1, 2 1, 2 2, 1 2, 1 1)), no SRID
    expect(after._geometry).toBe(
      '01030000000100000005000000000000000000F03F000000000000F03F0000000000000040000000000000F03F00000000000000400000000000000040000000000000F03F0000000000000040000000000000F03F000000000000F03F',
    );
    const types = Object.fromEntries(row.columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      pt: 'numeric(2,1)',
      _bit: 'bit(64)',
      _bit1: 'boolean',
      _bigint_unsigned: 'numeric',
      _numeric: 'numeric(8,3)',
      _date: 'date',
      _datetime: 'timestamp(3) without time zone',
      _datetime6: 'timestamp(6) without time zone',
      _timestamp: 'timestamp with time zone',
      _time: 'time(6) without time zone',
      _year: 'integer',
      _json: 'jsonb',
      _bin: 'bytea',
      _point: 'point',
      _geometry: 'geometry',
      _float: 'double precision',
      _tinyint: 'smallint',
    });
  });

  it('Paimon schemaless rows: a nested object needs a column type', () => {
    const out = decodeFile('paimon-mysql-schema-exclude.jsonl');
    expect((out[17] as DebeziumDecodeError).message).toBe(
      'Debezium value on topic "server.schema.table" (partition 0, offset 17) is invalid: after.row: a JSON object needs a column type to be read (pass DecodeOptions.columnTypes for this table, or enable the embedded schema)',
    );
    const options: DecodeOptions = { columnTypes: [{ id: { schema: 'test', name: 'product' }, columns: [{ name: 'row', type: 'jsonb' }] }] };
    expect((decodeFile('paimon-mysql-schema-exclude.jsonl', options)[17] as DebeziumChangeRecord).after).toEqual({ id: '101', name: 'hammer', row: '{"row_key":"value"}' });
    // Flink CDC snapshot rows have file "" and pos 0: ordered by the broker instead.
    expect((out[0] as DebeziumChangeRecord).position.connector).toBe('broker');
  });

  it('RisingWave: payload-only wrapper, upper-case names, number literals kept as written', () => {
    const [first] = changes(decodeFile('risingwave-mysql-payload-wrapper.jsonl'));
    expect(first!.table).toEqual({ schema: 'mydb', name: 'lineitem' });
    expect(first!.after).toMatchObject({ L_ORDERKEY: '56165', L_QUANTITY: '39.0', L_EXTENDEDPRICE: '55828.11', L_DISCOUNT: '0.0', L_SHIPDATE: '1992-06-22' });
    expect(first!.position).toEqual({ connector: 'mysql', sortKey: [3n, 7424302n, 0n], text: 'binlog.000003:7424302 row 0' });
    const withSchema = changes(decodeFile('risingwave-mysql-schema-include.jsonl'));
    const without = changes(decodeFile('risingwave-mysql-schema-exclude.jsonl'));
    expect(without.map((c) => [c.before, c.after])).toEqual(withSchema.map((c) => [c.before, c.after]));
  });

  it('RisingWave MySQL type test: extreme values by column type', () => {
    const options: DecodeOptions = {
      timePrecisionMode: 'adaptive_time_microseconds', // the MySQL connector's default
      columnTypes: [
        {
          id: { schema: 'test', name: 'orders' },
          columns: [
            { name: 'O_BOOL', type: 'boolean' },
            { name: 'O_DECIMAL', type: 'numeric(5,2)' },
            { name: 'O_DATE', type: 'date' },
            { name: 'O_TIME', type: 'time(0) without time zone' },
            { name: 'O_DATETIME', type: 'timestamp(0) without time zone' },
            { name: 'O_TIMESTAMP', type: 'timestamp with time zone' },
            { name: 'O_JSON', type: 'jsonb' },
          ],
        },
      ],
    };
    const out = changes(decodeFile('risingwave-parser-tests-mysql.jsonl', options));
    expect(out[11]!.before).toMatchObject({ O_BOOL: 'true', O_DECIMAL: '-111.11', O_DATE: '1000-01-01', O_TIME: '00:00:00', O_DATETIME: '1970-01-01 00:00:00', O_TIMESTAMP: '1970-01-01 00:00:01+00' });
    expect(out[11]!.after).toMatchObject({ O_BOOL: 'false', O_DATE: '9999-12-31', O_TIME: '23:59:59', O_DATETIME: '5138-11-16 09:46:39', O_TIMESTAMP: '2038-01-09 03:14:07+00', O_JSON: '{"k1": "v1_updated", "k2": 33}' });
  });

  it('RisingWave PostgreSQL type test: bigint max exactly; times, bytea, uuid, point by column type', () => {
    const raw = decodeFile('risingwave-parser-tests-postgresql.jsonl');
    expect((raw[1] as DebeziumChangeRecord).after).toMatchObject({ o_bigint: '9223372036854775807', o_real: '9.999', o_numeric: '123456.789' });
    expect((raw[2] as DebeziumDecodeError).message).toMatch(/payload\.after\.o_point: a JSON object needs a column type/);
    const types: [string, string][] = [
      ['o_time_0', 'time(0) without time zone'],
      ['o_time_6', 'time(6) without time zone'],
      ['o_timez_6', 'time(6) with time zone'],
      ['o_timestamp_0', 'timestamp(0) without time zone'],
      ['o_timestamp_6', 'timestamp(6) without time zone'],
      ['o_timestampz_6', 'timestamp(6) with time zone'],
      ['o_bit', 'bit(1)'],
      ['o_bytea', 'bytea'],
      ['o_point', 'point'],
    ];
    const options: DecodeOptions = {
      timePrecisionMode: 'adaptive_time_microseconds',
      columnTypes: [{ id: { schema: 'public', name: 'orders' }, columns: types.map(([name, type]) => ({ name, type })) }],
    };
    const typed = changes(decodeFile('risingwave-parser-tests-postgresql.jsonl', options));
    expect(typed[0]!.after).toMatchObject({
      o_time_0: '11:11:11',
      o_time_6: '11:11:11.00001',
      o_timez_6: '11:11:11.00001+00',
      o_timestamp_0: '2011-11-11 11:11:11',
      o_timestamp_6: '2011-11-11 11:11:11.123456',
      o_timestampz_6: '2011-11-11 03:11:11.123456+00',
      o_interval: 'P1Y2M3DT4H5M6.78S',
    });
    expect(typed[2]!.after).toMatchObject({ o_bit: '1', o_bytea: '\\x0123456789abcdef', o_point: '(1.0,2.0)', o_uuid: '60f14fe2-f857-404a-b586-3b5375b3259f', o_xml: '<!--hahaha-->' });
    expect(typed[0]!.position).toEqual({ connector: 'postgresql', sortKey: [0n, 26505352n], text: 'lsn 0/1947088 (last commit none)' });
  });

  it('RisingWave PostgreSQL: float columns of a TPC-C table and a null price', () => {
    const rows = changes(decodeFile('risingwave-postgresql-schema-include.jsonl'));
    expect(rows[0]!.after).toMatchObject({ c_id: '1', c_credit_lim: '50000.0', c_discount: '0.3173', c_balance: '-10.0', c_since: '2015-11-22 00:00:00' });
    expect(rows[0]!.columns.find((c) => c.name === 'c_discount')!.type).toBe('real');
    const orders = changes(decodeFile('risingwave-postgresql-schema-exclude.jsonl'));
    expect(orders[3]).toMatchObject({ op: 'update', before: null, after: { order_id: '1', price: null, product_id: '3' } });
    expect(compareSourcePositions(orders[2]!.position, orders[3]!.position)).toBeLessThan(0);
  });

  it('SeaTunnel all-types MySQL row, read by column types', () => {
    const raw = changes(decodeFile('seatunnel-mysql-all-types.jsonl'))[0]!;
    expect(raw.after).toMatchObject({ f_decimal: '9999999.1', f_bit64: 'AQAAAAAAAAA=', f_date: '20073' });
    const types: [string, string][] = [
      ['f_boolean', 'boolean'],
      ['f_decimal', 'numeric(10,2)'],
      ['f_bit64', 'bit(64)'],
      ['f_binary', 'bytea'],
      ['f_date', 'date'],
      ['f_time', 'time(0) without time zone'],
      ['f_datetime', 'timestamp(0) without time zone'],
      ['f_timestamp', 'timestamp with time zone'],
      ['f_json', 'jsonb'],
    ];
    const options: DecodeOptions = { timePrecisionMode: 'adaptive_time_microseconds', columnTypes: [{ id: { schema: 'qa_source', name: 'all_types' }, columns: types.map(([name, type]) => ({ name, type })) }] };
    const typed = changes(decodeFile('seatunnel-mysql-all-types.jsonl', options))[0]!;
    expect(typed.after).toMatchObject({
      f_boolean: 'true',
      f_decimal: '9999999.10',
      f_bit64: `${'0'.repeat(63)}1`,
      f_binary: '\\x61',
      f_date: '2024-12-16',
      f_time: '15:33:53',
      f_datetime: '2024-12-16 15:33:45',
      f_timestamp: '2024-12-16 15:33:42+00',
      f_json: '{}',
    });
  });
});

describe('the TOAST placeholder in a recorded update (no recorded sample has one, so one is put in)', () => {
  it('becomes UNCHANGED in the after image and nowhere else', () => {
    const line = lines('flink-postgresql-schema-include.jsonl')[9]!; // an update with an embedded schema
    const edited = line.replace('"description":"18oz carpenter hammer"', '"description":"__debezium_unavailable_value"');
    expect(edited).not.toBe(line);
    const record = decodeDebeziumRecord({ topic: 't', value: edited }) as DebeziumChangeRecord;
    expect(record.op).toBe('update');
    expect(record.after).toEqual({ id: '106', name: 'hammer', description: UNCHANGED, weight: '1.0' });
    expect(record.before!.description).toBe("16oz carpenter's hammer");
  });
});
