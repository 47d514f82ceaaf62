/**
 * Turns row changes into staging rows (COPY text lines) for one table, following the staging
 * layout of {@link stagingColumns}: source columns, then op, row position (`bytea` as `\\x…` hex in
 * COPY text), commit time and the list of unchanged columns.
 *
 * A staged row's position is its change's position base followed by a staged ordinal: twice the
 * change's ordinal (+1), so a change that becomes two staged rows keeps them in order: a primary-key change is a delete of the old key at 2k and an upsert of
 * the new key at 2k+1 (DESIGN.md §3.6); an update of a table without a key is a delete of the
 * old row and an insert of the new one.
 *
 * Superseded rows are dropped before they reach the target: when a table with a primary key
 * gets a row for a key that already has one in the unflushed buffer, and the new row is a
 * delete or carries every value, the earlier row can no longer win nor fill anything, so it is
 * blanked. This keeps hot keys (a counter updated in every transaction) to one staged row per
 * buffer. Rows listing unchanged values are kept with their predecessors, which fill them.
 */
import { CdcError } from '../../errors.js';
import { UNCHANGED, type RowChangeMessage, type RowValues } from '../../events/change.js';
import { ordinalHex } from '../../events/position.js';
import { formatTableId, type TableSchema } from '../../schema/table.js';
import { copyField, textArrayLiteral } from './copy-text.js';
import { STAGED_OP, type StagedOp } from './table-ddl.js';

/** Encodes one table's row changes; make a new one when the table's shape changes. */
export class RowEncoder {
  private readonly keyIndexes: number[];

  constructor(readonly table: TableSchema) {
    this.keyIndexes = table.primaryKey.map((k) => table.columns.findIndex((c) => c.name === k));
  }

  /**
   * Appends the staging lines for `change` to `out`, at row positions `baseHex` (the hexadecimal
   * of its origin's position base) plus the staged ordinal; returns the change in buffered size
   * (UTF-16 code units, an estimate). With `latest` (key → index in `out` of the key's last
   * line; cleared by the caller whenever `out` is flushed), superseded lines are blanked.
   * @throws {CdcError} ROW_SHAPE_MISMATCH when the row does not have the table's column count;
   *   MISSING_OLD_ROW for an update of a keyless table without its old row (REPLICA IDENTITY not FULL).
   */
  encode(change: RowChangeMessage, baseHex: string, commitTime: string, out: string[], latest?: Map<string, number>): number {
    this.latest = this.keyIndexes.length > 0 ? latest : undefined;
    const base = change.ordinal * 2;
    switch (change.kind) {
      case 'insert':
        return this.line(STAGED_OP.insert, change.row, baseHex, base + 1, commitTime, out);
      case 'delete':
        return this.line(STAGED_OP.delete, change.oldRow, baseHex, base, commitTime, out);
      case 'update': {
        if (this.keyIndexes.length === 0) {
          if (!change.oldRow) {
            throw new CdcError('MISSING_OLD_ROW', `update of ${formatTableId(this.table.id)} arrived without its old row`, {
              remedy: `a table without a primary key needs REPLICA IDENTITY FULL on the source: ALTER TABLE ${formatTableId(this.table.id)} REPLICA IDENTITY FULL`,
            });
          }
          return (
            this.line(STAGED_OP.delete, change.oldRow, baseHex, base, commitTime, out) +
            this.line(STAGED_OP.insert, change.row, baseHex, base + 1, commitTime, out)
          );
        }
        let bytes = 0;
        if (change.oldRow && this.keyChanged(change.oldRow, change.row)) {
          bytes += this.line(STAGED_OP.delete, change.oldRow, baseHex, base, commitTime, out);
        }
        return bytes + this.line(STAGED_OP.update, change.row, baseHex, base + 1, commitTime, out);
      }
    }
  }

  private keyChanged(oldRow: RowValues, row: RowValues): boolean {
    return this.keyIndexes.some((i) => oldRow[i] !== row[i] && row[i] !== UNCHANGED);
  }

  private latest: Map<string, number> | undefined;

  /** The key of `row` as one string, or undefined when a key value is missing or unchanged. */
  private keyOf(row: RowValues): string | undefined {
    if (this.keyIndexes.length === 1) {
      const v = row[this.keyIndexes[0]!];
      return typeof v === 'string' ? v : undefined;
    }
    let key = '';
    for (const i of this.keyIndexes) {
      const v = row[i];
      if (typeof v !== 'string') return undefined;
      key += `${v.length}:${v}`;
    }
    return key;
  }

  private line(op: StagedOp, row: RowValues, baseHex: string, ordinal: number, time: string, out: string[]): number {
    const columns = this.table.columns;
    if (row.length !== columns.length) {
      throw new CdcError(
        'ROW_SHAPE_MISMATCH',
        `a change to ${formatTableId(this.table.id)} has ${row.length} values but the table has ${columns.length} columns`,
        { remedy: 'this is a bug or an unsupported schema change; please report it with the log' },
      );
    }
    let text = '';
    let unchanged: string[] | undefined;
    for (let i = 0; i < row.length; i++) {
      const v = row[i]!;
      if (v === UNCHANGED) {
        (unchanged ??= []).push(columns[i]!.name);
        text += '\\N\t';
      } else text += `${copyField(v)}\t`;
    }
    text += `${op}\t\\\\x${baseHex}${ordinalHex(ordinal)}\t${time}\t${unchanged ? copyField(textArrayLiteral(unchanged)) : '\\N'}\n`;
    let delta = text.length;
    const key = this.latest ? this.keyOf(row) : undefined;
    if (key !== undefined) {
      const previous = this.latest!.get(key);
      if (previous !== undefined && (op === STAGED_OP.delete || !unchanged)) {
        delta -= out[previous]!.length;
        out[previous] = '';
      }
      this.latest!.set(key, out.length);
    }
    out.push(text);
    return delta;
  }
}
