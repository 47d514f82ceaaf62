/**
 * Staging tables filled with Debezium source fields instead of `_cdc_position`, on a real
 * PostgreSQL (source-fields-sql.ts, source-position-sql.ts): for the recorded events of each
 * connector (../shared/data/debezium, read as src/events/debezium/real-data.test.ts does), the
 * trigger's position starts with the decoder's sort key and orders events as the decoder does, and
 * with the Kafka offset it is byte for byte what `cdc run` stages for the same message; a deferred
 * merge of events arriving out of order across two partitions ends with the right rows; the
 * merge procedures and `cdc run`'s COPY are unaffected by the extra columns; a staging table
 * re-created by a schema change gets its fields back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import type { RowChangeMessage } from '../../events/change.js';
import { compareSourcePositions, decodeDebeziumRecord, DebeziumDecodeError, type DebeziumChangeRecord } from '../../events/debezium/index.js';
import { comparePositions, encodePosition, PositionBase, positionHex } from '../../events/position.js';
import type { TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import { changeFromRecord, tableFromRecord } from '../../sources/debezium/record-mapping.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../../testing/throwaway-cluster.js';
import { infrastructureSql } from './infrastructure.js';
import { mergeProcedureId, stagingTableId } from './naming.js';
import { RowEncoder } from './row-encoder.js';
import { tableMigrations } from './sink.js';
import { acceptSourceFieldsCallSql, SOURCE_FIELD_TYPES, type SourceFieldName } from './source-fields-sql.js';
import { SOURCE_POSITION_SQLSTATE } from './source-position-sql.js';
import { tableChangeDdl } from './table-change-ddl.js';
import { stagingColumns } from './table-ddl.js';

const DATA = new URL('../../../../shared/data/debezium/', import.meta.url);

const column = (name: string, type: string, nullable = true) => ({ name, type, nullable, toastable: type === 'text' });

/** The table the recorded events are staged into: only the source fields and the op matter. */
const events: TableSchema = { id: { schema: 'public', name: 'events' }, primaryKey: ['id'], columns: [column('id', 'integer', false), column('note', 'text')] };
/** The deferred merge across partitions. */
const invoice: TableSchema = {
  id: { schema: 'shop', name: 'invoice' },
  primaryKey: ['id'],
  columns: [column('id', 'integer', false), column('total', 'numeric'), column('memo', 'text')],
};
/** No primary key: the keyless merge groups by the table's columns only. */
const ledger: TableSchema = { id: { schema: 'shop', name: 'ledger' }, primaryKey: [], columns: [column('account', 'integer'), column('amount', 'numeric')] };
/** A source column named like a source field. */
const clash: TableSchema = { id: { schema: 'shop', name: 'clash' }, primaryKey: ['id'], columns: [column('id', 'integer', false), column('__lsn', 'bigint')] };

const POSITION_FIELDS = (Object.keys(SOURCE_FIELD_TYPES) as SourceFieldName[]).filter((f) => f !== 'kafka_offset');
const ALL_FIELDS = Object.keys(SOURCE_FIELD_TYPES) as SourceFieldName[];

let cluster: ThrowawayCluster;
let client: pg.Client;

async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await client.query<T>(text, params)).rows;
}

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'source-fields' });
  client = new pg.Client(await cluster.createDatabase('target'));
  await client.connect();
  await client.query(infrastructureSql());
  for (const [table, softDelete] of [[events, false], [invoice, true], [ledger, false], [clash, false]] as const) {
    for (const m of tableMigrations(table, { softDelete })) await client.query(m.sql);
  }
});
afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

/** One recorded change event: the decoder's view and the source fields as the JDBC sink copies them. */
interface RecordedEvent {
  readonly file: string;
  /** Line index: the Kafka offset, as real-data.test.ts numbers them. */
  readonly offset: number;
  readonly record: DebeziumChangeRecord;
  /** The source block's fields (unprefixed), or the `__` fields of an unwrapped event. */
  readonly source: Record<string, unknown>;
}

const DEBEZIUM_OP = { insert: 'c', read: 'r', update: 'u', delete: 'd' } as const;

