/**
 * Names the PostgreSQL sink gives to what it creates: its schemas, the staging table and merge
 * procedure of each captured table, the final table's primary-key constraint, and the metadata
 * columns it adds. Every name here is an unquoted catalog name; SQL text quotes it with
 * `quoteIdent` / `quoteTable` (src/sql/quote.ts).
 */
import { createHash } from 'node:crypto';
import { CdcError } from '../../errors.js';
import { formatTableId, type TableId, type TableSchema } from '../../schema/table.js';

/** Schema holding the sink's bookkeeping tables (offsets, merge_control, logs). */
export const MANAGEMENT_SCHEMA = 'cdc_management';

/** Schema holding one UNLOGGED staging table and one merge procedure per captured table. */
export const STAGING_SCHEMA = 'cdc_staging';

/**
 * Prefix reserved for the sink's own columns. A source column may not start with it (see
 * {@link assertSupportedTable}); that is what lets metadata and source columns share a table.
 */
export const RESERVED_PREFIX = '_cdc_';

/**
 * Final and staging: the row position of the change that wrote the row (`bytea`, compared
 * bytewise; elements per source kind in src/events/position.ts). The staged ordinal is the last
 * element: twice the change's ordinal, plus one for the row it writes (see `RowEncoder`).
 */
export const POSITION_COLUMN = '_cdc_position';
/** Before release 0.2 the position was two columns: commit LSN (`bigint`) … */
export const LEGACY_LSN_COLUMN = '_cdc_lsn';
/** … and the ordinal within the transaction (`integer`). Read only to upgrade a target. */
export const LEGACY_ORDINAL_COLUMN = '_cdc_ordinal';
/** Final and staging: source commit time (`timestamptz`); NULL for rows copied by a snapshot. */
export const COMMIT_TIME_COLUMN = '_cdc_commit_time';
/** Final only: when the sink last wrote the row (`timestamptz`, the merge transaction's `now()`). */
export const SYNCED_AT_COLUMN = '_cdc_synced_at';
/** Final only, with soft delete: true once the source row was deleted (`boolean`). */
export const DELETED_COLUMN = '_cdc_deleted';
/** Staging only: the staged operation, `"char"` `'I'`, `'U'` or `'D'`. */
export const OP_COLUMN = '_cdc_op';
/** Staging only: names of columns whose value was not sent and must be kept (`text[]`, NULL when none). */
export const UNCHANGED_COLUMN = '_cdc_unchanged';

/**
 * Longest identifier PostgreSQL keeps, in bytes: NAMEDATALEN - 1. Longer names are silently
 * truncated by the server, which could make two tables share a staging table.
 * @see https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
 */
export const MAX_IDENTIFIER_BYTES = 63;

/** Hex digits of SHA-256 appended to a shortened name (32 bits: collisions need ~65k look-alikes). */
const HASH_HEX_CHARS = 8;

/**
 * Fits `name` into {@link MAX_IDENTIFIER_BYTES}. A name that fits and is not `forceHash`ed is
 * returned as is; otherwise it is cut (at a UTF-8 character boundary) and `_` plus the first 8
 * hex digits of SHA-256 of `discriminator` are appended, so the result is at most 63 bytes and
 * names that differ anywhere (also past the cut) stay distinct.
 *
 * `fitIdentifier('a'.repeat(70))` → 54 × `a` + `_` + 8 hex digits.
 */
export function fitIdentifier(name: string, discriminator: string = name, forceHash = false): string {
  if (!forceHash && Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  const suffix = `_${createHash('sha256').update(discriminator, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS)}`;
  const budget = MAX_IDENTIFIER_BYTES - suffix.length;
  let kept = '';
  let bytes = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > budget) break;
    kept += char;
    bytes += size;
  }
  return kept + suffix;
}

/**
 * The name `<prefix><schema>.<table>` for an object derived from a table, made unique per table:
 * when either part contains a dot the joined text is ambiguous (`a.b`+`c` vs `a`+`b.c`), so a hash
 * of the unambiguous pair (schema NUL name) is appended just as for a name that is too long.
 */
function derivedName(prefix: string, id: TableId): string {
  const joined = `${prefix}${id.schema}.${id.name}`;
  const ambiguous = id.schema.includes('.') || id.name.includes('.');
  return fitIdentifier(joined, `${prefix}${id.schema}\u0000${id.name}`, ambiguous);
}

