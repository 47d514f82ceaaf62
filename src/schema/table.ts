/**
 * Table definitions shared by every source and sink.
 *
 * A {@link TableSchema} is what a source knows about one captured table at one point in its
 * change stream: the column list in source order, each column's SQL type as the target should
 * declare it, and the key that identifies a row. Sources produce it (from the catalog or from a
 * pgoutput Relation message); sinks generate DDL and merge SQL from it.
 */
import type { LogicalType } from './logical-type.js';
import { logicalTypeOf } from './type-map.js';

/** A schema-qualified table name, unquoted (exactly as stored in the catalog). */
export interface TableId {
  /** Schema (namespace) name, e.g. `public`. */
  readonly schema: string;
  /** Table name, e.g. `Invoice`. */
  readonly name: string;
}

/** One column of a captured table. */
export interface ColumnSchema {
  /** Column name as stored in the source catalog (case preserved). */
  readonly name: string;
  /**
   * The SQL type to declare on a PostgreSQL target, as `format_type()` renders it
   * (e.g. `integer`, `character varying(40)`, `numeric(10,2)`, `text[]`). Enums and domains are
   * already resolved to their base types by the source.
   */
  readonly type: string;
  /**
   * What the column's values are (int32, decimal(10,2), timestamptz, array<text>, …), from the
   * type-map data files (`logicalTypeOf(type)`). Sources set it; definitions stored by releases
   * before 0.2 lack it: read it with {@link columnLogicalType}.
   */
  readonly logicalType?: LogicalType;
  /** False when the source declares the column NOT NULL. */
  readonly nullable: boolean;
  /**
   * The column's number in the source catalog (PostgreSQL `pg_attribute.attnum`), which a
   * RENAME COLUMN keeps: it lets the schema diff tell a rename from a removal plus an addition.
   * Absent where the source does not know it (Debezium events, YAML definitions).
   */
  readonly sourceAttnum?: number;
  /**
   * True for variable-length types whose values PostgreSQL may store out of line (TOAST) and
   * so may arrive as "unchanged" in an update (pgoutput 'u'). Fixed-width types never do.
   */
  readonly toastable: boolean;
  /**
   * For a column added to a table that already had rows: the value those rows hold (text form;
   * null for SQL NULL), from PostgreSQL's "fast default" (`pg_attribute.attmissingval`).
   * Absent when the column was there from the start or was added without a default.
   */
  readonly missingValue?: string | null;
}

/**
 * Options a table's definition sets for the sinks (the `options:` of its YAML, DESIGN.md §5), each
 * overriding the sink's own setting for this table. Sources never set them; a project's table
 * mapping does, so that `cdc run` builds the same objects as `cdc migrations generate`.
 */
export interface TableSchemaOptions {
  /** Keep deleted rows, flagged `_cdc_deleted = true`, instead of deleting them (DESIGN.md §3.4). */
  readonly softDelete?: boolean;
  /** Persistence of the table's staging (the project sink's `staging:`): `logged` keeps external writers' rows through a crash. */
  readonly staging?: 'logged' | 'unlogged';
}

/** What a source knows about one captured table. */
export interface TableSchema {
  readonly id: TableId;
  /** Columns in source order; the order of values in every row change for this table. */
  readonly columns: readonly ColumnSchema[];
  /**
   * Names of the primary-key columns, in key order. Empty for a table without a primary key:
   * such a table is captured under REPLICA IDENTITY FULL and a row is identified by all of its
   * columns (DESIGN.md §3.9).
   */
  readonly primaryKey: readonly string[];
  /** Per-table sink options from the table's definition; absent: the sink's defaults apply. */
  readonly options?: TableSchemaOptions;
}

/** The column's logical type: its own, else the one its PostgreSQL type maps to. */
export function columnLogicalType(column: ColumnSchema): LogicalType {
  return column.logicalType ?? logicalTypeOf(column.type);
}

/** `schema.name` with both parts double-quoted only where needed; for messages and logs. */
export function formatTableId(id: TableId): string {
  const part = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replaceAll('"', '""')}"`);
  return `${part(id.schema)}.${part(id.name)}`;
}

/** A stable map key for a table: `schema` and `name` joined by a NUL byte. */
export function tableKey(id: TableId): string {
  return `${id.schema}\u0000${id.name}`;
}

/** True when both ids name the same table. */
export function sameTable(a: TableId, b: TableId): boolean {
  return a.schema === b.schema && a.name === b.name;
}

/**
 * True when two definitions of a table have the same columns (names, types, nullability, in
 * order) and the same primary key: nothing about the target tables would change. The same
 * object is the same shape (sources that reuse their table objects make this check free).
 * `options` are not part of the shape.
 */
export function sameShape(a: TableSchema, b: TableSchema): boolean {
  if (a === b) return true;
  return (
    a.columns.length === b.columns.length &&
    a.columns.every((c, i) => c.name === b.columns[i]!.name && c.type === b.columns[i]!.type && c.nullable === b.columns[i]!.nullable) &&
    a.primaryKey.length === b.primaryKey.length &&
    a.primaryKey.every((k, i) => k === b.primaryKey[i])
  );
}
