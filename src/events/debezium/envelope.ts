/**
 * The Debezium change event envelope: `before`, `after`, `source`, `op`, `ts_ms` and, with
 * transaction metadata on, `transaction`. Also the other payloads a connector's topics carry:
 * logical decoding messages (`op: m`), schema change events and heartbeats.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-change-event-values
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-schema-change-topic
 * @see https://debezium.io/documentation/reference/stable/configuration/heartbeat.html
 */
import type { TableId } from '../../schema/table.js';
import { readBase64 } from './value-readers.js';
import { structField, type ConnectSchema } from './connect-schema.js';
import { fail, type BrokerCoordinates, type JsonPath } from './errors.js';
import { isJsonArray, isJsonObject, toPlainJson, type JsonObject } from './json.js';
import type { ResolvedOptions } from './options.js';
import { connectorOf, sourcePosition } from './position.js';
import type { DebeziumOp, DebeziumChangeRecord, ColumnInfo, DecodedRow, DebeziumHeartbeatRecord, DebeziumMessageRecord, DebeziumSchemaChangeRecord } from './record.js';
import { columnsFromRows, columnsFromSchema, decodeRowByType, decodeRowWithSchema, type RowReading } from './row.js';
import { millisField, requireTable, sourceInfo } from './source-block.js';
import { SourceFields } from './source-fields.js';
import { decodeTransactionBlock } from './transaction.js';
import { describe } from './value-readers.js';

/** A decoded record key and its columns. */
export interface DecodedKey {
  readonly row: DecodedRow | null;
  readonly columns: readonly ColumnInfo[];
}

/** What decoding one record's value needs besides the payload. */
export interface PayloadContext {
  readonly at: BrokerCoordinates;
  readonly options: ResolvedOptions;
  /** The value's embedded schema (the `schema` of `{schema, payload}`), if any. */
  readonly schema: ConnectSchema | undefined;
  /** Path of the payload within the record value (`['payload']` or `[]`). */
  readonly root: JsonPath;
  /** Decodes the record key, once the table is known (for its column types). */
  readonly key: (table: TableId | undefined) => DecodedKey;
}

const OPS: Readonly<Record<string, DebeziumOp>> = { c: 'insert', u: 'update', d: 'delete', r: 'read', t: 'truncate' };

/** A row image under the envelope's row schema, or by column type without one. */
function readRow(payload: JsonObject, name: 'before' | 'after', rowSchema: ConnectSchema | undefined, reading: RowReading, ctx: PayloadContext): DecodedRow | null {
  const json = payload.get(name) ?? null;
  if (json === null) return null;
  const path = [...ctx.root, name];
  if (rowSchema) return decodeRowWithSchema(json, rowSchema, path, reading);
  if (ctx.schema) fail(path, `the embedded schema has no struct for ${name}`);
  return decodeRowByType(json, path, reading);
}

/** The row struct of an envelope schema (`after`'s, else `before`'s) and where it is; once per schema. */
function rowSchemaOf(schema: ConnectSchema | undefined): RowSchema | undefined {
  if (!schema?.fields) return undefined;
  let found = ROW_SCHEMAS.get(schema);
  if (found === undefined) {
    found = findRowSchema(schema) ?? null;
    ROW_SCHEMAS.set(schema, found);
  }
  return found ?? undefined;
}

/** A row struct and its path in the record value, for messages. */
interface RowSchema {
  readonly schema: ConnectSchema;
  readonly path: JsonPath;
}

/** {@link rowSchemaOf} by envelope schema; null when it has no row struct. */
const ROW_SCHEMAS = new WeakMap<ConnectSchema, RowSchema | null>();

function findRowSchema(schema: ConnectSchema): RowSchema | undefined {
  for (const name of ['after', 'before']) {
    const index = schema.fields!.findIndex((f) => f.name === name);
    const field = schema.fields![index];
    if (field && field.schema.type === 'struct') return { schema: field.schema, path: ['schema', 'fields', index] };
  }
  return undefined;
}

/**
 * A payload with `op`: a row change, a truncate, or a logical decoding message.
 * @throws {InvalidField} when `op` is unknown, `source` is missing, the rows do not fit the
 * operation (an insert without `after`, a delete with one), or a value does not fit its schema.
 */
export function decodeChangeEnvelope(payload: JsonObject, ctx: PayloadContext): DebeziumChangeRecord | DebeziumMessageRecord {
  const opCode = payload.get('op');
  if (typeof opCode !== 'string' || (!Object.hasOwn(OPS, opCode) && opCode !== 'm')) {
    fail([...ctx.root, 'op'], `expected one of c, u, d, r, t, m, found ${describe(opCode)}`);
  }
  const sourceJson = payload.get('source');
  if (!isJsonObject(sourceJson)) fail([...ctx.root, 'source'], `expected the source block, found ${describe(sourceJson)}`);
  const source = new SourceFields(sourceJson, [...ctx.root, 'source']);
  const connector = connectorOf(source, structField(ctx.schema, 'source')?.schema.name);
  const position = sourcePosition(source, connector, ctx.at);
  const transaction = decodeTransactionBlock(payload.get('transaction'), [...ctx.root, 'transaction']);
  const timestampMs = millisField(source, 'ts_ms');
  const info = sourceInfo(source, connector);
  const envelope = new SourceFields(payload, ctx.root);
  const processedAtMs = millisField(envelope, 'ts_ms');

  if (opCode === 'm') return decodeMessage(payload, ctx, { position, transaction, timestampMs, info, source });

  const op = OPS[opCode]!;
  const table = requireTable(source, connector, ctx.at.topic);
  const reading: RowReading = { types: ctx.options.typesFor(table), settings: ctx.options.settings };
  const rowSchema = rowSchemaOf(ctx.schema);
  const before = readRow(payload, 'before', rowSchema?.schema, reading, ctx);
  const after = readRow(payload, 'after', rowSchema?.schema, reading, ctx);
  checkRows(op, before, after, ctx.root);

  const key = ctx.key(table);
  const columns = rowSchema
    ? columnsFromSchema(rowSchema.schema, rowSchema.path, reading)
    : columnsFromRows(
        [payload.get('after'), payload.get('before')].map((j) => (isJsonObject(j) ? j : undefined)),
        reading,
      );
  const record: { -readonly [K in keyof DebeziumChangeRecord]: DebeziumChangeRecord[K] } = {
    kind: 'change',
    table,
    op,
    before,
    after,
    key: key.row,
    columns,
    keyColumns: key.columns,
    position,
    source: info,
  };
  if (transaction) record.transaction = transaction;
  if (timestampMs !== undefined) record.timestampMs = timestampMs;
  if (processedAtMs !== undefined) record.processedAtMs = processedAtMs;
  return record;
}

