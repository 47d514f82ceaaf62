/**
 * The entry point: one Kafka record (key and value as JSON bytes or text) → one
 * {@link DebeziumRecord}.
 *
 * Accepted value shapes (Kafka Connect JsonConverter and Debezium Server / embedded engine):
 * - `{schema, payload}` (`schemas.enable=true`; `schema` may be null), or `{payload}` alone;
 * - the bare payload (`schemas.enable=false`);
 * and as payload: a change envelope (`op`), the ExtractNewRecordState form (`__op` /
 * `__deleted`), a transaction BEGIN / END event (`status`), a schema change event, a heartbeat,
 * or null (a tombstone: a null record value, JSON `null`, or `{"schema":null,"payload":null}`).
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-events
 * @see https://debezium.io/documentation/reference/stable/transformations/event-flattening.html
 */
import type { TableId } from '../../schema/table.js';
import { parseConnectSchema, type ConnectSchema } from './connect-schema.js';
import { decodeChangeEnvelope, decodeHeartbeat, decodeSchemaChange, isHeartbeat, isSchemaChange, type DecodedKey, type PayloadContext } from './envelope.js';
import { DebeziumDecodeError, fail, formatJsonPath, InvalidField, type BrokerCoordinates, type JsonPath, type RecordPart } from './errors.js';
import { isJsonObject, JsonEncodingError, JsonSyntaxError, JsonValueCache, parseJson, parseJsonBytes, type JsonObject, type JsonValue } from './json.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import type { DebeziumRecord, DebeziumRecordInput } from './record.js';
import { columnsFromRows, columnsFromSchema, decodeRowByType, decodeRowWithSchema } from './row.js';
import { tableFromTopic } from './source-block.js';
import { decodeTransactionMetadata, isTransactionMetadata } from './transaction.js';
import { decodeUnwrapped, isUnwrapped } from './unwrap.js';
import { describe } from './value-readers.js';

/**
 * Embedded schemas by their exact text: a topic's records repeat the same schema, so its JSON is
 * read once and reused (see {@link JsonValueCache}).
 */
const SCHEMA_TEXTS = new JsonValueCache(256);
const REUSE_SCHEMA = { reuse: { member: 'schema', cache: SCHEMA_TEXTS } } as const;

/** The Kafka Connect schema parsed from a (reused) schema object; only successes are kept. */
const CONNECT_SCHEMAS = new WeakMap<JsonObject, ConnectSchema>();

/** {@link parseConnectSchema} of the `schema` member, once per distinct schema object. */
function connectSchemaOf(json: JsonValue): ConnectSchema {
  if (!isJsonObject(json)) return parseConnectSchema(json, ['schema']);
  let schema = CONNECT_SCHEMAS.get(json);
  if (schema === undefined) {
    schema = parseConnectSchema(json, ['schema']);
    CONNECT_SCHEMAS.set(json, schema);
  }
  return schema;
}

/** The JSON of one part of the record; undefined for an absent (null) part. */
function readJson(raw: Uint8Array | string | null | undefined): JsonValue | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    return typeof raw === 'string' ? parseJson(raw, REUSE_SCHEMA) : parseJsonBytes(raw, REUSE_SCHEMA);
  } catch (error) {
    if (error instanceof JsonEncodingError) fail([], 'not UTF-8 text', error.cause);
    if (error instanceof JsonSyntaxError) fail([], `not JSON (${error.message})`, error);
    throw error;
  }
}

/** A converter envelope split into its schema and payload. */
interface Unenveloped {
  readonly schema: ConnectSchema | undefined;
  readonly payload: JsonValue;
  /** Where the payload is: `['payload']` inside an envelope, `[]` when bare. */
  readonly root: JsonPath;
}

/** `{schema, payload}` or `{payload}` → its parts; anything else is a bare payload. */
function unenvelope(json: JsonValue): Unenveloped {
  if (isJsonObject(json) && json.has('payload') && (json.size === 1 || (json.size === 2 && json.has('schema')))) {
    const schemaJson = json.get('schema');
    const schema = schemaJson === undefined || schemaJson === null ? undefined : connectSchemaOf(schemaJson);
    return { schema, payload: json.get('payload')!, root: ['payload'] };
  }
  return { schema: undefined, payload: json, root: [] };
}

