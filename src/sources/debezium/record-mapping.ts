/**
 * From a decoded Debezium change record to the change model the sinks take (src/events): the
 * table's shape (columns and types from the event schema, key from the record key) and one row
 * change. Debezium's `c` and `r` become inserts, `u` an update (with the old key when the key
 * changed, DESIGN.md §3.6), `d` a delete of the old key (or whole old row).
 */
import { CdcError } from '../../errors.js';
import type { ColumnValue, RowChangeMessage, RowOrigin, RowValues, TruncateMessage } from '../../events/change.js';
import type { ColumnInfo, DebeziumChangeRecord, DecodedRow } from '../../events/debezium/index.js';
import type { TableId, TableSchema } from '../../schema/table.js';
import { isToastable, logicalTypeOf } from '../../schema/type-map.js';

/**
 * The table shape a change record describes, at target id `id`: its columns in schema order
 * (type `text` when the event carries no schema and no column type was supplied; nullable
 * unless the schema says otherwise) and its primary key from the record key's columns, else
 * `configuredKey` (transports that carry no record key, such as Debezium Server's NATS sink). A
 * key column missing from the row's columns is left out of the key.
 *
 * Records of one table repeat the same shape, so the result is cached: for the same columns
 * (the same frozen array the decoder shares between records of one schema, or equal columns),
 * an id naming the same table, the same record key columns and an equal `configuredKey`, the
 * same {@link TableSchema} object comes back. Callers may therefore compare shapes by identity
 * first (`sameShape` does) and must treat the result as read-only, as its type says.
 */
export function tableFromRecord(record: DebeziumChangeRecord, id: TableId, configuredKey?: readonly string[]): TableSchema {
  const entries = derivedEntries(record.columns);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.table.id.schema === id.schema && e.table.id.name === id.name && sameNames(e.keyColumns, record.keyColumns) && sameKey(e.configuredKey, configuredKey)) {
      return e.table;
    }
  }
  const table = deriveTable(record, id, configuredKey);
  // A stream has few shapes per column list; a long list means ids or keys keep changing.
  if (entries.length >= MAX_ENTRIES_PER_COLUMNS) entries.length = 0;
  entries.push({ keyColumns: record.keyColumns.map((k) => k.name), configuredKey: configuredKey ? [...configuredKey] : undefined, table });
  return table;
}

function deriveTable(record: DebeziumChangeRecord, id: TableId, configuredKey: readonly string[] | undefined): TableSchema {
  const columns = record.columns.map((c) => {
    const type = c.type ?? 'text';
    // The schema's default stands for the value rows that existed before the column was added.
    return { name: c.name, type, logicalType: logicalTypeOf(type), nullable: c.nullable ?? true, toastable: toastable(type), ...(c.defaultValue === undefined ? {} : { missingValue: c.defaultValue }) };
  });
  const names = new Set(columns.map((c) => c.name));
  const fromRecord = record.keyColumns.map((k) => k.name).filter((k) => names.has(k));
  const primaryKey = fromRecord.length > 0 ? fromRecord : (configuredKey ?? []).filter((k) => names.has(k));
  // Shared by every record of the shape (see tableFromRecord): frozen, so that a consumer that
  // changed it would fail loudly instead of changing the shape of later records.
  return Object.freeze({
    id: Object.freeze({ schema: id.schema, name: id.name }),
    columns: Object.freeze(columns.map((c) => Object.freeze(primaryKey.includes(c.name) ? { ...c, nullable: false } : c))),
    primaryKey: Object.freeze(primaryKey),
  });
}

/** One cached {@link tableFromRecord} result and the inputs besides the columns that made it. */
interface DerivedTable {
  /** Names of the record key's columns. */
  readonly keyColumns: readonly string[];
  readonly configuredKey: readonly string[] | undefined;
  readonly table: TableSchema;
}

const MAX_ENTRIES_PER_COLUMNS = 16;
/** Cached results by column list: frozen (shared) lists by identity, others by their content. */
const BY_SHARED_COLUMNS = new WeakMap<readonly ColumnInfo[], DerivedTable[]>();
const BY_COLUMN_TEXT = new Map<string, DerivedTable[]>();
/** Distinct column lists kept in {@link BY_COLUMN_TEXT} before it starts over. */
const MAX_COLUMN_TEXTS = 1024;

function derivedEntries(columns: readonly ColumnInfo[]): DerivedTable[] {
  if (Object.isFrozen(columns)) {
    let entries = BY_SHARED_COLUMNS.get(columns);
    if (entries === undefined) {
      entries = [];
      BY_SHARED_COLUMNS.set(columns, entries);
    }
    return entries;
  }
  // NUL cannot occur in a PostgreSQL identifier or type name, so the text is unambiguous.
  let text = '';
  for (const c of columns) text += `${c.name}\u0000${c.type ?? ''}\u0000${c.nullable === undefined ? 'u' : c.nullable ? 'y' : 'n'}\u0000`;
  let entries = BY_COLUMN_TEXT.get(text);
  if (entries === undefined) {
    if (BY_COLUMN_TEXT.size >= MAX_COLUMN_TEXTS) BY_COLUMN_TEXT.clear();
    entries = [];
    BY_COLUMN_TEXT.set(text, entries);
  }
  return entries;
}

