/**
 * The PostgreSQL dialect's SQL migration pieces (`SqlMigrationDialect`, src/sinks/sql-migrations.ts):
 * what `cdc migrations` takes from this sink, through `postgresqlDialect.migrations`: the DDL
 * assembler for new and changed tables, the change converter, the infrastructure and pg_cron
 * SQL, the `migration_history` naming scheme and checksum, and the catalog reader.
 */
import type { SqlMigrationDialect } from '../sql-migrations.js';
import { pgCronScheduleSql } from './deferred-merge.js';
import { infrastructureSql } from './infrastructure.js';
import { MIGRATION_HISTORY_TABLE, checksum, historyName, upgradeHistoryNames } from './migration-history.js';
import { MANAGEMENT_SCHEMA } from './naming.js';
import { schemaChangeSql } from './schema-change-sql.js';
import { tableChangeDdl } from './table-change-ddl.js';
import { tableUnits } from './table-objects.js';
import { readTargetTables } from './target-catalog.js';

/** The PostgreSQL sink's SQL migration pieces. */
export const postgresMigrations: SqlMigrationDialect = {
  managementSchema: MANAGEMENT_SCHEMA,
  historyTable: MIGRATION_HISTORY_TABLE,
  infrastructureSql,
  pgCronScheduleSql,
  checksum,
  historyName,
  upgradeHistoryNames,
  schemaChangeSql,
  tableChangeDdl,
  tableUnits,
  readTargetTables,
};
