/**
 * The `source` block of a Debezium event, apart from the position (see `position.ts`): which
 * table the change belongs to and facts about the connector.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-create-events
 */
import type { TableId } from '../../schema/table.js';
import { fail } from './errors.js';
import { JsonNumber, type JsonValue } from './json.js';
import type { DebeziumSourceInfo } from './record.js';
import type { SourceFields } from './source-fields.js';
import { describe } from './value-readers.js';

/** The table named by the topic `<prefix>.<schema>.<table>` (the last two dot-separated parts). */
export function tableFromTopic(topic: string): TableId | undefined {
  // Records come topic by topic: remember the last answer (a fresh object each time).
  if (topic !== lastTopic) {
    lastTopic = topic;
    lastTable = splitTopic(topic);
  }
  return lastTable === undefined ? undefined : { schema: lastTable.schema, name: lastTable.name };
}

let lastTopic: string | undefined;
let lastTable: TableId | undefined;

function splitTopic(topic: string): TableId | undefined {
  const parts = topic.split('.');
  if (parts.length < 3) return undefined;
  const name = parts[parts.length - 1]!;
  const schema = parts[parts.length - 2]!;
  return name !== '' && schema !== '' ? { schema, name } : undefined;
}

/**
 * The table of an event: `table` from the source fields, with `schema` (PostgreSQL, SQL Server)
 * or, for MySQL, which has no schemas, `db`; parts the fields lack come from the topic.
 * @throws {InvalidField} when neither the fields nor the topic name a table.
 */
export function tableOf(source: SourceFields | undefined, connector: string | undefined, topic: string): TableId | undefined {
  let name = nonEmpty(source?.text('table'));
  let schema = nonEmpty(source?.text('schema'));
  if (schema === undefined && (connector === 'mysql' || connector === 'mariadb')) schema = nonEmpty(source?.text('db'));
  if (name === undefined || schema === undefined) {
    const fromTopic = tableFromTopic(topic);
    name ??= fromTopic?.name;
    schema ??= fromTopic?.schema;
  }
  return name === undefined || schema === undefined ? undefined : { schema, name };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

/** {@link tableOf}, failing at the source fields when there is no table. */
export function requireTable(source: SourceFields, connector: string | undefined, topic: string): TableId {
  const table = tableOf(source, connector, topic);
  if (!table) fail(source.path, `no table: the source names none and the topic ${JSON.stringify(topic)} is not <prefix>.<schema>.<table>`);
  return table;
}

/** Connector facts from source fields. */
export function sourceInfo(source: SourceFields, connector: string | undefined): DebeziumSourceInfo {
  const info: { -readonly [K in keyof DebeziumSourceInfo]: DebeziumSourceInfo[K] } = {};
  if (connector !== undefined) info.connector = connector;
  // One named store per field (not a computed key): this runs for every event.
  const version = source.text('version');
  if (version !== undefined) info.version = version;
  const serverName = source.text('name');
  if (serverName !== undefined) info.serverName = serverName;
  const database = source.text('db');
  if (database !== undefined) info.database = database;
  const snapshot = source.text('snapshot');
  if (snapshot !== undefined) info.snapshot = snapshot;
  const txId = source.text('txId');
  if (txId !== undefined) info.txId = txId;
  const gtid = source.text('gtid');
  if (gtid !== undefined) info.gtid = gtid;
  return info;
}

/** The largest millisecond time a JavaScript `Date` can hold: ±100,000,000 days around 1970. */
const MAX_MILLIS = 8.64e15;

/**
 * A millisecond timestamp field (`ts_ms`, `source_ts_ms`), milliseconds since 1970-01-01 UTC;
 * undefined when absent, null or 0 (older snapshots write 0 for "unknown").
 * @throws {InvalidField} when present but not an integer, or beyond ±8.64e15 (a `Date`'s range:
 * such a value is a unit mix-up, microseconds or nanoseconds in a milliseconds field).
 */
export function millisField(source: SourceFields, key: string): number | undefined {
  const v = source.get(key);
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof JsonNumber)) notMillis(source, key, v);
  // An integer of up to 15 digits needs no other check than its range.
  const ms = v.safeInteger ?? (v.isInteger ? Number(v.text) : notMillis(source, key, v));
  if (!(Math.abs(ms) <= MAX_MILLIS)) fail(source.pathOf(key), `${v.text} is not a time in milliseconds (beyond ±${MAX_MILLIS}; microseconds or nanoseconds?)`);
  return ms === 0 ? undefined : ms;
}

function notMillis(source: SourceFields, key: string, v: JsonValue): never {
  fail(source.pathOf(key), `expected milliseconds since 1970-01-01, found ${describe(v)}`);
}
