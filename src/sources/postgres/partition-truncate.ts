/**
 * What a partitioned table's change stream does not say. Under `publish_via_partition_root`
 * (DESIGN.md §3.9), a TRUNCATE of a single partition is not published and DETACH PARTITION
 * emits no row changes: the target would keep the partition's rows for good. So each partition
 * of a selected partitioned table carries a statement-level `BEFORE TRUNCATE` trigger of the
 * pipeline that writes a transactional logical decoding message naming the root (PostgreSQL
 * 14+, where pgoutput can send messages); the stream turns it into a fresh copy of the root
 * unless the same transaction truncated the root itself. A partition detached since the last
 * start still carries the trigger, now pointing at a root it no longer belongs to: the root is
 * copied again at start. A partition with rows attached since the last start (its row type is
 * older than its `pg_inherits` row: it was a table before it became a partition) also copies the
 * root again. Both are noticed at the next start, not while streaming (see docs/faults.md).
 * @see https://www.postgresql.org/docs/current/sql-createpublication.html (publish_via_partition_root)
 * @see https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-REPLICATION (pg_logical_emit_message)
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { formatTableId, type TableId } from '../../schema/table.js';
import { quoteIdent, quoteLiteral, quoteTable } from '../../sql/quote.js';
import type { SourceTable } from './catalog.js';

/** Name of the trigger function, created in the schema of each partitioned root. */
const FUNCTION_NAME = 'cdc_merge_partition_truncated';

/** The trigger's name on each partition: one per pipeline, so pipelines detect independently. */
export function truncateTriggerName(pipeline: string): string {
  return `cdc_${pipeline}_truncate`;
}

/** Prefix of the logical decoding message the pipeline's trigger writes; its content is the root's OID. */
export function truncateMessagePrefix(pipeline: string): string {
  return `cdc-merge-truncate:${pipeline}`;
}

/** What {@link preparePartitionTriggers} found and did. */
export interface PartitionTriggers {
  /**
   * Selected roots a partition was detached from, or a partition with rows attached to, since the
   * last start: their copies are stale.
   */
  readonly changed: readonly TableId[];
  /** Partitions that got the trigger now. */
  readonly installed: number;
  /** Why detection is off, when it is (server before 14, or not allowed to create the trigger). */
  readonly unavailable?: string;
}

/**
 * Puts the pipeline's TRUNCATE trigger on every partition (any depth) of the selected
 * partitioned tables, and finds partitions detached (and un-triggers them) or attached with
 * rows since the last start.
 * Failing to create a trigger (permissions) is reported in `unavailable`, not thrown: the
 * pipeline still runs, and says loudly that single-partition TRUNCATE goes unnoticed.
 */
