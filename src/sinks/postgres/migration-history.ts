/**
 * `cdc_management.migration_history`: one row per applied unit of DDL, with its kind and a
 * SHA-256 checksum of its SQL, written by `cdc run` and `cdc migrations apply` alike under one
 * naming scheme:
 * - a table's objects are two units named after the table, `table <schema>.<name>` (schema and
 *   final table) and `staging <schema>.<name>` (staging table, marking trigger, merge procedure),
 *   `<schema>.<name>` as `formatTableId` writes it (`table public."Invoice"`);
 * - what only a project's migrations hold (infrastructure, ALTER migrations, the pg_cron
 *   schedule) is named by its file path under `migrations/<sink>/`.
 *
 * So whichever command creates a table first, the other finds the row and skips what was done.
 * Same checksum → skipped; a changed repeatable unit → applied again; a changed table unit →
 * left to the schema-change path (it is never silently re-created).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { formatTableId, type TableId } from '../../schema/table.js';
import { quoteTable } from '../../sql/quote.js';
import { MANAGEMENT_SCHEMA } from './naming.js';

/** One generated migration. */
export interface Migration {
  /** Stable name, e.g. `table public."Invoice"` (see the module comment). */
  readonly name: string;
  readonly kind: 'infrastructure' | 'table' | 'repeatable';
  readonly sql: string;
}

/** The two units of a table's objects: `table` (schema, final table) and `staging` (staging table, trigger, merge procedure). */
export type TableUnitName = 'table' | 'staging';

/** `migration_history`, quoted. */
export const MIGRATION_HISTORY_TABLE = quoteTable({ schema: MANAGEMENT_SCHEMA, name: 'migration_history' });

/** `sha256:<hex>` of the SQL text. */
export function checksum(sql: string): string {
  return `sha256:${createHash('sha256').update(sql).digest('hex')}`;
}

/** The history name of a table's unit: `table public."Invoice"`, `staging public."Invoice"`. */
export function historyName(unit: TableUnitName, id: TableId): string {
  return `${unit} ${formatTableId(id)}`;
}

/**
 * Names `cdc run` used before one naming scheme, for objects now folded into a unit: the
 * schema (`schema <schema>`, unquoted), and the marking trigger and merge procedure, now in the
 * `staging` unit (`staging trigger <table>`, `merge procedure <table>`).
 */
function legacyNames(unit: TableUnitName, id: TableId): string[] {
  const table = formatTableId(id);
  return unit === 'table' ? [`schema ${id.schema}`] : [`staging trigger ${table}`, `merge procedure ${table}`];
}

/** A table unit that `cdc migrations apply` used to record under its file path. */
export interface HistoryRename {
  /** The file path it was recorded under (relative to `migrations/<sink>/`). */
  readonly path: string;
  readonly unit: TableUnitName;
  /** Its name now ({@link historyName}). */
  readonly name: string;
  /** The table, when still defined: its rows of the former naming are cleaned up too. */
  readonly table?: TableId;
  /** The file's checksum now (its body's). */
  readonly checksum: string;
  /** The body as `cdc run` applied the same unit before: without the final newline. */
  readonly body: string;
}

/**
 * Brings a target's history to the one naming scheme, in place and idempotently (a second run
 * changes nothing), in the caller's transaction. Per unit of `renames`:
 * 1. `staging`: when `cdc run` (before this scheme) recorded its own `merge procedure` row next to
 *    the file's row, it replaced the project's procedure after `apply` had run the file (with
 *    options of its own, e.g. without soft delete): the file's row is forgotten so that `apply`
 *    runs the file again and restores the project's procedure;
 * 2. the file's row is renamed to the unit name, replacing the row `cdc run` wrote under it;
 * 3. a `table` row `cdc run` wrote for exactly this DDL (the body without its final newline)
 *    gets the file's checksum, so `apply` sees it applied instead of changed;
 * 4. rows of objects now folded into the unit (`schema …`, `staging trigger …`,
 *    `merge procedure …`) are deleted (when `table` is given).
 * Does nothing when `migration_history` does not exist yet.
 */
export async function upgradeHistoryNames(client: pg.ClientBase, renames: readonly HistoryRename[]): Promise<void> {
  const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${MANAGEMENT_SCHEMA}.migration_history`]);
  if (!rows[0]?.t || renames.length === 0) return;
  const h = MIGRATION_HISTORY_TABLE;
  for (const r of renames) {
    const name = r.name;
    const legacy = r.table ? legacyNames(r.unit, r.table) : [];
    if (r.unit === 'staging' && legacy[1] !== undefined) {
      await client.query(`DELETE FROM ${h} WHERE name = $1 AND EXISTS (SELECT 1 FROM ${h} WHERE name = $2)`, [r.path, legacy[1]]);
    }
    await client.query(`DELETE FROM ${h} WHERE name = $1 AND EXISTS (SELECT 1 FROM ${h} WHERE name = $2)`, [name, r.path]);
    await client.query(`UPDATE ${h} SET name = $1 WHERE name = $2`, [name, r.path]);
    if (r.unit === 'table') {
      await client.query(`UPDATE ${h} SET checksum = $1 WHERE name = $2 AND checksum = $3`, [r.checksum, name, checksum(r.body.replace(/\n$/, ''))]);
    }
    if (legacy.length > 0) await client.query(`DELETE FROM ${h} WHERE name = ANY($1::text[])`, [legacy]);
  }
}

/**
 * Applies `migration` on `client` (inside the caller's transaction) unless already applied with
 * the same checksum; tables already applied with another checksum are skipped too (their
 * changes arrive as ALTERs from the change stream).
 * @returns true when it ran the SQL.
 */
export async function applyMigration(client: pg.ClientBase, migration: Migration): Promise<boolean> {
  const sum = checksum(migration.sql);
  const { rows } = await client.query<{ checksum: string }>(`SELECT checksum FROM ${MIGRATION_HISTORY_TABLE} WHERE name = $1 AND success`, [migration.name]);
  const applied = rows[0]?.checksum;
  if (applied === sum) return false;
  if (applied !== undefined && migration.kind === 'table') return false;
  await client.query(migration.sql);
  await client.query(
    `INSERT INTO ${MIGRATION_HISTORY_TABLE} (name, kind, checksum, applied_at, success) VALUES ($1, $2, $3, now(), true)
     ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, checksum = EXCLUDED.checksum, applied_at = now(), success = true, error = NULL`,
    [migration.name, migration.kind, sum],
  );
  return true;
}
