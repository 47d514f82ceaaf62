/**
 * From a decoded Debezium change record to the change model the sinks take (src/events): the
 * table's shape (columns and types from the event schema, key from the record key) and one row
 * change. Debezium's `c` and `r` become inserts, `u` an update (with the old key when the key
 * changed, DESIGN.md §3.6), `d` a delete of the old key (or whole old row).
 */
import { CdcError } from '../../errors.js';
import type { ColumnValue, RowChangeMessage, RowValues, TruncateMessage } from '../../events/change.js';
import type { DebeziumChangeRecord, DecodedRow } from '../../events/debezium/index.js';
import type { TableId, TableSchema } from '../../schema/table.js';
import { isToastable } from '../../schema/type-map.js';

/**
 * The table shape a change record describes, at target id `id`: its columns in schema order
 * (type `text` when the event carries no schema and no column type was supplied; nullable
 * unless the schema says otherwise) and its primary key from the record key's columns, else
 * `configuredKey` (transports that carry no record key, such as Debezium Server's NATS sink). A
 * key column missing from the row's columns is left out of the key.
 */
export function tableFromRecord(record: DebeziumChangeRecord, id: TableId, configuredKey?: readonly string[]): TableSchema {
  const columns = record.columns.map((c) => {
    const type = c.type ?? 'text';
    return { name: c.name, type, nullable: c.nullable ?? true, toastable: isToastable(type) };
  });
  const names = new Set(columns.map((c) => c.name));
  const fromRecord = record.keyColumns.map((k) => k.name).filter((k) => names.has(k));
  const primaryKey = fromRecord.length > 0 ? fromRecord : (configuredKey ?? []).filter((k) => names.has(k));
  return { id, columns: columns.map((c) => (primaryKey.includes(c.name) ? { ...c, nullable: false } : c)), primaryKey };
}

function values(row: DecodedRow, table: TableSchema): RowValues {
  return table.columns.map((c): ColumnValue => (Object.hasOwn(row, c.name) ? row[c.name]! : null));
}

function keyChanged(before: DecodedRow, after: DecodedRow, table: TableSchema): boolean {
  return table.primaryKey.some((k) => Object.hasOwn(before, k) && before[k] !== after[k]);
}

/**
 * The row change (or TRUNCATE) of `record` for `table` (from {@link tableFromRecord}).
 * @throws {CdcError} DEBEZIUM_EVENT_INVALID for a delete that carries neither the old row nor a
 *   key, or an insert or update without its new row.
 */
export function changeFromRecord(record: DebeziumChangeRecord, table: TableSchema, where: string): RowChangeMessage | TruncateMessage {
  const fail = (what: string): never => {
    throw new CdcError('DEBEZIUM_EVENT_INVALID', `${where}: ${what}`, { remedy: 'check the connector configuration (replica identity, key columns)' });
  };
  switch (record.op) {
    case 'insert':
    case 'read':
      return { kind: 'insert', table: table.id, ordinal: 0, row: values(record.after ?? fail(`a ${record.op} without "after"`), table) };
    case 'update': {
      const after = record.after ?? fail('an update without "after"');
      const before = record.before;
      return before && keyChanged(before, after, table)
        ? { kind: 'update', table: table.id, ordinal: 0, row: values(after, table), oldRow: values(before, table) }
        : { kind: 'update', table: table.id, ordinal: 0, row: values(after, table) };
    }
    case 'delete':
      return { kind: 'delete', table: table.id, ordinal: 0, oldRow: values(record.before ?? record.key ?? fail('a delete with neither "before" nor a key'), table) };
    case 'truncate':
      return { kind: 'truncate', tables: [table.id], ordinal: 0 };
  }
}