export async function preparePartitionTriggers(
  client: pg.ClientBase,
  pipeline: string,
  tables: readonly SourceTable[],
  serverVersion: number,
  log: Logger,
): Promise<PartitionTriggers> {
  const roots = tables.filter((t) => t.relkind === 'p');
  if (roots.length === 0) return { changed: [], installed: 0 };
  if (serverVersion < 140000) return { changed: [], installed: 0, unavailable: 'PostgreSQL 13 cannot send logical decoding messages to pgoutput' };
  const trigger = truncateTriggerName(pipeline);
  const byOid = new Map(roots.map((t) => [String(t.oid), t]));
  const existing = await client.query<{ relid: string; schema: string; name: string; root_oid: string; current_root: string | null }>(
    `SELECT c.oid::text AS relid, n.nspname AS schema, c.relname AS name,
            split_part(encode(t.tgargs, 'escape'), '\\000', 2) AS root_oid,
            CASE WHEN c.relispartition THEN pg_partition_root(c.oid)::oid::text END AS current_root
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgname = $1`,
    [trigger],
  );
  const changedRoots = new Map<string, TableId>();
  const triggered = new Set<string>();
  for (const r of existing.rows) {
    if (r.current_root === r.root_oid) {
      triggered.add(r.relid);
      continue;
    }
    const root = byOid.get(r.root_oid);
    if (root) {
      changedRoots.set(r.root_oid, root.id);
      log.warn({ partition: formatTableId({ schema: r.schema, name: r.name }), root: formatTableId(root.id) }, 'a partition was detached since the last start');
    }
    await client.query(`DROP TRIGGER IF EXISTS ${quoteIdent(trigger)} ON ${quoteTable({ schema: r.schema, name: r.name })}`);
  }
  // `attached`: the partition's row type is older than its pg_inherits row, i.e. it existed as
  // a table before it became a partition (CREATE TABLE … PARTITION OF writes both in one
  // transaction). Rows an ATTACH brings are never published.
  const partitions = await client.query<{ relid: string; schema: string; name: string; root_oid: string; attached: boolean }>(
    `SELECT c.oid::text AS relid, n.nspname AS schema, c.relname AS name, root.oid::text AS root_oid,
            ty.xmin::text <> i.xmin::text AS attached
       FROM unnest($1::oid[]) AS root(oid)
       CROSS JOIN LATERAL pg_partition_tree(root.oid::regclass) t
       JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_inherits i ON i.inhrelid = c.oid
       JOIN pg_type ty ON ty.oid = c.reltype
      WHERE t.relid <> root.oid AND c.relkind IN ('r', 'p')`,
    [roots.map((t) => t.oid)],
  );
  const missing = partitions.rows.filter((p) => !triggered.has(p.relid));
  // Roots the pipeline has triggered before: a partition of theirs without the trigger is new
  // since the last start. Attached with rows: those rows never came through the stream.
  const knownRoots = new Set(partitions.rows.filter((p) => triggered.has(p.relid)).map((p) => p.root_oid));
  for (const p of missing) {
    if (!p.attached || !knownRoots.has(p.root_oid)) continue;
    const hasRows = await client.query(`SELECT 1 FROM ${quoteTable({ schema: p.schema, name: p.name })} LIMIT 1`);
    if (hasRows.rowCount === 0) continue;
    const root = byOid.get(p.root_oid)!;
    changedRoots.set(p.root_oid, root.id);
    log.warn({ partition: formatTableId({ schema: p.schema, name: p.name }), root: formatTableId(root.id) }, 'a partition with rows was attached since the last start');
  }
  let installed = 0;
  try {
    const schemas = new Set<string>();
    for (const p of missing) {
      const root = byOid.get(p.root_oid)!;
      const fn = `${quoteIdent(root.id.schema)}.${quoteIdent(FUNCTION_NAME)}`;
      if (!schemas.has(root.id.schema)) {
        schemas.add(root.id.schema);
        const found = await client.query('SELECT 1 FROM pg_proc WHERE proname = $1 AND pronamespace = $2::regnamespace', [FUNCTION_NAME, quoteIdent(root.id.schema)]);
        if (found.rowCount === 0) {
          await client.query(
            `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
               BEGIN
                 -- cdc-merge: tells the change stream that this partition was truncated (not published under publish_via_partition_root).
                 PERFORM pg_logical_emit_message(true, TG_ARGV[0], TG_ARGV[1]);
                 RETURN NULL;
               END $fn$`,
          );
        }
      }
      await client.query(
        `CREATE TRIGGER ${quoteIdent(trigger)} BEFORE TRUNCATE ON ${quoteTable({ schema: p.schema, name: p.name })}
           FOR EACH STATEMENT EXECUTE FUNCTION ${fn}(${quoteLiteral(truncateMessagePrefix(pipeline))}, ${quoteLiteral(p.root_oid)})`,
      );
      installed++;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { changed: [...changedRoots.values()], installed, unavailable: `cannot create the TRUNCATE trigger on partitions: ${reason}` };
  }
  return { changed: [...changedRoots.values()], installed };
}