/** Every row change of every recorded file, with its source fields. */
function recordedEvents(): RecordedEvent[] {
  const out: RecordedEvent[] = [];
  for (const file of readdirSync(DATA).filter((f) => f.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(new URL(file, DATA), 'utf8').split('\n').filter((l) => l.trim() !== '');
    lines.forEach((value, offset) => {
      let record;
      try {
        record = decodeDebeziumRecord({ topic: 'server.schema.table', partition: 0, offset: BigInt(offset), value });
      } catch (error) {
        if (error instanceof DebeziumDecodeError) return;
        throw error;
      }
      if (record.kind !== 'change' || record.op === 'truncate') return;
      const parsed = JSON.parse(value) as Record<string, unknown>;
      const envelope = (parsed.payload !== undefined && (parsed.schema !== undefined || Object.keys(parsed).length === 1) ? parsed.payload : parsed) as Record<string, unknown>;
      const source = envelope.source
        ? (envelope.source as Record<string, unknown>)
        : Object.fromEntries(Object.entries(envelope).filter(([k]) => k.startsWith('__')).map(([k, v]) => [k.slice(2), v]));
      out.push({ file, offset, record, source });
    });
  }
  return out;
}

/** The value the JDBC sink writes into `__<field>` (text; PostgreSQL casts it to the column type). */
function fieldValue(source: Record<string, unknown>, field: SourceFieldName): string | null {
  const v = source[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new Error(`${field}: unexpected ${JSON.stringify(v)} (or a number past 2^53, which JSON.parse rounds)`);
}

const stagingOf = (t: TableSchema) => quoteTable(stagingTableId(t.id));

/** Inserts one staging row per event the way the JDBC sink does: data columns, `_cdc_op` and the `__` fields; returns the positions. */
async function stageEvents(list: readonly RecordedEvent[], withOffset: boolean): Promise<Buffer[]> {
  const fields = withOffset ? ALL_FIELDS : POSITION_FIELDS;
  const names = ['id', '_cdc_op', ...fields.map((f) => `__${f}`)];
  const params = names.map((_, i) => `$${i + 1}`).join(', ');
  const positions: Buffer[] = [];
  for (const [i, e] of list.entries()) {
    const values = [i, DEBEZIUM_OP[e.record.op as keyof typeof DEBEZIUM_OP], ...fields.map((f) => (f === 'kafka_offset' ? String(e.offset) : fieldValue(e.source, f)))];
    const [row] = await sql<{ p: Buffer }>(`INSERT INTO ${stagingOf(events)} (${names.map(quoteIdent).join(', ')}) VALUES (${params}) RETURNING _cdc_position AS p`, values);
    positions.push(row!.p);
  }
  await sql(`TRUNCATE ${stagingOf(events)}`);
  return positions;
}

/**
 * The position `cdc run` stages for the event read at `offset`: DebeziumSource's base
 * (`[...sortKey, broker position]`) through RowEncoder (staged ordinal 2k for a delete, 2k+1 for
 * the row an insert or update writes), as hexadecimal.
 */
function typescriptPositionHex(e: RecordedEvent): string {
  const table = tableFromRecord(e.record, events.id, [e.record.columns[0]!.name]);
  const origin = { position: new PositionBase([...e.record.position.sortKey, BigInt(e.offset)]), commitTime: new Date(0) };
  const change = changeFromRecord(e.record, table, origin, e.file) as RowChangeMessage;
  const out: string[] = [];
  new RowEncoder(table).encode(change, origin.position.hex, '\\N', out);
  const last = out.at(-1)!.split('\t'); // an update that changes the key stages the old key first
  return last[table.columns.length + 1]!.replace(/^\\\\x/, '');
}

const all = recordedEvents();
const positioned = all.filter((e) => e.record.position.connector !== 'broker');

describe('the position trigger on recorded Debezium events', () => {
  beforeAll(async () => {
    await sql(acceptSourceFieldsCallSql(events.id, ALL_FIELDS));
  });

  it('covers every connector', () => {
    const byConnector = new Map<string, number>();
    for (const e of positioned) byConnector.set(e.record.position.connector, (byConnector.get(e.record.position.connector) ?? 0) + 1);
    expect([...byConnector.keys()].sort()).toEqual(['mysql', 'postgresql', 'sqlserver']);
    for (const n of byConnector.values()) expect(n).toBeGreaterThanOrEqual(3);
  });

  it('starts with the sort key the decoder computes, then the staged ordinal', async () => {
    const positions = await stageEvents(positioned, false);
    const { rows } = await client.query<{ parts: string[] }>('SELECT cdc_management.row_position_parts(p)::text[] AS parts FROM unnest($1::bytea[]) WITH ORDINALITY AS u(p, n) ORDER BY n', [positions]);
    positioned.forEach((e, i) => {
      const staged = e.record.op === 'delete' ? '0' : '1';
      expect({ file: e.file, offset: e.offset, parts: rows[i]!.parts }).toEqual({ file: e.file, offset: e.offset, parts: [...e.record.position.sortKey.map(String), staged] });
    });
  });

  it('orders the events of one source as the decoder does', async () => {
    const positions = await stageEvents(positioned, false);
    for (const file of new Set(positioned.map((e) => e.file))) {
      const indexes = positioned.flatMap((e, i) => (e.file === file ? [i] : []));
      for (const i of indexes) {
        for (const j of indexes) {
          const byDecoder = Math.sign(compareSourcePositions(positioned[i]!.record.position, positioned[j]!.record.position));
          if (byDecoder !== 0) expect({ file, i, j, order: Math.sign(comparePositions(positions[i]!, positions[j]!)) }).toEqual({ file, i, j, order: byDecoder });
        }
      }
    }
  });

  it('with the Kafka offset, is byte for byte the position cdc run stages for the same message', async () => {
    // Events cdc run cannot map (a delete with neither old row nor key: no columns) are left out.
    const mapped = positioned.flatMap((e) => {
      if (e.record.columns.length === 0) return [];
      try {
        return [{ e, hex: typescriptPositionHex(e) }];
      } catch (error) {
        if (error instanceof CdcError) return [];
        throw error;
      }
    });
    expect(mapped.length).toBeGreaterThan(positioned.length * 0.9);
    const positions = await stageEvents(mapped.map((m) => m.e), true);
    mapped.forEach(({ e, hex }, i) => {
      expect({ file: e.file, offset: e.offset, hex: positions[i]!.toString('hex') }).toEqual({ file: e.file, offset: e.offset, hex });
    });
  });

  it('source_sort_key of a source block is the sort key (the Redpanda Connect path)', async () => {
    for (const e of positioned) {
      const [row] = await sql<{ key: string[] | null }>('SELECT cdc_management.source_sort_key($1::jsonb)::text[] AS key', [JSON.stringify(e.source)]);
      expect({ file: e.file, offset: e.offset, key: row!.key }).toEqual({ file: e.file, offset: e.offset, key: e.record.position.sortKey.map(String) });
    }
  });

  it('source_sort_key agrees with the decoder on edge cases of each connector', async () => {
    const blocks: Record<string, unknown>[] = [
      { connector: 'postgresql', lsn: 5, sequence: '[null,"5"]' },
      { lsn: 7 },
      { connector: 'postgresql', sequence: '["3","9"]' },
      { connector: 'postgresql', lsn: 10, sequence: '[ "3" , "9" ]' },
      { connector: 'postgresql', lsn: null, sequence: '["3",null]' },
      { connector: 'sqlserver', commit_lsn: 'ffffffff:ffffffff:ffff', change_lsn: null, event_serial_no: null },
      { connector: 'sqlserver', commit_lsn: '00000025:00000d98:0002', change_lsn: '00000025:00000D98:0002', event_serial_no: '2' },
      { commit_lsn: '00000001:00000000:0000' },
      { connector: 'mysql', file: 'mysql-bin.000010', pos: 4, row: 3 },
      { connector: 'mariadb', file: 'mariadb-bin.000001', pos: 9 },
      { file: 'mysql-bin.000002', pos: '12' },
      { connector: 'mysql', file: '', pos: 0 },
      { connector: 'oracle', scn: '1' },
    ];
    for (const source of blocks) {
      const record = decodeDebeziumRecord({ topic: 't.s.x', partition: 0, offset: 0n, value: JSON.stringify({ op: 'c', after: { id: 1 }, source }) });
      if (record.kind !== 'change') throw new Error('not a change');
      const expected = record.position.connector === 'broker' ? null : record.position.sortKey.map(String);
      const [row] = await sql<{ key: string[] | null }>('SELECT cdc_management.source_sort_key($1::jsonb)::text[] AS key', [JSON.stringify(source)]);
      expect({ source, key: row!.key }).toEqual({ source, key: expected });
    }
  });

  it('refuses a row whose fields hold no position, naming the table and what to add', async () => {
    const unpositioned = all.filter((e) => e.record.position.connector === 'broker');
    expect(unpositioned.length).toBeGreaterThan(0); // Flink CDC's MySQL snapshot rows: file ""
    for (const e of unpositioned) {
      await expect(stageEvents([e], true)).rejects.toMatchObject({ code: SOURCE_POSITION_SQLSTATE });
    }
    const error = await sql(`INSERT INTO ${stagingOf(events)} (id, _cdc_op, __kafka_offset) VALUES (1, 'c', 5)`).catch((e: unknown) => e as pg.DatabaseError);
    expect(error).toMatchObject({ code: SOURCE_POSITION_SQLSTATE });
    const { message, hint } = error as pg.DatabaseError;
    expect(message).toContain('cdc_staging."public.events" (final table public.events)');
    expect(message).toContain('__kafka_offset = 5');
    expect(hint).toMatch(/postgresql: __lsn, __sequence; sqlserver: __commit_lsn, __change_lsn, __event_serial_no; mysql: __file, __pos, __row/);
    expect(hint).toContain('accept_source_fields');
  });

  it('raises for a malformed field and leaves a given _cdc_position alone', async () => {
    await expect(sql(`INSERT INTO ${stagingOf(events)} (id, _cdc_op, __commit_lsn) VALUES (1, 'c', '25:d98:2')`)).rejects.toMatchObject({
      code: SOURCE_POSITION_SQLSTATE,
      message: expect.stringMatching(/expected a SQL Server LSN like 00000025:00000d98:0002, found '25:d98:2'/),
    });
    await expect(sql(`INSERT INTO ${stagingOf(events)} (id, _cdc_op, __file, __pos) VALUES (1, 'c', 'binlog', 4)`)).rejects.toMatchObject({ code: SOURCE_POSITION_SQLSTATE });
    await expect(sql(`INSERT INTO ${stagingOf(events)} (id, _cdc_op, __sequence) VALUES (1, 'c', '["1",2.5]')`)).rejects.toMatchObject({ code: SOURCE_POSITION_SQLSTATE });
    const [row] = await sql<{ parts: string[] }>(
      `INSERT INTO ${stagingOf(events)} (id, _cdc_op, _cdc_position, __lsn) VALUES (1, 'c', cdc_management.row_position(7, 0), 99) RETURNING cdc_management.row_position_parts(_cdc_position)::text[] AS parts`,
    );
    expect(row!.parts).toEqual(['7', '0']);
    await sql(`TRUNCATE ${stagingOf(events)}`);
  });
});

describe('accept_source_fields', () => {
  it('refuses unknown fields, fields without a position, and a field that is a column of the final table', async () => {
    await expect(sql(`CALL cdc_management.accept_source_fields('shop', 'invoice', ARRAY['lsn', 'scn'])`)).rejects.toThrow(/'scn' is not a source field/);
    await expect(sql(`CALL cdc_management.accept_source_fields('shop', 'invoice', ARRAY['kafka_offset'])`)).rejects.toThrow(/hold no source position/);
    await expect(sql(`CALL cdc_management.accept_source_fields('shop', 'invoice', ARRAY['file'])`)).rejects.toThrow(/hold no source position/);
    await expect(sql(acceptSourceFieldsCallSql(clash.id, ['lsn']))).rejects.toThrow(/has a column named __lsn/);
    await expect(sql(acceptSourceFieldsCallSql({ schema: 'shop', name: 'nothing' }, ['lsn']))).rejects.toThrow(/shop\.nothing has no staging table/);
  });

  it('finds the staging table by its marking trigger, also for names that are shortened', async () => {
    const long: TableSchema = { ...events, id: { schema: 'public', name: `events_${'x'.repeat(50)}` } };
    for (const m of tableMigrations(long, {})) await client.query(m.sql);
    expect(await sql('SELECT cdc_management.staging_table($1, $2)::text AS t', [long.id.schema, long.id.name])).toEqual([{ t: stagingOf(long).replaceAll('"cdc_staging"', 'cdc_staging') }]);
    expect(await sql("SELECT cdc_management.staging_table('public', 'missing') AS t")).toEqual([{ t: null }]);
  });
});

/** A PostgreSQL-connector event of `shop.invoice` as the JDBC sink writes it, read from `partition` at `offset`. */
interface InvoiceEvent {
  readonly op: 'c' | 'u' | 'd';
  readonly id: number;
  readonly total?: number;
  readonly memo?: string;
  readonly lsn: number;
  readonly lastCommit: number;
  readonly partition: number;
  readonly offset: number;
}

async function write(list: readonly InvoiceEvent[]): Promise<void> {
  for (const e of list) {
    await sql(`INSERT INTO ${stagingOf(invoice)} (id, total, memo, _cdc_op, __lsn, __sequence, __kafka_offset) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      e.id,
      e.total ?? null,
      e.memo ?? null,
      e.op,
      e.lsn,
      JSON.stringify([String(e.lastCommit), String(e.lsn)]),
      e.offset,
    ]);
  }
}

async function invoices(): Promise<unknown[]> {
  return sql("SELECT id, total::text, memo, _cdc_deleted AS deleted, array_to_string(cdc_management.row_position_parts(_cdc_position), ',') AS position FROM shop.invoice ORDER BY id");
}

describe('deferred merge of source-field rows', () => {
  beforeAll(async () => {
    await sql(acceptSourceFieldsCallSql(invoice.id, ['lsn', 'sequence', 'kafka_offset']));
  });

  it('ends with the right rows when events arrive out of order across two partitions (a topic that grew)', async () => {
    // Before the topic grew, keys 1, 2 and 3 were in partition 0; after, in partition 1, whose
    // offsets start again at 0. The consumer of partition 1 is ahead of the one of partition 0.
    const p0: InvoiceEvent[] = [
      { op: 'c', id: 1, total: 10, memo: 'created', lsn: 1000, lastCommit: 900, partition: 0, offset: 7 },
      { op: 'c', id: 3, total: 3, memo: 'created', lsn: 1100, lastCommit: 1000, partition: 0, offset: 8 },
      { op: 'c', id: 2, total: 5, memo: 'created', lsn: 1200, lastCommit: 1100, partition: 0, offset: 9 },
    ];
    const p1: InvoiceEvent[] = [
      { op: 'u', id: 1, total: 20, memo: 'updated', lsn: 2000, lastCommit: 1900, partition: 1, offset: 0 },
      { op: 'u', id: 3, total: 30, memo: 'updated', lsn: 2100, lastCommit: 2000, partition: 1, offset: 1 },
      { op: 'd', id: 2, lsn: 2200, lastCommit: 2100, partition: 1, offset: 2 },
    ];
    // One merge holds key 1 from both partitions, the newer one staged first: the position, not
    // the offset (7 > 0), decides.
    await write([p1[0]!, p0[0]!, p0[2]!]);
    await sql("CALL cdc_management.manual_merge('shop', 'invoice')");
    expect(await invoices()).toEqual([
      { id: 1, total: '20', memo: 'updated', deleted: false, position: '1900,2000,0,1' },
      { id: 2, total: '5', memo: 'created', deleted: false, position: '1100,1200,9,1' },
    ]);
    // Partition 1 runs on; partition 0's older create of key 3 and a redelivery of key 2's create
    // arrive in a later merge, after the newer update and delete: they change nothing.
    await write([p1[1]!, p1[2]!]);
    await sql("CALL cdc_management.manual_merge('shop', 'invoice')");
    await write([p0[1]!, p0[2]!, p0[0]!]);
    await sql("CALL cdc_management.manual_merge('shop', 'invoice')");
    expect(await invoices()).toEqual([
      { id: 1, total: '20', memo: 'updated', deleted: false, position: '1900,2000,0,1' },
      { id: 2, total: '5', memo: 'created', deleted: true, position: '2100,2200,2,0' },
      { id: 3, total: '30', memo: 'updated', deleted: false, position: '2000,2100,1,1' },
    ]);
    expect(await sql(`SELECT count(*)::int AS n FROM ${stagingOf(invoice)}`)).toEqual([{ n: 0 }]);
  });

  it('the keyed merge with unchanged values and the keyless merge read staging columns by name', async () => {
    await write([{ op: 'u', id: 1, total: 21, lsn: 3000, lastCommit: 2900, partition: 1, offset: 3 }]);
    await sql(`UPDATE ${stagingOf(invoice)} SET _cdc_unchanged = '{memo}'`);
    await sql("CALL cdc_management.manual_merge('shop', 'invoice')");
    expect((await invoices())[0]).toEqual({ id: 1, total: '21', memo: 'updated', deleted: false, position: '2900,3000,3,1' });

    await sql(acceptSourceFieldsCallSql(ledger.id, ['file', 'pos', 'row']));
    await sql(`INSERT INTO ${stagingOf(ledger)} (account, amount, _cdc_op, __file, __pos, __row) VALUES
      (1, 10, 'c', 'mysql-bin.000002', 400, 0), (1, 10, 'c', 'mysql-bin.000002', 400, 1), (2, 5, 'c', 'mysql-bin.000002', 500, 0)`);
    await sql("CALL cdc_management.manual_merge('shop', 'ledger')");
    await sql(`INSERT INTO ${stagingOf(ledger)} (account, amount, _cdc_op, __file, __pos, __row) VALUES (1, 10, 'd', 'mysql-bin.000003', 4, 0), (3, 1, 'c', 'mysql-bin.000003', 9, 0)`);
    await sql("CALL cdc_management.manual_merge('shop', 'ledger')");
    expect(await sql("SELECT account, amount::text, array_to_string(cdc_management.row_position_parts(_cdc_position), ',') AS position FROM shop.ledger WHERE account > 1 ORDER BY account")).toEqual([
      { account: 2, amount: '5', position: '2,500,0,1' },
      { account: 3, amount: '1', position: '3,9,0,1' },
    ]);
    expect(await sql('SELECT account, amount::text FROM shop.ledger WHERE account = 1')).toEqual([{ account: 1, amount: '10' }]);
  });

  it("cdc run's COPY of named columns with positions is unaffected by the trigger and the extra columns", async () => {
    const base = new PositionBase([5000n]);
    const out: string[] = [];
    const encoder = new RowEncoder(invoice);
    const origin = { position: base, commitTime: new Date(0) };
    encoder.encode({ kind: 'update', table: invoice.id, origin, ordinal: 0, row: ['1', '50', 'copied'] }, base.hex, '2026-01-01 00:00:00+00', out);
    encoder.encode({ kind: 'insert', table: invoice.id, origin, ordinal: 1, row: ['4', '40', 'copied'] }, base.hex, '2026-01-01 00:00:00+00', out);
    const copy = client.query(copyFrom(`COPY ${stagingOf(invoice)} (${stagingColumns(invoice).map(quoteIdent).join(', ')}) FROM STDIN`));
    await new Promise<void>((resolve, reject) => {
      copy.on('error', reject);
      copy.on('finish', resolve);
      copy.end(out.join(''));
    });
    expect(await sql(`SELECT encode(_cdc_position, 'hex') AS hex, __lsn FROM ${stagingOf(invoice)} ORDER BY id`)).toEqual([
      { hex: positionHex(encodePosition([5000n, 1n])), __lsn: null },
      { hex: positionHex(encodePosition([5000n, 3n])), __lsn: null },
    ]);
    await client.query(`CALL ${quoteTable(mergeProcedureId(invoice.id))}()`);
    expect(await sql('SELECT id, total::text, memo FROM shop.invoice WHERE id IN (1, 4) ORDER BY id')).toEqual([
      { id: 1, total: '50', memo: 'copied' },
      { id: 4, total: '40', memo: 'copied' },
    ]);
  });

  it('a staging table re-created by a schema change gets its source fields back', async () => {
    const after: TableSchema = { ...invoice, columns: [...invoice.columns, column('due', 'date')] };
    const { statements } = tableChangeDdl({ before: invoice, after, policy: { drop: 'stop', typeChange: 'stop' }, defaults: { softDelete: true } });
    await client.query('BEGIN');
    for (const s of statements) await client.query(s);
    await client.query('COMMIT');
    expect(await sql(`SELECT attname FROM pg_attribute WHERE attrelid = '${stagingOf(invoice)}'::regclass AND attname LIKE '\\_\\_%' AND NOT attisdropped ORDER BY attnum`)).toEqual([
      { attname: '__lsn' },
      { attname: '__sequence' },
      { attname: '__kafka_offset' },
    ]);
    await write([{ op: 'u', id: 4, total: 44, lsn: 6000, lastCommit: 5900, partition: 1, offset: 4 }]);
    await sql("CALL cdc_management.manual_merge('shop', 'invoice')");
    expect(await sql('SELECT total::text FROM shop.invoice WHERE id = 4')).toEqual([{ total: '44' }]);
  });
});
