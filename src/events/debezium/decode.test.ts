import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../change.js';
import { CdcError } from '../../errors.js';
import { decodeDebeziumRecord, DebeziumDecodeError, type DebeziumChangeRecord, type DebeziumRecordInput, type DecodeOptions } from './index.js';

/** A PostgreSQL connector event with an embedded schema, built like JsonConverter writes it. */
function pgEvent(payload: { op: string; before: unknown; after: unknown; source?: object; transaction?: unknown }): string {
  const row = {
    type: 'struct',
    optional: true,
    name: 'pg.public.orders.Value',
    fields: [
      { type: 'int32', optional: false, field: 'id' },
      { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '10' }, field: 'total' },
      { type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp', version: 1, field: 'placed_at' },
      { type: 'int32', optional: true, name: 'io.debezium.time.Date', version: 1, field: 'ship_on' },
      { type: 'string', optional: true, field: 'notes' },
      { type: 'array', optional: true, items: { type: 'string', optional: true }, field: 'tags' },
    ],
  };
  const schema = {
    type: 'struct',
    name: 'pg.public.orders.Envelope',
    optional: false,
    fields: [
      { ...row, field: 'before' },
      { ...row, field: 'after' },
      { type: 'struct', name: 'io.debezium.connector.postgresql.Source', optional: false, field: 'source', fields: [] },
      { type: 'string', optional: false, field: 'op' },
      { type: 'int64', optional: true, field: 'ts_ms' },
      {
        type: 'struct',
        optional: true,
        field: 'transaction',
        fields: [
          { type: 'string', optional: false, field: 'id' },
          { type: 'int64', optional: false, field: 'total_order' },
          { type: 'int64', optional: false, field: 'data_collection_order' },
        ],
      },
    ],
  };
  const source = {
    version: '2.7.0.Final',
    connector: 'postgresql',
    name: 'pg',
    ts_ms: 1700000000123,
    snapshot: 'false',
    db: 'shop',
    sequence: '["24023119","24023128"]',
    schema: 'public',
    table: 'orders',
    txId: 555,
    lsn: 24023128,
    xmin: null,
    ...payload.source,
  };
  return JSON.stringify({ schema, payload: { before: payload.before, after: payload.after, source, op: payload.op, ts_ms: 1700000000456, transaction: payload.transaction ?? null } });
}

const keyJson = JSON.stringify({ schema: { type: 'struct', name: 'pg.public.orders.Key', optional: false, fields: [{ type: 'int32', optional: false, field: 'id' }] }, payload: { id: 7 } });

function decode(value: DebeziumRecordInput['value'], extra: Partial<DebeziumRecordInput> = {}) {
  return decodeDebeziumRecord({ topic: 'pg.public.orders', partition: 0, offset: 42n, value, ...extra });
}
function change(value: DebeziumRecordInput['value'], extra: Partial<DebeziumRecordInput> = {}): DebeziumChangeRecord {
  const record = decode(value, extra);
  if (record.kind !== 'change') throw new Error(`expected a change, got ${record.kind}`);
  return record;
}
function error(f: () => unknown): DebeziumDecodeError {
  try {
    f();
  } catch (e) {
    if (e instanceof DebeziumDecodeError) return e;
    throw e;
  }
  throw new Error('expected a DebeziumDecodeError');
}

