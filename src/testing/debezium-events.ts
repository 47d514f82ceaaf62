/**
 * Debezium change events for tests and benchmarks (PostgreSQL connector, JSON converter with the embedded
 * schema) built from rows of a real PostgreSQL table, in the shape Debezium Server publishes:
 * `{ schema, payload: { before, after, source, op, ts_ms } }`. Only the column types the tests use
 * are covered: smallint/integer/bigint, text/varchar, numeric(p,s) (Kafka Connect Decimal), and
 * timestamp without time zone (io.debezium.time.MicroTimestamp).
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-events
 */
import type { TableSchema } from '../schema/table.js';

/** A row as text values (what `pg` returns with every type parser off), by column name. */
export type TextRow = Record<string, string | null>;

function fieldSchema(column: TableSchema['columns'][number]): Record<string, unknown> {
  const optional = column.nullable;
  const t = column.type;
  if (t === 'integer') return { type: 'int32', optional, field: column.name };
  if (t === 'smallint') return { type: 'int16', optional, field: column.name };
  if (t === 'bigint') return { type: 'int64', optional, field: column.name };
  if (t === 'text' || t.startsWith('character varying')) return { type: 'string', optional, field: column.name };
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(t);
  if (numeric) {
    return { type: 'bytes', optional, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: numeric[2], 'connect.decimal.precision': numeric[1] }, field: column.name };
  }
  if (t.startsWith('timestamp') && t.endsWith('without time zone')) return { type: 'int64', optional, name: 'io.debezium.time.MicroTimestamp', version: 1, field: column.name };
  throw new Error(`test event builder: no Debezium schema for ${t}`);
}

/** Kafka Connect Decimal: the unscaled value as big-endian two's-complement bytes, base64. */
function decimal(text: string, scale: number): string {
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  let unscaled = BigInt(whole + fraction.padEnd(scale, '0').slice(0, scale));
  if (text.startsWith('-')) unscaled = -unscaled;
  const bytes: number[] = [];
  let v = unscaled;
  do {
    bytes.unshift(Number(BigInt.asUintN(8, v)));
    v >>= 8n;
  } while (!((v === 0n && (bytes[0]! & 0x80) === 0) || (v === -1n && (bytes[0]! & 0x80) !== 0)));
  return Buffer.from(bytes).toString('base64');
}

function value(column: TableSchema['columns'][number], text: string | null): unknown {
  if (text === null) return null;
  const t = column.type;
  if (t === 'integer' || t === 'smallint' || t === 'bigint') return { raw: text };
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(t);
  if (numeric) return decimal(text, Number(numeric[2]));
  if (t.startsWith('timestamp')) return { raw: String(BigInt(Date.parse(`${text.replace(' ', 'T')}Z`)) * 1000n) };
  return text;
}

/** JSON with `{ raw }` written as a bare number (int64 values beyond 2^53 stay exact). */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) => (x && typeof x === 'object' && 'raw' in x ? `@@${(x as { raw: string }).raw}@@` : x)).replace(/"@@(-?\d+)@@"/g, '$1');
}

