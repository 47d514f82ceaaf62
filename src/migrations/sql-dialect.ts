/**
 * The SQL migration dialect `cdc migrations` works with, taken from the registry: the PostgreSQL
 * sink's today (project sinks are `type: postgresql`). src/migrations reaches a sink only
 * through this module.
 */
import { SINK_DIALECTS } from '../run/registry.js';
import type { SqlMigrationDialect } from '../sinks/sql-migrations.js';

/** The PostgreSQL dialect's migration pieces. */
export const sql: SqlMigrationDialect = SINK_DIALECTS.postgresql.migrations;
