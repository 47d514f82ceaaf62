/**
 * Rows of the change model (PostgreSQL text per column, DESIGN.md §2 "Values") as typed values,
 * for sinks whose writer takes typed values (`SinkCapabilities.valueEncoding` `typed`: Parquet
 * for Delta and Iceberg). One decoder per table shape, built once; each column decodes by its
 * logical type through the one shared decoder (`decoderFor`). The PostgreSQL → PostgreSQL path
 * never decodes: its writer takes the text as sources send it.
 */
import { UNCHANGED, type RowValues } from '../change.js';
import { columnLogicalType, type TableSchema } from '../../schema/table.js';
import { decoderFor, type TypedValue } from './typed-value.js';

/** A typed row value: the decoded value, SQL NULL, or {@link UNCHANGED} (keep the target's). */
export type TypedColumnValue = TypedValue | null | typeof UNCHANGED;

/**
 * A function that decodes rows of `table` (values in the order of `table.columns`).
 * @throws {ValueTextError} (code VALUE_TEXT_INVALID) from the returned function, naming the
 *   column's type and the value, for text its logical type cannot read.
 */
export function typedRowDecoder(table: TableSchema): (row: RowValues) => TypedColumnValue[] {
  const decoders = table.columns.map((c) => decoderFor(columnLogicalType(c)));
  return (row) => {
    const out: TypedColumnValue[] = new Array<TypedColumnValue>(row.length);
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      out[i] = v === null || v === undefined ? null : v === UNCHANGED ? UNCHANGED : decoders[i]!(v);
    }
    return out;
  };
}
