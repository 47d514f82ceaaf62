/**
 * The ExtractNewRecordState ("unwrap") form: the SMT replaces the envelope with the new row
 * (for deletes, with `delete.handling.mode=rewrite`, the old row) and adds the fields listed in
 * `add.fields` with a `__` prefix: `__op`, `__table`, `__lsn`, `__source_ts_ms`, `__db`… plus
 * `__deleted` (`"true"` / `"false"`) for rewritten deletes.
 *
 * The `__` fields are removed from the row and kept in {@link DebeziumChangeRecord.unwrapFields}; the
 * ones that name a table or a position (`__table`, `__schema`, `__db`, `__lsn`, `__sequence`,
 * `__commit_lsn`, `__change_lsn`, `__event_serial_no`, `__file`, `__pos`, `__row`) are read as
 * the source block would be. Without `__op`, a row that is not deleted decodes as an `update`
 * with no `before`: the SMT does not say whether it was inserted or updated, and a sink upserts
 * both alike (DESIGN.md §3.4).
 * @see https://debezium.io/documentation/reference/stable/transformations/event-flattening.html
 */
import { fail } from './errors.js';
import { JsonNumber, stringifyJson, type JsonObject } from './json.js';
import type { PayloadContext } from './envelope.js';
import { connectorOf, sourcePosition } from './position.js';
import type { DebeziumOp, DebeziumChangeRecord } from './record.js';
import { columnsFromRows, columnsFromSchema, decodeRowByType, decodeRowWithSchema, type RowReading } from './row.js';
import { millisField, requireTable, sourceInfo } from './source-block.js';
import { SourceFields } from './source-fields.js';
import { describe } from './value-readers.js';

const PREFIX = '__';
const isAdded = (name: string) => name.startsWith(PREFIX);
const isColumn = (name: string) => !isAdded(name);

const OPS: Readonly<Record<string, DebeziumOp>> = { c: 'insert', u: 'update', d: 'delete', r: 'read', t: 'truncate' };

/** True for the unwrap form: no `op`, and an `__op` or `__deleted` field. */
export function isUnwrapped(payload: JsonObject): boolean {
  return !payload.has('op') && (payload.has('__op') || payload.has('__deleted'));
}

/**
 * Decodes an unwrapped row.
 * @throws {InvalidField} when `__op` or `__deleted` has an unknown value, they contradict each
 * other, or a value does not fit its schema.
 */
export function decodeUnwrapped(payload: JsonObject, ctx: PayloadContext): DebeziumChangeRecord {
  const fields = new SourceFields(payload, ctx.root, PREFIX);
  const deletedJson = fields.get('deleted');
  let deleted: boolean | undefined;
  if (deletedJson === 'true' || deletedJson === true) deleted = true;
  else if (deletedJson === 'false' || deletedJson === false) deleted = false;
  else if (deletedJson !== undefined && deletedJson !== null) fail(fields.pathOf('deleted'), `expected "true" or "false", found ${describe(deletedJson)}`);

  const opCode = fields.string('op');
  if (opCode !== undefined && !Object.hasOwn(OPS, opCode)) fail(fields.pathOf('op'), `expected one of c, u, d, r, t, found ${JSON.stringify(opCode)}`);
  if (opCode === 'd' && deleted === false) fail(fields.pathOf('deleted'), '__op is d but __deleted is "false"');
  const op: DebeziumOp = deleted === true ? 'delete' : opCode !== undefined ? OPS[opCode]! : 'update';
  if (deleted === true && opCode !== undefined && opCode !== 'd') fail(fields.pathOf('op'), `__deleted is "true" but __op is ${opCode}`);

  const connector = connectorOf(fields);
  const position = sourcePosition(fields, connector, ctx.at);
  const table = requireTable(fields, connector, ctx.at.topic);
  const reading: RowReading = { types: ctx.options.typesFor(table), settings: ctx.options.settings, isColumn };
  const row = op === 'truncate' ? null : ctx.schema ? decodeRowWithSchema(payload, ctx.schema, ctx.root, reading) : decodeRowByType(payload, ctx.root, reading);
  const columns = ctx.schema ? columnsFromSchema(ctx.schema, ['schema'], reading) : columnsFromRows([payload], reading);

  const unwrapFields: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
  for (const [name, value] of payload) {
    if (!isAdded(name)) continue;
    unwrapFields[name.slice(PREFIX.length)] =
      value === null ? null : typeof value === 'string' ? value : value instanceof JsonNumber ? value.text : typeof value === 'boolean' ? String(value) : stringifyJson(value);
  }

  const key = ctx.key(table);
  const record: { -readonly [K in keyof DebeziumChangeRecord]: DebeziumChangeRecord[K] } = {
    kind: 'change',
    table,
    op,
    before: op === 'delete' ? row : null,
    after: op === 'delete' ? null : row,
    key: key.row,
    columns,
    keyColumns: key.columns,
    position,
    source: sourceInfo(fields, connector),
    unwrapFields,
  };
  const timestampMs = millisField(fields, 'source_ts_ms');
  const processedAtMs = millisField(fields, 'ts_ms');
  if (timestampMs !== undefined) record.timestampMs = timestampMs;
  if (processedAtMs !== undefined) record.processedAtMs = processedAtMs;
  return record;
}
