/**
 * DDL for the two tables the PostgreSQL sink keeps per captured table (DESIGN.md §4): the final
 * table users query, and the UNLOGGED staging table the writer COPYs batches into.
 */
import type { ColumnSchema, TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import {
  COMMIT_TIME_COLUMN,
  DELETED_COLUMN,
  OP_COLUMN,
  POSITION_COLUMN,
  SYNCED_AT_COLUMN,
  UNCHANGED_COLUMN,
  assertSupportedTable,
  primaryKeyConstraintName,
  stagingTableId,
} from './naming.js';

/**
 * Options that shape a table's final table and merge procedure. A sink holds defaults; a table's
 * own `options` (from its definition) override them: see {@link tableOptionsOf}.
 */
export interface TableOptions {
  /**
   * Keep deleted rows, flagged `_cdc_deleted = true`, instead of deleting them (DESIGN.md §3.4).
   * Default false.
   */
  readonly softDelete?: boolean;
  /**
   * Persistence of the staging table. `unlogged` (default; `cdc run`'s inline batches, which
   * stage and merge in one transaction) is faster but a crash or failover empties it; `logged`
   * keeps what external writers staged (deferred merge) through a crash. A project's sinks
   * default to `logged`.
   */
  readonly staging?: 'logged' | 'unlogged';
}

/**
 * The options `table` is built with: each of the table's own `options` (its definition's, e.g.
 * `options.soft_delete` of its YAML), else the sink's `defaults`.
 */
export function tableOptionsOf(table: TableSchema, defaults: TableOptions = {}): TableOptions {
  const softDelete = table.options?.softDelete ?? defaults.softDelete;
  const staging = table.options?.staging ?? defaults.staging;
  return { ...(softDelete === undefined ? {} : { softDelete }), ...(staging === undefined ? {} : { staging }) };
}

/** Values of the staging column `_cdc_op`: which change a staged row records. */
export const STAGED_OP = {
  /** A new row (all values present). */
  insert: 'I',
  /** The new version of a row; values named in `_cdc_unchanged` were not sent. */
  update: 'U',
  /** A deleted row: its key (or, for a table without primary key, the whole old row). */
  delete: 'D',
} as const;

/**
 * Every `_cdc_op` a staging table accepts: {@link STAGED_OP}'s, and Debezium's `op` codes as
 * external writers copy them from events (`c` create and `r` snapshot read upsert like 'I', `u`
 * like 'U', `d` deletes like 'D'), so a Kafka Connect or Redpanda Connect pipeline can write
 * Debezium's `__op` field as is.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-change-events-value
 */
export const STAGED_OP_CODES = ['I', 'U', 'D', 'c', 'r', 'u', 'd'] as const;

/** One of {@link STAGED_OP}'s values. */
export type StagedOp = (typeof STAGED_OP)[keyof typeof STAGED_OP];

/** `"name" type` plus ` NOT NULL` when asked. The type is SQL text from the source catalog. */
export function columnDefinition(column: ColumnSchema, notNull: boolean): string {
  return `${quoteIdent(column.name)} ${column.type}${notNull ? ' NOT NULL' : ''}`;
}

/**
 * Position given to rows written into a final table by something other than the merge (a bulk
 * load, a hand-written INSERT): the empty `bytea`, below every captured change, so the next
 * change of such a row always wins. It is the column's default (SQL text).
 */
export const OUT_OF_BAND_POSITION = "'\\x'::bytea";

/** Metadata column definitions of the final table, in table order. */
function finalMetadataColumns(options: TableOptions): string[] {
  const columns = [
    `${quoteIdent(POSITION_COLUMN)} bytea NOT NULL DEFAULT ${OUT_OF_BAND_POSITION}`,
    `${quoteIdent(COMMIT_TIME_COLUMN)} timestamptz`,
    `${quoteIdent(SYNCED_AT_COLUMN)} timestamptz NOT NULL DEFAULT now()`,
  ];
  if (options.softDelete) columns.push(`${quoteIdent(DELETED_COLUMN)} boolean NOT NULL DEFAULT false`);
  return columns;
}

/** `CONSTRAINT "<table>_pkey" PRIMARY KEY ("a", "b")` for the final table. */
export function primaryKeyConstraintSql(table: TableSchema): string {
  const keys = table.primaryKey.map(quoteIdent).join(', ');
  return `CONSTRAINT ${quoteIdent(primaryKeyConstraintName(table.id))} PRIMARY KEY (${keys})`;
}

/** `CREATE SCHEMA IF NOT EXISTS "<schema>";` */
export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};`;
}

/**
 * `CREATE TABLE IF NOT EXISTS` for the final table, at the source's schema and name: the source
 * columns in source order with the same types and NOT NULL where the source has it, then the
 * metadata columns `_cdc_position bytea NOT NULL DEFAULT '\x'` (see {@link OUT_OF_BAND_POSITION}),
 * `_cdc_commit_time timestamptz`, `_cdc_synced_at timestamptz NOT NULL DEFAULT now()` and, with
 * `softDelete`, `_cdc_deleted boolean NOT NULL DEFAULT false`; then the primary key, if the table
 * has one, as constraint {@link primaryKeyConstraintName} (`<table>_pkey`). Requires the schema
 * ({@link createSchemaSql}).
 *
 * A table without a primary key gets no index: the merge matches its rows by all columns in one
 * hashed pass, and no index over all columns would be smaller than the table.
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function createFinalTableSql(table: TableSchema, options: TableOptions = {}): string {
  assertSupportedTable(table);
  const lines = [...table.columns.map((c) => columnDefinition(c, !c.nullable)), ...finalMetadataColumns(options)];
  if (table.primaryKey.length > 0) lines.push(primaryKeyConstraintSql(table));
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table.id)} (\n${lines.map((l) => `  ${l}`).join(',\n')}\n);`;
}

