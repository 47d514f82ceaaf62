/**
 * What `cdc migrations` (src/migrations) takes from the PostgreSQL sink, in one place: the DDL
 * assembler for new and changed tables, the change converter, the infrastructure and pg_cron
 * SQL, the `migration_history` naming scheme and checksum, and the catalog reader. src/migrations
 * imports no other module of this folder (eslint enforces it), so that this set can become the
 * sink's dialect object (DESIGN.md §2) without touching the migration commands again.
 */
export { pgCronScheduleSql } from './deferred-merge.js';
export { infrastructureSql } from './infrastructure.js';
export {
  MIGRATION_HISTORY_TABLE,
  checksum,
  historyName,
  upgradeHistoryNames,
  type HistoryRename,
  type Migration,
  type TableUnitName,
} from './migration-history.js';
export { MANAGEMENT_SCHEMA } from './naming.js';
export { schemaChangeSql, UnsupportedSchemaChangeError, type ChangeStatement } from './schema-change-sql.js';
export { tableChangeDdl, type TableChangeDdl, type TableChangeDdlInput } from './table-change-ddl.js';
export { tableUnits, type TableUnit } from './table-objects.js';
export { readTargetTables } from './target-catalog.js';