describe('change envelope with an embedded schema', () => {
  const after = { id: 7, total: 'AeJA', placed_at: -1, ship_on: 11016, notes: '__debezium_unavailable_value', tags: ['a', 'b c'] };

  it('decodes every value to PostgreSQL text, and the TOAST placeholder to UNCHANGED', () => {
    const record = change(
      pgEvent({ op: 'u', before: { id: 7, total: '/h2/', placed_at: null, ship_on: null, notes: null, tags: null }, after, transaction: { id: '555:24023128', total_order: 2, data_collection_order: 1 } }),
      { key: keyJson },
    );
    expect(record.op).toBe('update');
    expect(record.table).toEqual({ schema: 'public', name: 'orders' });
    expect(record.after).toEqual({ id: '7', total: '1234.56', placed_at: '1969-12-31 23:59:59.999999', ship_on: '2000-02-29', notes: UNCHANGED, tags: '{a,"b c"}' });
    expect(record.before).toEqual({ id: '7', total: '-1234.57', placed_at: null, ship_on: null, notes: null, tags: null });
    expect(record.key).toEqual({ id: '7' });
    expect(record.keyColumns).toEqual([{ name: 'id', type: 'integer', nullable: false }]);
    expect(record.columns).toEqual([
      { name: 'id', type: 'integer', nullable: false },
      { name: 'total', type: 'numeric(10,2)', nullable: true, logicalType: 'org.apache.kafka.connect.data.Decimal' },
      { name: 'placed_at', type: 'timestamp(6) without time zone', nullable: true, logicalType: 'io.debezium.time.MicroTimestamp' },
      { name: 'ship_on', type: 'date', nullable: true, logicalType: 'io.debezium.time.Date' },
      { name: 'notes', type: 'text', nullable: true },
      { name: 'tags', type: 'text[]', nullable: true },
    ]);
    expect(record.position).toEqual({ connector: 'postgresql', sortKey: [24023119n, 24023128n], text: 'lsn 0/16E9058 (last commit 0/16E904F)' });
    expect(record.transaction).toEqual({ id: '555:24023128', totalOrder: 2, dataCollectionOrder: 1 });
    expect(record.timestampMs).toBe(1700000000123);
    expect(record.processedAtMs).toBe(1700000000456);
    expect(record.source).toEqual({ connector: 'postgresql', version: '2.7.0.Final', serverName: 'pg', database: 'shop', snapshot: 'false', txId: '555' });
  });

  it('reads bytes input as UTF-8 and gives rows no prototype', () => {
    const fromBytes = change(new TextEncoder().encode(pgEvent({ op: 'c', before: null, after })));
    expect(fromBytes.op).toBe('insert');
    expect(Object.getPrototypeOf(fromBytes.after)).toBeNull();
  });

  it('names topic, partition, offset and the JSON path of a bad value', () => {
    const e = error(() => decode(pgEvent({ op: 'c', before: null, after: { ...after, total: true } })));
    expect(e.message).toBe('Debezium value on topic "pg.public.orders" (partition 0, offset 42) is invalid: payload.after.total: expected base64 for Decimal, found boolean');
    expect(e.code).toBe('DEBEZIUM_EVENT_INVALID');
    expect(e).toBeInstanceOf(CdcError);
    expect(e.retryable).toBe(false);
    expect(e.path).toBe('payload.after.total');
    expect(e.context).toEqual({ topic: 'pg.public.orders', partition: 0, offset: '42', part: 'value', path: 'payload.after.total' });
    expect(e.remedy).toMatch(/converter/);
  });

  it('refuses rows that do not match their schema, and operations without their rows', () => {
    expect(error(() => decode(pgEvent({ op: 'c', before: null, after: { id: 1 } }))).message).toMatch(/payload\.after\.total: missing/);
    expect(error(() => decode(pgEvent({ op: 'c', before: null, after: { ...after, extra: 1 } }))).message).toMatch(/payload\.after\.extra: not declared in the schema/);
    expect(error(() => decode(pgEvent({ op: 'c', before: null, after: null }))).message).toMatch(/payload\.after: an insert needs the new row/);
    expect(error(() => decode(pgEvent({ op: 'd', before: null, after }))).message).toMatch(/payload\.after: a delete has no new row/);
    expect(error(() => decode(pgEvent({ op: 'x', before: null, after }))).message).toMatch(/payload\.op: expected one of c, u, d, r, t, m, found string "x"/);
  });

  it('reports errors in the key as the key\'s', () => {
    const e = error(() => decode(pgEvent({ op: 'c', before: null, after }), { key: '{"schema":{"type":"struct","fields":[{"type":"int32","field":"id"}]},"payload":{"id":"7"}}' }));
    expect(e.message).toBe('Debezium key on topic "pg.public.orders" (partition 0, offset 42) is invalid: payload.id: expected an integer for int32, found string "7"');
    expect(e.context.part).toBe('key');
  });

  it('refuses what is not JSON or not UTF-8, without a path', () => {
    expect(error(() => decode('{"op":')).message).toMatch(/is invalid: not JSON \(unexpected end of input at character 6\)$/);
    expect(error(() => decode(new Uint8Array([0x7b, 0xff, 0x7d]))).message).toMatch(/is invalid: not UTF-8 text$/);
    expect(error(() => decode('[1,2]')).message).toMatch(/is invalid: expected a Debezium event object, found array$/);
    expect(error(() => decode('{"foo":1}')).message).toMatch(/not a Debezium event/);
  });
});

