/**
 * Debezium transaction metadata (`provide.transaction.metadata=true`): BEGIN and END events on
 * the `<prefix>.transaction` topic, and the `transaction` block each change event then carries.
 * Together they let a consumer assemble complete source transactions (DESIGN.md §3.3): a
 * transaction is complete when, for its END event's `data_collections`, as many change events
 * have arrived as `event_count` says.
 * The record types (`DebeziumTransactionRecord`, `TransactionBlock`) are in record.ts.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-transaction-metadata
 */
import { fail, type JsonPath } from './errors.js';
import { isJsonArray, isJsonObject, JsonNumber, type JsonObject, type JsonValue } from './json.js';
import type { DebeziumTransactionRecord, TransactionBlock } from './record.js';
import { millisField } from './source-block.js';
import { SourceFields } from './source-fields.js';
import { describe, readInteger } from './value-readers.js';

/** True when a payload looks like a transaction metadata event (has `status` BEGIN / END and an `id`). */
export function isTransactionMetadata(payload: JsonObject): boolean {
  const status = payload.get('status');
  return (status === 'BEGIN' || status === 'END') && payload.has('id') && !payload.has('op');
}

function safeNumber(json: JsonValue, path: JsonPath, what: string): number {
  const value = readInteger(json, path, what, 64);
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) fail(path, `${what} ${value} is out of range`);
  return Number(value);
}

/**
 * Reads a BEGIN / END event.
 * @throws {InvalidField} when `id` is missing, or counts are not non-negative integers.
 */
export function decodeTransactionMetadata(payload: JsonObject, path: JsonPath): DebeziumTransactionRecord {
  const status = payload.get('status') as 'BEGIN' | 'END';
  const id = payload.get('id');
  if (typeof id !== 'string' || id === '') fail([...path, 'id'], `expected the transaction id, found ${describe(id)}`);
  const record: { -readonly [K in keyof DebeziumTransactionRecord]: DebeziumTransactionRecord[K] } = { kind: 'transaction', status, id };
  const count = payload.get('event_count');
  if (count !== undefined && count !== null) record.eventCount = safeNumber(count, [...path, 'event_count'], 'event_count');
  const collections = payload.get('data_collections');
  if (collections !== undefined && collections !== null) {
    if (!isJsonArray(collections)) fail([...path, 'data_collections'], `expected an array, found ${describe(collections)}`);
    record.dataCollections = collections.map((c, i) => {
      const itemPath = [...path, 'data_collections', i];
      if (!isJsonObject(c)) fail(itemPath, `expected an object, found ${describe(c)}`);
      const name = c.get('data_collection');
      if (typeof name !== 'string') fail([...itemPath, 'data_collection'], `expected the table name, found ${describe(name)}`);
      return { dataCollection: name, eventCount: safeNumber(c.get('event_count') ?? null, [...itemPath, 'event_count'], 'event_count') };
    });
  }
  const ts = millisField(new SourceFields(payload, path), 'ts_ms');
  if (ts !== undefined) record.timestampMs = ts;
  return record;
}

/**
 * Reads the `transaction` block of a change event; undefined when absent or null (metadata off).
 * @throws {InvalidField} when present but malformed.
 */
export function decodeTransactionBlock(json: JsonValue | undefined, path: JsonPath): TransactionBlock | undefined {
  if (json === undefined || json === null) return undefined;
  if (!isJsonObject(json)) fail(path, `expected the transaction block, found ${describe(json)}`);
  const id = json.get('id');
  if (typeof id !== 'string' && !(id instanceof JsonNumber)) fail([...path, 'id'], `expected the transaction id, found ${describe(id)}`);
  return {
    id: typeof id === 'string' ? id : id.text,
    totalOrder: safeNumber(json.get('total_order') ?? null, [...path, 'total_order'], 'total_order'),
    dataCollectionOrder: safeNumber(json.get('data_collection_order') ?? null, [...path, 'data_collection_order'], 'data_collection_order'),
  };
}
