/**
 * Table definitions as code (DESIGN.md §5): what a `schemas/<service>/<schema>/<table>.yaml` file
 * holds once read. Types are in the SOURCE dialect (`nvarchar(160)` for SQL Server,
 * `character varying(160)` for PostgreSQL); a sink maps them to its own types
 * (`src/schema/target-table.ts`).
 */
import type { SourceDialect } from './type-map.js';

/** One column as the source declares it. */
export interface ColumnDefinition {
  /** Column name as in the source (case preserved). */
  readonly name: string;
  /** Source type, normalized (`normalizeSourceType`): lower case, e.g. `numeric(10,2)`, `nvarchar(max)`. */
  readonly type: string;
  /** False for NOT NULL. */
  readonly nullable: boolean;
  /** Source default expression in the source dialect, informational (the target never evaluates it). */
  readonly default?: string;
  /** True for an identity (auto-increment) column on the source; informational. */
  readonly identity?: boolean;
}

/** Options a table definition may set; each overrides the sink's setting for this table. */
export interface TableDefinitionOptions {
  /** Keep deleted rows flagged `_cdc_deleted` instead of deleting them. */
  readonly softDelete?: boolean;
}

/** One source table, as its YAML file defines it. */
export interface TableDefinition {
  /** The service (source system) it belongs to: the first folder under `schemas/`. */
  readonly service: string;
  /** Dialect of `columns[].type`. */
  readonly dialect: SourceDialect;
  /** Source schema, e.g. `dbo`. */
  readonly schema: string;
  /** Source table name, e.g. `InvoiceLine`. */
  readonly table: string;
  /** Columns in source order. */
  readonly columns: readonly ColumnDefinition[];
  /** Primary-key column names in key order; empty for a keyless table. */
  readonly primaryKey: readonly string[];
  readonly options: TableDefinitionOptions;
  /** The file it was read from, relative to the project directory (for messages); '' when built in memory. */
  readonly file: string;
}

/** `service/schema.table`: a definition's identity across the project. */
export function definitionKey(d: Pick<TableDefinition, 'service' | 'schema' | 'table'>): string {
  return `${d.service}/${d.schema}.${d.table}`;
}