function sameNames(names: readonly string[], columns: readonly ColumnInfo[]): boolean {
  if (names.length !== columns.length) return false;
  for (let i = 0; i < names.length; i++) if (names[i] !== columns[i]!.name) return false;
  return true;
}

function sameKey(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** {@link isToastable} by type name, remembered (it parses the type each time). */
const TOASTABLE = new Map<string, boolean>();

function toastable(type: string): boolean {
  let t = TOASTABLE.get(type);
  if (t === undefined) {
    t = isToastable(type);
    if (TOASTABLE.size >= MAX_COLUMN_TEXTS) TOASTABLE.clear();
    TOASTABLE.set(type, t);
  }
  return t;
}

function values(row: DecodedRow, table: TableSchema): RowValues {
  const columns = table.columns;
  const out = new Array<ColumnValue>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    // Rows have no prototype and never hold undefined: undefined means the column is absent.
    const v = row[columns[i]!.name];
    out[i] = v === undefined ? null : v;
  }
  return out;
}

function keyChanged(before: DecodedRow, after: DecodedRow, table: TableSchema): boolean {
  return table.primaryKey.some((k) => Object.hasOwn(before, k) && before[k] !== after[k]);
}

/**
 * The row change (or TRUNCATE) of `record` for `table` (from {@link tableFromRecord}), at
 * `origin` (the message's row position and commit time; the change is its ordinal 0).
 * `where` names the message in errors (`subject seq 42`); a function is called only for an
 * error, so a caller can skip building the text for every message.
 * @throws {CdcError} DEBEZIUM_EVENT_INVALID for a delete that carries neither the old row nor a
 *   key, or an insert or update without its new row; MISSING_OLD_ROW for an update of a table
 *   without a primary key whose `before` is absent or lacks columns (the source table's REPLICA
 *   IDENTITY is not FULL): the sink could not tell which row it changes. The Debezium source
 *   dead-letters both (or stops, with `on_invalid: stop`).
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-replica-identity
 */
export function changeFromRecord(record: DebeziumChangeRecord, table: TableSchema, origin: RowOrigin, where: string | (() => string)): RowChangeMessage | TruncateMessage {
  switch (record.op) {
    case 'insert':
    case 'read':
      return { kind: 'insert', table: table.id, origin, ordinal: 0, row: values(record.after ?? invalid(where, `a ${record.op} without "after"`), table) };
    case 'update': {
      const after = record.after ?? invalid(where, 'an update without "after"');
      const before = record.before;
      if (table.primaryKey.length === 0) {
        // A keyless table's row is identified by all its columns: the update replaces the old row.
        if (!before || !table.columns.every((c) => Object.hasOwn(before, c.name))) missingOldRow(where, table, before !== null);
        return { kind: 'update', table: table.id, origin, ordinal: 0, row: values(after, table), oldRow: values(before, table) };
      }
      return before && keyChanged(before, after, table)
        ? { kind: 'update', table: table.id, origin, ordinal: 0, row: values(after, table), oldRow: values(before, table) }
        : { kind: 'update', table: table.id, origin, ordinal: 0, row: values(after, table) };
    }
    case 'delete':
      return { kind: 'delete', table: table.id, origin, ordinal: 0, oldRow: values(record.before ?? record.key ?? invalid(where, 'a delete with neither "before" nor a key'), table) };
    case 'truncate':
      return { kind: 'truncate', tables: [table.id] };
  }
}

/**
 * The delete a keyed Kafka tombstone stands for (compacted topics; the unwrap transform's
 * default `delete.tombstone.handling.mode=tombstone`, which sends a delete as a tombstone only):
 * the row with the record key's values, at `origin`. Columns not in the key are NULL.
 */
export function deleteFromKey(key: DecodedRow, table: TableSchema, origin: RowOrigin): RowChangeMessage {
  return { kind: 'delete', table: table.id, origin, ordinal: 0, oldRow: values(key, table) };
}

function missingOldRow(where: string | (() => string), table: TableSchema, partial: boolean): never {
  const name = `${table.id.schema}.${table.id.name}`;
  throw new CdcError(
    'MISSING_OLD_ROW',
    `${typeof where === 'string' ? where : where()}: an update of ${name}, which has no primary key, ${partial ? 'with an incomplete "before"' : 'without "before"'}: the row it changes cannot be told (set REPLICA IDENTITY FULL on the source table, or declare its key)`,
    { remedy: `set REPLICA IDENTITY FULL on the source table (ALTER TABLE ${name} REPLICA IDENTITY FULL), or declare its key under debezium.keys` },
  );
}

function invalid(where: string | (() => string), what: string): never {
  throw new CdcError('DEBEZIUM_EVENT_INVALID', `${typeof where === 'string' ? where : where()}: ${what}`, {
    remedy: 'check the connector configuration (replica identity, key columns)',
  });
}