describe('events that repeat their schema, as bytes', () => {
  const after = { id: 7, total: 'AeJA', placed_at: -1, ship_on: 11016, notes: '__debezium_unavailable_value', tags: ['a', 'b c'] };
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('decode as the text does, each time, with one shared frozen column list', () => {
    const texts = [
      pgEvent({ op: 'c', before: null, after }),
      pgEvent({ op: 'u', before: { ...after, id: 6 }, after: { ...after, notes: 'é\u0001' }, source: { lsn: 24023200, txId: 556 } }),
      pgEvent({ op: 'd', before: { ...after, total: null }, after: null, transaction: { id: '557:1', total_order: 1, data_collection_order: 1 } }),
    ];
    const records = [...texts, ...texts].map((t) => change(bytes(t), { key: keyJson }));
    for (let i = 0; i < records.length; i++) expect(records[i], `event ${i}`).toEqual(change(texts[i % texts.length]!, { key: keyJson }));
    expect(records.every((r) => r.columns === records[0]!.columns)).toBe(true);
    expect(Object.isFrozen(records[0]!.columns)).toBe(true);
  });

  it('report errors after a schema read before exactly as for the text', () => {
    const good = pgEvent({ op: 'c', before: null, after });
    change(bytes(good));
    const bad = [
      good.replace('"op":"c"', '"op":"c",'),
      good.replace('"id":7', '"id":07'),
      good.replace('"id":7', '"id":2147483648'),
      good.replace('"notes":"__debezium_unavailable_value"', '"notes":"a\u0000b"'),
      good.replace('"tags":["a","b c"]', '"tags":["a","b c"],"extra":1'),
    ];
    for (const text of bad) expect(error(() => decode(bytes(text))).message, text).toBe(error(() => decode(text)).message);
  });
});

describe('schemaless envelopes', () => {
  const source = { version: '1.9.7.Final', connector: 'mysql', name: 'my', ts_ms: 0, snapshot: 'false', db: 'shop', table: 'orders', server_id: 1, file: 'mysql-bin.000012', pos: 4711, row: 1 };
  it('takes values as they come without column types', () => {
    const record = change(JSON.stringify({ before: null, after: { id: 1, total: 12.5, ship_on: 19439, bin: 'AQI=' }, source, op: 'c', ts_ms: 1 }), { topic: 'my.shop.orders' });
    expect(record.after).toEqual({ id: '1', total: '12.5', ship_on: '19439', bin: 'AQI=' });
    expect(record.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', undefined],
      ['total', undefined],
      ['ship_on', undefined],
      ['bin', undefined],
    ]);
    expect(record.table).toEqual({ schema: 'shop', name: 'orders' });
    expect(record.position).toEqual({ connector: 'mysql', sortKey: [12n, 4711n, 1n], text: 'mysql-bin.000012:4711 row 1' });
    expect(record.timestampMs).toBeUndefined(); // ts_ms 0: unknown
  });

  it('converts by supplied column types', () => {
    const options: DecodeOptions = {
      columnTypes: [{ id: { schema: 'shop', name: 'orders' }, columns: [{ name: 'total', type: 'numeric(10,2)' }, { name: 'ship_on', type: 'date' }, { name: 'bin', type: 'bytea' }] }],
    };
    const record = change(JSON.stringify({ before: null, after: { id: 1, total: 12.5, ship_on: 19439, bin: 'AQI=' }, source, op: 'c', ts_ms: 1 }), { options });
    expect(record.after).toEqual({ id: '1', total: '12.50', ship_on: '2023-03-23', bin: '\\x0102' });
    expect(record.columns.map((c) => c.type)).toEqual([undefined, 'numeric(10,2)', 'date', 'bytea']);
  });

  it('decodes hex binary columns declared as strings when their column type says bytea', () => {
    const schema = {
      type: 'struct',
      fields: [
        { type: 'struct', optional: true, field: 'before', fields: [{ type: 'string', optional: true, field: 'bin' }] },
        { type: 'struct', optional: true, field: 'after', fields: [{ type: 'string', optional: true, field: 'bin' }] },
        { type: 'struct', optional: false, field: 'source', fields: [] },
        { type: 'string', optional: false, field: 'op' },
      ],
    };
    const value = JSON.stringify({ schema, payload: { before: null, after: { bin: '0aff' }, source, op: 'c' } });
    const options: DecodeOptions = { binaryHandlingMode: 'hex', columnTypes: [{ id: { schema: 'shop', name: 'orders' }, columns: [{ name: 'bin', type: 'bytea' }] }] };
    expect(change(value, { options }).after).toEqual({ bin: '\\x0aff' });
    expect(change(value, { options }).columns).toEqual([{ name: 'bin', type: 'bytea', nullable: true }]);
    expect(change(value).after).toEqual({ bin: '0aff' });
  });

  it('keeps any column name safe, __proto__ included', () => {
    const record = change(JSON.stringify({ before: null, after: { ['__proto__']: 'x', constructor: 'y' }, source, op: 'c' }));
    expect(Object.keys(record.after!)).toEqual(['__proto__', 'constructor']);
    expect(record.after!['__proto__']).toBe('x');
  });
});

