/**
 * What `cdc migrations` (src/migrations) needs of a sink dialect that migrates with SQL files
 * (PostgreSQL): the DDL assembler for new and changed tables, the converter from schema changes
 * to statements, the infrastructure and pg_cron SQL, the `migration_history` naming scheme and
 * checksum, and a reader of the target's catalog. The migration commands reach it through the
 * registry (`SINK_DIALECTS.<type>.migrations`), never through a sink's folder.
 */
import type pg from 'pg';
import type { SchemaChange } from '../schema/schema-diff.js';
import type { TableChangeInput, TableChangePlan } from '../schema/table-change.js';
import type { TableId, TableSchema } from '../schema/table.js';

/** Options that shape a table's objects: the table's own override the sink's. */
export interface SqlTableOptions {
  /** Keep deleted rows flagged instead of deleting them. */
  readonly softDelete?: boolean;
}

/** A unit of a table's DDL as `migration_history` records it (one generated file). */
export interface SqlTableUnit {
  /** `table` (applied once; changed only by ALTERs) or `staging` (repeatable). */
  readonly unit: 'table' | 'staging';
  /** History name, e.g. `table public."Invoice"`. */
  readonly name: string;
  readonly kind: 'table' | 'repeatable';
  /** The unit's SQL, ending with a newline: the body of its generated file. */
  readonly sql: string;
}

/** A table unit that `cdc migrations apply` used to record under its file path. */
export interface HistoryRename {
  /** The file path it was recorded under (relative to `migrations/<sink>/`). */
  readonly path: string;
  readonly unit: 'table' | 'staging';
  /** Its name now. */
  readonly name: string;
  /** The table, when still defined: its rows of the former naming are cleaned up too. */
  readonly table?: TableId;
  /** The file's checksum now (its body's). */
  readonly checksum: string;
  /** The body as `cdc run` applied the same unit before: without the final newline. */
  readonly body: string;
}

/** One SQL statement (ending with `;`) and the step of a table change it belongs to. */
export interface SqlChangeStatement {
  /** `create`, `rename`, `drop-key`, `add-column`, `retype`, `relax`, `remove`, `add-key` or `drop`, run in that order. */
  readonly step: string;
  readonly sql: string;
}

/** The statements of one changed table (see {@link SqlMigrationDialect.tableChangeDdl}). */
export interface SqlTableChange {
  readonly plan: TableChangePlan;
  /** Statements to run in order, in one transaction: `guard`, `alters`, `rebuild`; empty when nothing is needed. */
  readonly statements: readonly string[];
  /** A statement that fails while staging holds rows ('' when nothing is needed). */
  readonly guard: string;
  /** The final table's statements, in step order. */
  readonly alters: readonly string[];
  /** Staging re-created and the merge procedure replaced. */
  readonly rebuild: readonly string[];
}

/** A dialect's SQL migration pieces. */
export interface SqlMigrationDialect {
  /** The schema of the bookkeeping tables. */
  readonly managementSchema: string;
  /** `migration_history`, schema-qualified and quoted. */
  readonly historyTable: string;
  /** Schemas, bookkeeping tables, functions and views; idempotent. */
  infrastructureSql(): string;
  /** The pg_cron job of a sink's deferred merge. */
  pgCronScheduleSql(sink: string, schedule: string, windowSeconds: number, stuckAfterSeconds: number): string;
  /** `sha256:<hex>` of a file body. */
  checksum(sql: string): string;
  /** The history name of a table's unit. */
  historyName(unit: 'table' | 'staging', id: TableId): string;
  /** Renames history rows of an earlier naming scheme, in the caller's transaction. */
  upgradeHistoryNames(client: pg.ClientBase, renames: readonly HistoryRename[]): Promise<void>;
  /**
   * The statements of one schema change.
   * @throws {CdcError} SCHEMA_CHANGE_UNSUPPORTED for a change kind it has no SQL for.
   */
  schemaChangeSql(change: SchemaChange, decision: 'apply' | 'keep', options?: SqlTableOptions): SqlChangeStatement[];
  /**
   * The statements that bring a table from `before` to `after` under `policy`.
   * @throws {SchemaChangeError} where the policy says stop.
   */
  tableChangeDdl(input: TableChangeInput & { readonly defaults?: SqlTableOptions }): SqlTableChange;
  /** The units of a new table: `table` then `staging`. */
  tableUnits(table: TableSchema, defaults?: SqlTableOptions): readonly [SqlTableUnit, SqlTableUnit];
  /** The live definitions of the given tables on the target (absent ones are left out). */
  readTargetTables(client: pg.ClientBase, ids: readonly TableId[]): Promise<TableSchema[]>;
}