/** Decodes the key once its table is known; errors are reported as the key's. */
function keyDecoder(raw: Uint8Array | string | null | undefined, options: ResolvedOptions, run: <T>(part: RecordPart, f: () => T) => T) {
  return (table: TableId | undefined): DecodedKey =>
    run('key', () => {
      const json = readJson(raw);
      if (json === undefined || json === null) return { row: null, columns: [] };
      const { schema, payload, root } = unenvelope(json);
      if (payload === null) return { row: null, columns: [] };
      if (!isJsonObject(payload)) fail(root, `expected the key as an object of key columns, found ${describe(payload)}`);
      const reading = { types: table ? options.typesFor(table) : undefined, settings: options.settings };
      if (schema) return { row: decodeRowWithSchema(payload, schema, root, reading), columns: columnsFromSchema(schema, ['schema'], reading) };
      return { row: decodeRowByType(payload, root, reading), columns: columnsFromRows([payload], reading) };
    });
}

/**
 * Decodes one Debezium record.
 *
 * Values come out as PostgreSQL text (see {@link DecodedRow}); numbers are read from the JSON
 * text exactly (an int64 or a decimal never passes through a double). Positions come from the
 * source block (PostgreSQL LSNs, SQL Server LSNs, MySQL binlog coordinates), else from
 * `partition` and `offset`.
 * @example
 * const record = decodeDebeziumRecord({ topic: 'pg.public.orders', partition: 0, offset: 42n, key, value });
 * if (record.kind === 'change' && record.op === 'update') upsert(record.table, record.after);
 * @throws {DebeziumDecodeError} code `DEBEZIUM_EVENT_INVALID` when the record is not UTF-8 JSON,
 * not a Debezium shape, or a value does not match its schema (or its supplied column type); the
 * message names topic, partition, offset, key or value, and the JSON path
 * (`payload.after.total: expected base64 for Decimal`).
 */
export function decodeDebeziumRecord(input: DebeziumRecordInput): DebeziumRecord {
  const at: { -readonly [K in keyof BrokerCoordinates]: BrokerCoordinates[K] } = { topic: input.topic };
  if (input.partition !== undefined) at.partition = input.partition;
  if (input.offset !== undefined) at.offset = input.offset;
  const run = <T>(part: RecordPart, f: () => T): T => {
    try {
      return f();
    } catch (error) {
      if (error instanceof InvalidField) {
        throw new DebeziumDecodeError(at, part, error.reason, { path: error.path.length > 0 ? formatJsonPath(error.path) : undefined, cause: error });
      }
      throw error;
    }
  };
  const options = run('value', () => {
    try {
      return resolveOptions(input.options);
    } catch (error) {
      fail([], error instanceof Error ? error.message : String(error), error);
    }
  });
  const key = keyDecoder(input.key, options, run);
  return run('value', () => {
    const json = readJson(input.value);
    const tombstone = () => {
      const k = key(tableFromTopic(input.topic));
      return { kind: 'tombstone' as const, key: k.row, keyColumns: k.columns };
    };
    if (json === undefined || json === null) return tombstone();
    const { schema, payload, root } = unenvelope(json);
    if (payload === null) return tombstone();
    if (!isJsonObject(payload)) fail(root, `expected a Debezium event object, found ${describe(payload)}`);
    const ctx: PayloadContext = { at, options, schema, root, key };
    if (payload.has('op')) return decodeChangeEnvelope(payload, ctx);
    if (isTransactionMetadata(payload)) return decodeTransactionMetadata(payload, root);
    if (isUnwrapped(payload)) return decodeUnwrapped(payload, ctx);
    if (isSchemaChange(payload)) return decodeSchemaChange(payload, ctx);
    if (isHeartbeat(payload)) return decodeHeartbeat(payload, ctx);
    fail(root, 'not a Debezium event: no op (change envelope), __op or __deleted (ExtractNewRecordState), status (transaction metadata), ddl / tableChanges (schema change) or ts_ms alone (heartbeat)');
  });
}
