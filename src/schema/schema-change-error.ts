/**
 * The error a schema-change policy raises when it says `stop` (DESIGN.md §3.8).
 */
import { CdcError } from '../errors.js';
import { formatTableId, type TableId } from './table.js';
import type { SchemaChangeKind } from './schema-diff.js';

/**
 * A change the policy says to stop at. `code` is always `SCHEMA_CHANGE_STOPPED`; not retryable;
 * `remedy` names the policy option to change; `context` holds table, column and kind.
 */
export class SchemaChangeError extends CdcError {
  declare readonly code: 'SCHEMA_CHANGE_STOPPED';
  /** The table (as the sink names it). */
  readonly table: TableId;
  /** The column concerned ('' for a change of the whole table). */
  readonly column: string;
  /** The kind of change that was stopped. */
  readonly kind: SchemaChangeKind;

  constructor(message: string, remedy: string, change: { table: TableId; column: string; kind: SchemaChangeKind }) {
    super('SCHEMA_CHANGE_STOPPED', message, { remedy, context: { table: formatTableId(change.table), column: change.column, kind: change.kind } });
    this.name = 'SchemaChangeError';
    this.table = change.table;
    this.column = change.column;
    this.kind = change.kind;
  }
}