describe('tombstones', () => {
  it('recognises a null value, JSON null and {"schema":null,"payload":null}', () => {
    for (const value of [null, 'null', '{"schema":null,"payload":null}']) {
      expect(decode(value, { key: keyJson })).toEqual({ kind: 'tombstone', key: { id: '7' }, keyColumns: [{ name: 'id', type: 'integer', nullable: false }] });
    }
    expect(decode(null)).toEqual({ kind: 'tombstone', key: null, keyColumns: [] });
    expect(decode(null, { key: '{"id":7}' })).toEqual({ kind: 'tombstone', key: { id: '7' }, keyColumns: [{ name: 'id', type: undefined, nullable: undefined }] });
  });
});

describe('ExtractNewRecordState (unwrap) form', () => {
  it('turns __deleted "true" into a delete whose before is the row, and strips the __ fields', () => {
    const value = JSON.stringify({ id: 7, name: 'x', __op: 'd', __table: 'orders', __schema: 'public', __lsn: 33832960, __source_ts_ms: 1596309876678, __deleted: 'true' });
    const record = change(value, { topic: 'pg.public.orders' });
    expect(record.op).toBe('delete');
    expect(record.before).toEqual({ id: '7', name: 'x' });
    expect(record.after).toBeNull();
    expect(record.columns.map((c) => c.name)).toEqual(['id', 'name']);
    expect(record.unwrapFields).toEqual({ op: 'd', table: 'orders', schema: 'public', lsn: '33832960', source_ts_ms: '1596309876678', deleted: 'true' });
    expect(record.position).toEqual({ connector: 'postgresql', sortKey: [33832960n], text: 'lsn 0/2044000' });
    expect(record.timestampMs).toBe(1596309876678);
  });

  it('reads __op, and without it an undeleted row is an upsert (update without before)', () => {
    expect(change(JSON.stringify({ id: 1, __op: 'c', __deleted: 'false' })).op).toBe('insert');
    expect(change(JSON.stringify({ id: 1, __op: 'r' })).op).toBe('read');
    const upsert = change(JSON.stringify({ id: 1, __deleted: false }));
    expect([upsert.op, upsert.before, upsert.after]).toEqual(['update', null, { id: '1' }]);
    expect(upsert.position.connector).toBe('broker');
    expect(change(JSON.stringify({ id: 1, __deleted: true })).op).toBe('delete');
  });

  it('reads MySQL and SQL Server positions from __ fields', () => {
    expect(change(JSON.stringify({ id: 1, __op: 'u', __file: 'mysql-bin.000004', __pos: 10, __row: 2, __db: 'shop' }), { topic: 'my.shop.orders' }).position.sortKey).toEqual([4n, 10n, 2n]);
    const ss = change(JSON.stringify({ id: 1, __op: 'u', __commit_lsn: '00000027:00000ac0:0007', __change_lsn: '00000027:00000ac0:0002', __event_serial_no: 2 }));
    expect(ss.position.connector).toBe('sqlserver');
  });

  it('refuses contradictions and unknown values, naming the __ field', () => {
    expect(error(() => decode(JSON.stringify({ id: 1, __op: 'd', __deleted: 'false' }))).message).toMatch(/__deleted: __op is d but __deleted is "false"$/);
    expect(error(() => decode(JSON.stringify({ id: 1, __op: 'c', __deleted: 'true' }))).message).toMatch(/__op: __deleted is "true" but __op is c$/);
    expect(error(() => decode(JSON.stringify({ id: 1, __deleted: 'yes' }))).message).toMatch(/__deleted: expected "true" or "false"/);
    expect(error(() => decode(JSON.stringify({ id: 1, __op: 'u', __lsn: 'abc' }))).message).toMatch(/__lsn: expected an integer/);
  });
});