/**
 * {@link createSchemaSql} and {@link createFinalTableSql}, one per line: the final table with its
 * schema.
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function finalTableSql(table: TableSchema, options: TableOptions = {}): string {
  return [createSchemaSql(table.id.schema), createFinalTableSql(table, options)].join('\n');
}

/** Metadata column definitions of the staging table, in table order. */
export function stagingMetadataColumns(): string[] {
  return [
    `${quoteIdent(OP_COLUMN)} "char" NOT NULL CHECK (${quoteIdent(OP_COLUMN)} IN (${STAGED_OP_CODES.map((c) => `'${c}'`).join(', ')}))`,
    `${quoteIdent(POSITION_COLUMN)} bytea NOT NULL`,
    `${quoteIdent(COMMIT_TIME_COLUMN)} timestamptz`,
    `${quoteIdent(UNCHANGED_COLUMN)} text[]`,
  ];
}

/**
 * `CREATE [UNLOGGED] TABLE IF NOT EXISTS cdc_staging."<schema>.<table>"` (see `stagingTableId`):
 * every source column, nullable, with its source type (a delete stages only the key, an update
 * stages NULL for unchanged values); then `_cdc_op "char" NOT NULL` ({@link STAGED_OP}),
 * `_cdc_position bytea NOT NULL` (a row position, src/events/position.ts), `_cdc_commit_time timestamptz`
 * and `_cdc_unchanged text[]`; then `ALTER TABLE … SET LOGGED | UNLOGGED`, which brings a
 * staging table made with the other persistence in line (a no-op otherwise). UNLOGGED (the
 * default): a crash empties it, which is fine for `cdc run`'s inline batches because offsets are
 * only advanced by the transaction that merges it (DESIGN.md §3.2); LOGGED keeps rows external
 * writers committed. Requires the staging schema (`infrastructureSql`).
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function stagingTableSql(table: TableSchema, staging: 'logged' | 'unlogged' = 'unlogged'): string {
  assertSupportedTable(table);
  const lines = [...table.columns.map((c) => columnDefinition(c, false)), ...stagingMetadataColumns()];
  const id = quoteTable(stagingTableId(table.id));
  const unlogged = staging === 'unlogged';
  return (
    `CREATE ${unlogged ? 'UNLOGGED ' : ''}TABLE IF NOT EXISTS ${id} (\n${lines.map((l) => `  ${l}`).join(',\n')}\n);\n` +
    `ALTER TABLE ${id} SET ${unlogged ? 'UNLOGGED' : 'LOGGED'};`
  );
}

/**
 * The staging table's columns in the order the writer sends values (unquoted names): the source
 * columns in source order, then `_cdc_op`, `_cdc_position`, `_cdc_commit_time`,
 * `_cdc_unchanged`. Name them explicitly in `COPY … (columns) FROM STDIN`: after an ADD COLUMN
 * the physical order of an existing staging table differs from this list.
 */
export function stagingColumns(table: TableSchema): string[] {
  return [
    ...table.columns.map((c) => c.name),
    OP_COLUMN,
    POSITION_COLUMN,
    COMMIT_TIME_COLUMN,
    UNCHANGED_COLUMN,
  ];
}