function checkRows(op: DebeziumOp, before: DecodedRow | null, after: DecodedRow | null, root: JsonPath): void {
  switch (op) {
    case 'insert':
    case 'read':
    case 'update':
      if (after === null) fail([...root, 'after'], `${op === 'update' ? 'an update' : op === 'read' ? 'a snapshot read' : 'an insert'} needs the new row`);
      break;
    case 'delete':
      if (after !== null) fail([...root, 'after'], 'a delete has no new row');
      break;
    case 'truncate':
      if (before !== null || after !== null) fail([...root, before !== null ? 'before' : 'after'], 'a truncate carries no rows');
      break;
  }
}

interface SourceParts {
  readonly position: DebeziumChangeRecord['position'];
  readonly transaction: DebeziumChangeRecord['transaction'];
  readonly timestampMs: number | undefined;
  readonly info: DebeziumChangeRecord['source'];
  readonly source: SourceFields;
}

function decodeMessage(payload: JsonObject, ctx: PayloadContext, parts: SourceParts): DebeziumMessageRecord {
  const path = [...ctx.root, 'message'];
  const message = payload.get('message');
  if (!isJsonObject(message)) fail(path, `expected the message block, found ${describe(message)}`);
  const prefix = message.get('prefix');
  if (typeof prefix !== 'string') fail([...path, 'prefix'], `expected a string, found ${describe(prefix)}`);
  const txId = parts.source.get('txId');
  const record: { -readonly [K in keyof DebeziumMessageRecord]: DebeziumMessageRecord[K] } = {
    kind: 'message',
    prefix,
    content: readBase64(message.get('content') ?? null, [...path, 'content'], 'message content'),
    transactional: txId !== undefined && txId !== null,
    position: parts.position,
    source: parts.info,
  };
  if (parts.transaction) record.transaction = parts.transaction;
  if (parts.timestampMs !== undefined) record.timestampMs = parts.timestampMs;
  return record;
}

/** True for a schema change event: no `op`, and `ddl`, `tableChanges` or `databaseName`. */
export function isSchemaChange(payload: JsonObject): boolean {
  return !payload.has('op') && (payload.has('tableChanges') || payload.has('ddl') || payload.has('databaseName'));
}

/**
 * A schema change event (`include.schema.changes=true`, MySQL, SQL Server, Oracle…).
 * @throws {InvalidField} when `source` is missing or `tableChanges` is not an array.
 */
export function decodeSchemaChange(payload: JsonObject, ctx: PayloadContext): DebeziumSchemaChangeRecord {
  const sourceJson = payload.get('source');
  if (!isJsonObject(sourceJson)) fail([...ctx.root, 'source'], `expected the source block, found ${describe(sourceJson)}`);
  const source = new SourceFields(sourceJson, [...ctx.root, 'source']);
  const connector = connectorOf(source, structField(ctx.schema, 'source')?.schema.name);
  const tableChanges = payload.get('tableChanges') ?? [];
  if (!isJsonArray(tableChanges)) fail([...ctx.root, 'tableChanges'], `expected an array, found ${describe(tableChanges)}`);
  const envelope = new SourceFields(payload, ctx.root);
  const record: { -readonly [K in keyof DebeziumSchemaChangeRecord]: DebeziumSchemaChangeRecord[K] } = {
    kind: 'schema-change',
    tableChanges: tableChanges.map(toPlainJson),
    position: sourcePosition(source, connector, ctx.at),
    source: sourceInfo(source, connector),
  };
  const database = envelope.string('databaseName');
  const schemaName = envelope.string('schemaName');
  const ddl = envelope.string('ddl');
  const timestampMs = millisField(source, 'ts_ms') ?? millisField(envelope, 'ts_ms');
  if (database !== undefined) record.database = database;
  if (schemaName !== undefined) record.schemaName = schemaName;
  if (ddl !== undefined) record.ddl = ddl;
  if (timestampMs !== undefined) record.timestampMs = timestampMs;
  return record;
}

/** True for a heartbeat: a payload holding only `ts_ms`. */
export function isHeartbeat(payload: JsonObject): boolean {
  return payload.size === 1 && payload.has('ts_ms');
}

/** A heartbeat event. @throws {InvalidField} when `ts_ms` is not an integer. */
export function decodeHeartbeat(payload: JsonObject, ctx: PayloadContext): DebeziumHeartbeatRecord {
  const ms = millisField(new SourceFields(payload, ctx.root), 'ts_ms');
  if (ms === undefined) fail([...ctx.root, 'ts_ms'], 'a heartbeat needs its time');
  return { kind: 'heartbeat', timestampMs: ms };
}
