/**
 * The publication that decides which tables the slot decodes: created or brought in line
 * with the selected tables, always with `publish_via_partition_root = true` so partitioned
 * tables arrive under their root's name (DESIGN.md §3.9).
 * @see https://www.postgresql.org/docs/current/sql-createpublication.html
 */
import type pg from 'pg';
import { CdcError, sqlState } from '../../errors.js';
import { formatTableId, tableKey, type TableId } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';

/** What {@link ensurePublication} did, for the log. */
export interface PublicationChange {
  readonly created: boolean;
  readonly added: readonly TableId[];
  readonly removed: readonly TableId[];
}

function permissionError(error: unknown, what: string): never {
  if (sqlState(error) === '42501') {
    throw new CdcError('PERMISSION_DENIED', `not allowed to ${what}`, {
      cause: error,
      remedy: 'connect as the owner of the selected tables (or a superuser), or have an administrator create the publication',
    });
  }
  throw error;
}

/**
 * Creates publication `name` for exactly `tables`, or alters an existing one to publish exactly
 * them (a `FOR ALL TABLES` publication is left as it is).
 * @throws {CdcError} PERMISSION_DENIED when the role may not create or alter it.
 */
export async function ensurePublication(client: pg.ClientBase, name: string, tables: readonly TableId[]): Promise<PublicationChange> {
  const list = tables.map(quoteTable).join(', ');
  const { rows } = await client.query<{ puballtables: boolean; pubviaroot: boolean }>(
    'SELECT puballtables, pubviaroot FROM pg_publication WHERE pubname = $1',
    [name],
  );
  const existing = rows[0];
  if (!existing) {
    try {
      await client.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${list} WITH (publish_via_partition_root = true)`);
    } catch (error) {
      permissionError(error, `create publication "${name}"`);
    }
    return { created: true, added: tables, removed: [] };
  }
  try {
    if (!existing.pubviaroot) await client.query(`ALTER PUBLICATION ${quoteIdent(name)} SET (publish_via_partition_root = true)`);
    if (existing.puballtables) return { created: false, added: [], removed: [] };
    const published = await client.query<{ schemaname: string; tablename: string }>(
      'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
      [name],
    );
    const have = new Map(published.rows.map((r) => [tableKey({ schema: r.schemaname, name: r.tablename }), { schema: r.schemaname, name: r.tablename }]));
    const want = new Map(tables.map((t) => [tableKey(t), t]));
    const added = [...want].filter(([k]) => !have.has(k)).map(([, t]) => t);
    const removed = [...have].filter(([k]) => !want.has(k)).map(([, t]) => t);
    if (added.length > 0 || removed.length > 0) await client.query(`ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${list}`);
    return { created: false, added, removed };
  } catch (error) {
    permissionError(error, `alter publication "${name}"`);
  }
}

/** A table or partition and its replica identity (pg_class.relreplident). */
export interface ReplicaIdentityOf {
  readonly id: TableId;
  readonly replicaIdentity: 'd' | 'f' | 'i' | 'n';
  /** For a partition: the selected partitioned table it belongs to. */
  readonly root?: TableId;
}

/**
 * Refuses tables and partitions with REPLICA IDENTITY NOTHING, before they are published: a
 * published table without a replica identity makes UPDATE and DELETE fail on the source, and
 * its changes could not be identified anyway. cdc-merge does not override an explicit NOTHING.
 * @throws {CdcError} REPLICA_IDENTITY_NOTHING naming every such table (and the root of a partition).
 */
export function refuseReplicaIdentityNothing(tables: readonly ReplicaIdentityOf[]): void {
  const nothing = tables.filter((t) => t.replicaIdentity === 'n');
  if (nothing.length === 0) return;
  const names = nothing.map((t) => (t.root ? `${formatTableId(t.id)} (partition of ${formatTableId(t.root)})` : formatTableId(t.id)));
  const first = nothing[0]!;
  throw new CdcError(
    'REPLICA_IDENTITY_NOTHING',
    `REPLICA IDENTITY NOTHING on ${names.join(', ')}: publishing ${nothing.length === 1 ? 'it' : 'them'} would make UPDATE and DELETE fail on the source`,
    {
      remedy:
        `give ${nothing.length === 1 ? 'it' : 'each'} a replica identity, e.g. ALTER TABLE ${quoteTable(first.id)} REPLICA IDENTITY DEFAULT (with a primary key) or FULL (without one), ` +
        `or leave ${nothing.length === 1 ? 'its table' : 'their tables'} out of --tables`,
      context: { tables: nothing.map((t) => formatTableId(t.id)) },
    },
  );
}

/**
 * Sets REPLICA IDENTITY FULL on keyless tables that lack it, so their updates and deletes can
 * be published and identified (DESIGN.md §3.9): without it, publishing such a table makes
 * UPDATE and DELETE on the source fail. A partitioned table's partitions are listed one by one
 * (the setting is not inherited).
 * @returns the tables changed.
 * @throws {CdcError} PERMISSION_DENIED when the role does not own a table.
 */
export async function ensureReplicaIdentityFull(client: pg.ClientBase, tables: readonly TableId[]): Promise<TableId[]> {
  for (const t of tables) {
    try {
      await client.query(`ALTER TABLE ${quoteTable(t)} REPLICA IDENTITY FULL`);
    } catch (error) {
      if (sqlState(error) === '42501') {
        throw new CdcError('PERMISSION_DENIED', `table ${formatTableId(t)} has no primary key and cdc-merge may not set REPLICA IDENTITY FULL on it`, {
          cause: error,
          remedy: `run as its owner: ALTER TABLE ${quoteTable(t)} REPLICA IDENTITY FULL; or add a primary key; or exclude it with --tables`,
        });
      }
      throw error;
    }
  }
  return [...tables];
}