/** One change event. `lsn` must grow with every event (it orders the changes). */
export function debeziumEvent(e: {
  table: TableSchema;
  op: 'r' | 'c' | 'u' | 'd';
  before?: TextRow;
  after?: TextRow;
  lsn: bigint;
  txId: number;
  tsMs: number;
  /** Debezium's transaction block (`provide.transaction.metadata=true`). */
  transaction?: { id: string; totalOrder: number; dataCollectionOrder: number };
  /**
   * The LSN of the last committed transaction: adds the source block's `sequence`
   * (`["lastCommitLsn","lsn"]`), as Debezium 1.4 and later write it.
   */
  lastCommitLsn?: bigint;
}): string {
  const fields = e.table.columns.map(fieldSchema);
  const row = (r: TextRow | undefined) => (r ? Object.fromEntries(e.table.columns.map((c) => [c.name, value(c, r[c.name] ?? null)])) : null);
  const rowSchema = (field: string) => ({ type: 'struct', fields, optional: true, name: `chinook.${e.table.id.schema}.${e.table.id.name}.Value`, field });
  const schema = {
    type: 'struct',
    name: `chinook.${e.table.id.schema}.${e.table.id.name}.Envelope`,
    optional: false,
    fields: [
      rowSchema('before'),
      rowSchema('after'),
      {
        type: 'struct',
        optional: false,
        name: 'io.debezium.connector.postgresql.Source',
        field: 'source',
        fields: [
          { type: 'string', optional: false, field: 'version' },
          { type: 'string', optional: false, field: 'connector' },
          { type: 'string', optional: false, field: 'name' },
          { type: 'int64', optional: false, field: 'ts_ms' },
          { type: 'string', optional: false, field: 'db' },
          { type: 'string', optional: false, field: 'schema' },
          { type: 'string', optional: false, field: 'table' },
          { type: 'int64', optional: true, field: 'txId' },
          { type: 'int64', optional: true, field: 'lsn' },
          ...(e.lastCommitLsn === undefined ? [] : [{ type: 'string', optional: true, field: 'sequence' }]),
        ],
      },
      { type: 'string', optional: false, field: 'op' },
      { type: 'int64', optional: true, field: 'ts_ms' },
      {
        type: 'struct',
        optional: true,
        name: 'event.block',
        field: 'transaction',
        fields: [
          { type: 'string', optional: false, field: 'id' },
          { type: 'int64', optional: false, field: 'total_order' },
          { type: 'int64', optional: false, field: 'data_collection_order' },
        ],
      },
    ],
  };
  const payload = {
    before: row(e.before),
    after: row(e.after),
    source: {
      version: '2.7.0.Final',
      connector: 'postgresql',
      name: 'chinook',
      ts_ms: { raw: String(e.tsMs) },
      db: 'chinook',
      schema: e.table.id.schema,
      table: e.table.id.name,
      txId: { raw: String(e.txId) },
      lsn: { raw: e.lsn.toString() },
      ...(e.lastCommitLsn === undefined ? {} : { sequence: JSON.stringify([e.lastCommitLsn.toString(), e.lsn.toString()]) }),
    },
    op: e.op,
    ts_ms: { raw: String(e.tsMs + 5) },
    transaction: e.transaction
      ? { id: e.transaction.id, total_order: { raw: String(e.transaction.totalOrder) }, data_collection_order: { raw: String(e.transaction.dataCollectionOrder) } }
      : null,
  };
  return toJson({ schema, payload });
}

/** A Debezium transaction metadata event (BEGIN or END), as the connector writes it to `<prefix>.transaction`. */
export function debeziumTransactionEvent(status: 'BEGIN' | 'END', id: string, eventCount?: number): string {
  return JSON.stringify({
    status,
    id,
    event_count: status === 'END' ? (eventCount ?? 0) : null,
    data_collections: null,
    ts_ms: 1_700_000_000_000,
  });
}

/**
 * The Kafka record key Debezium writes with a change event (JSON converter with the embedded
 * schema): the table's primary-key columns of `row`, as `{ schema, payload }`.
 * @throws {Error} when the table has no primary key (Debezium then writes a null key) or a column
 *   type the builder does not cover.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-change-events-key
 */
export function debeziumKey(table: TableSchema, row: TextRow): string {
  if (table.primaryKey.length === 0) throw new Error(`test event builder: ${table.id.schema}.${table.id.name} has no primary key, so Debezium writes no record key`);
  const columns = table.primaryKey.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (!column) throw new Error(`test event builder: key column ${name} is not a column of ${table.id.name}`);
    return column;
  });
  const schema = { type: 'struct', fields: columns.map(fieldSchema), optional: false, name: `chinook.${table.id.schema}.${table.id.name}.Key` };
  return toJson({ schema, payload: Object.fromEntries(columns.map((c) => [c.name, value(c, row[c.name] ?? null)])) });
}