describe('transaction metadata, messages, schema changes, heartbeats', () => {
  it('decodes BEGIN and END, bare or with a schema', () => {
    expect(decode('{"status":"BEGIN","id":"571:53195829","ts_ms":1486500577125,"event_count":null,"data_collections":null}')).toEqual({
      kind: 'transaction',
      status: 'BEGIN',
      id: '571:53195829',
      timestampMs: 1486500577125,
    });
    const end = {
      schema: { type: 'struct', name: 'io.debezium.connector.common.TransactionMetadataValue', fields: [] },
      payload: { status: 'END', id: '571:53195829', ts_ms: 1486500577691, event_count: 2, data_collections: [{ data_collection: 'public.a', event_count: 1 }, { data_collection: 'public.b', event_count: 1 }] },
    };
    expect(decode(JSON.stringify(end))).toEqual({
      kind: 'transaction',
      status: 'END',
      id: '571:53195829',
      eventCount: 2,
      dataCollections: [
        { dataCollection: 'public.a', eventCount: 1 },
        { dataCollection: 'public.b', eventCount: 1 },
      ],
      timestampMs: 1486500577691,
    });
    expect(error(() => decode('{"status":"END","id":"x","event_count":-1}')).message).toMatch(/event_count: event_count -1 is out of range/);
  });

  it('decodes a logical decoding message', () => {
    const record = decode('{"source":{"connector":"postgresql","lsn":46523128,"txId":556,"schema":"","table":""},"op":"m","ts_ms":1,"message":{"prefix":"foo","content":"aGk="}}');
    expect(record).toMatchObject({ kind: 'message', prefix: 'foo', transactional: true, position: { sortKey: [46523128n] } });
    expect(record.kind === 'message' && new TextDecoder().decode(record.content)).toBe('hi');
  });

  it('decodes a heartbeat and refuses a millisecond field holding nanoseconds', () => {
    expect(decode('{"ts_ms":1700000000000}')).toEqual({ kind: 'heartbeat', timestampMs: 1700000000000 });
    expect(error(() => decode('{"ts_ms":1559729471739876149}')).message).toMatch(/ts_ms: 1559729471739876149 is not a time in milliseconds/);
  });
});

describe('robustness', () => {
  it('refuses every truncation of a real event with a DebeziumDecodeError, never a crash or a partial record', () => {
    const value = pgEvent({ op: 'u', before: { id: 7, total: 'AeJA', placed_at: 0, ship_on: 0, notes: 'x', tags: ['a'] }, after: { id: 7, total: '/h2/', placed_at: 1, ship_on: 1, notes: 'y', tags: null } });
    expect(change(value).op).toBe('update');
    for (let end = 0; end < value.length; end++) {
      const prefix = value.slice(0, end);
      expect(() => decode(prefix), `prefix of ${end} characters`).toThrow(DebeziumDecodeError);
    }
  });

  it('accepts a TableSchema as column types', () => {
    const table = { id: { schema: 'shop', name: 'orders' }, columns: [{ name: 'd', type: 'date', nullable: true, toastable: false }], primaryKey: [] };
    const source = { connector: 'mysql', db: 'shop', table: 'orders', file: 'mysql-bin.000001', pos: 4, row: 0 };
    const record = change(JSON.stringify({ before: null, after: { d: 0 }, source, op: 'c' }), { options: { columnTypes: [table] } });
    expect(record.after).toEqual({ d: '1970-01-01' });
  });
});

describe('names that exist on Object.prototype', () => {
  it('are not mistaken for operations, types or column kinds', () => {
    const source = { connector: 'mysql', db: 'shop', table: 'orders', file: 'mysql-bin.000001', pos: 4, row: 0 };
    expect(() => decode(JSON.stringify({ before: null, after: { a: 1 }, source, op: 'toString' }))).toThrow(/payload|op: expected one of/);
    expect(() => decode(JSON.stringify({ a: 1, __op: 'constructor' }))).toThrow(/__op: expected one of/);
    const schema = { type: 'struct', fields: [{ type: 'struct', field: 'after', fields: [{ type: 'constructor', field: 'a' }] }] };
    expect(() => decode(JSON.stringify({ schema, payload: { before: null, after: { a: 1 }, source, op: 'c' } }))).toThrow(/schema\.fields\[0\]\.fields\[0\]\.type: expected a Kafka Connect type/);
    const options: DecodeOptions = { columnTypes: [{ id: { schema: 'shop', name: 'orders' }, columns: [{ name: 'a', type: 'constructor' }] }] };
    expect(change(JSON.stringify({ before: null, after: { a: 'x' }, source, op: 'c' }), { options }).after).toEqual({ a: 'x' });
  });
});
