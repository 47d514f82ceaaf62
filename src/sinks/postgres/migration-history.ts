/**
 * Applying generated DDL with a record in `cdc_management.migration_history`: each object has a
 * name, a kind and a SHA-256 checksum of its SQL. Same checksum → skipped; a changed repeatable
 * object (procedure, view) → applied again; a changed table → left to the schema-change path
 * (it is never silently re-created).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { quoteTable } from '../../sql/quote.js';
import { MANAGEMENT_SCHEMA } from './naming.js';

/** One generated migration. */
export interface Migration {
  /** Stable name, e.g. `table public.Invoice`. */
  readonly name: string;
  readonly kind: 'infrastructure' | 'table' | 'repeatable';
  readonly sql: string;
}

/** `sha256:<hex>` of the SQL text. */
export function checksum(sql: string): string {
  return `sha256:${createHash('sha256').update(sql).digest('hex')}`;
}

const HISTORY = quoteTable({ schema: MANAGEMENT_SCHEMA, name: 'migration_history' });

/**
 * Applies `migration` on `client` (inside the caller's transaction) unless already applied with
 * the same checksum; tables already applied with another checksum are skipped too (their
 * changes arrive as ALTERs from the change stream).
 * @returns true when it ran the SQL.
 */
export async function applyMigration(client: pg.ClientBase, migration: Migration): Promise<boolean> {
  const sum = checksum(migration.sql);
  const { rows } = await client.query<{ checksum: string }>(`SELECT checksum FROM ${HISTORY} WHERE name = $1 AND success`, [migration.name]);
  const applied = rows[0]?.checksum;
  if (applied === sum) return false;
  if (applied !== undefined && migration.kind === 'table') return false;
  await client.query(migration.sql);
  await client.query(
    `INSERT INTO ${HISTORY} (name, kind, checksum, applied_at, success) VALUES ($1, $2, $3, now(), true)
     ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, checksum = EXCLUDED.checksum, applied_at = now(), success = true, error = NULL`,
    [migration.name, migration.kind, sum],
  );
  return true;
}