/**
 * The staging table of a captured table: in {@link STAGING_SCHEMA}, named `<schema>.<table>`
 * literally (the dot is part of the quoted name), e.g. `public`.`Invoice` →
 * `cdc_staging."public.Invoice"`. Shortened with a hash suffix past 63 bytes (see
 * {@link fitIdentifier}), and when a part itself contains a dot.
 */
export function stagingTableId(id: TableId): TableId {
  return { schema: STAGING_SCHEMA, name: derivedName('', id) };
}

/** Prefix of a merge procedure's name (see {@link mergeProcedureId}). */
export const MERGE_PROCEDURE_PREFIX = 'sp_merge_';

/**
 * The merge procedure of a captured table: in {@link STAGING_SCHEMA}, named
 * `sp_merge_<schema>.<table>`, with the same shortening rule as {@link stagingTableId}. The
 * database derives the same name with `cdc_management.merge_procedure_name` (naming-sql.ts).
 */
export function mergeProcedureId(id: TableId): TableId {
  return { schema: STAGING_SCHEMA, name: derivedName(MERGE_PROCEDURE_PREFIX, id) };
}

/**
 * Name of the final table's primary-key constraint (and of its index): `<table>_pkey`, as
 * PostgreSQL would name it, shortened past 63 bytes. Fixed so that a primary-key change can drop it.
 */
export function primaryKeyConstraintName(id: TableId): string {
  return fitIdentifier(`${id.name}_pkey`, `${id.schema}\u0000${id.name}\u0000pkey`);
}

/** Why a table definition is unusable: see {@link UnsupportedTableError}. */
export type UnsupportedTableCode = 'NO_COLUMNS' | 'RESERVED_COLUMN_NAME' | 'DUPLICATE_COLUMN' | 'UNKNOWN_KEY_COLUMN';

/** A table definition the sink cannot create tables for; `code` says why, `remedy` what to do. Not retryable. */
export class UnsupportedTableError extends CdcError {
  declare readonly code: UnsupportedTableCode;
  /** The table, as given. */
  readonly table: TableId;
  /** The offending column; '' for `NO_COLUMNS`. */
  readonly column: string;

  constructor(code: UnsupportedTableCode, table: TableId, column: string, message: string, remedy?: string) {
    super(code, message, { remedy, context: { table: formatTableId(table), column } });
    this.name = 'UnsupportedTableError';
    this.table = table;
    this.column = column;
  }
}

/**
 * Checks that the sink can create tables for `table`: it has a column, no column name starts with
 * {@link RESERVED_PREFIX} (case-sensitive, as quoted identifiers are), no column name repeats,
 * and every primary-key column exists.
 * @throws {UnsupportedTableError} naming the table and column and what to do.
 */
export function assertSupportedTable(table: TableSchema): void {
  const where = formatTableId(table.id);
  if (table.columns.length === 0) {
    throw new UnsupportedTableError('NO_COLUMNS', table.id, '', `${where} has no columns; the PostgreSQL sink cannot merge it`);
  }
  const seen = new Set<string>();
  for (const column of table.columns) {
    if (column.name.startsWith(RESERVED_PREFIX)) {
      throw new UnsupportedTableError(
        'RESERVED_COLUMN_NAME',
        table.id,
        column.name,
        `column ${JSON.stringify(column.name)} of ${where} starts with the prefix "${RESERVED_PREFIX}", which the ` +
          'PostgreSQL sink reserves for its metadata columns; rename the column on the source (or exclude the table)',
        'rename the column on the source, or exclude the table from the pipeline',
      );
    }
    if (seen.has(column.name)) {
      throw new UnsupportedTableError('DUPLICATE_COLUMN', table.id, column.name, `column ${JSON.stringify(column.name)} appears twice in ${where}`);
    }
    seen.add(column.name);
  }
  for (const key of table.primaryKey) {
    if (!seen.has(key)) {
      throw new UnsupportedTableError(
        'UNKNOWN_KEY_COLUMN',
        table.id,
        key,
        `primary-key column ${JSON.stringify(key)} of ${where} is not among its columns`,
      );
    }
  }
}
