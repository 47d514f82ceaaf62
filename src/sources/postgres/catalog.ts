/**
 * Source catalog introspection: which tables exist, their columns, types and keys.
 *
 * Types are rendered with `format_type()`. Enums map to `text`, domains to their base type
 * (recursively), arrays of either to the mapped element type plus `[]`, and types outside
 * `pg_catalog` (extensions, composites, custom ranges) to `text`: a target need not have the
 * source's extensions, and every PostgreSQL type has a text form. Generated columns are left
 * out because pgoutput does not send them (PostgreSQL 15).
 */
import type pg from 'pg';
import { matchesPattern, type TablePattern } from '../../config/table-pattern.js';
import type { ColumnSchema, TableId, TableSchema } from '../../schema/table.js';
import { logicalTypeOf } from '../../schema/type-map.js';

/** Schemas never captured: PostgreSQL's own and cdc-merge's. */
export const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema'];

/** A table found in the source catalog. */
export interface SourceTable {
  readonly oid: number;
  readonly id: TableId;
  /** `r` ordinary table, `p` partitioned table (captured as its root). */
  readonly relkind: 'r' | 'p';
  /** pg_class.relreplident: `d` default (primary key), `f` full, `i` index, `n` nothing. */
  readonly replicaIdentity: 'd' | 'f' | 'i' | 'n';
  /** True when the table has a primary key. */
  readonly hasPrimaryKey: boolean;
  /** Estimated rows (pg_class.reltuples; -1 when never analyzed). */
  readonly estimatedRows: number;
}

interface TypeRow {
  oid: number;
  nspname: string;
  typtype: string;
  typbasetype: number;
  typtypmod: number;
  typelem: number;
  typcategory: string;
  typlen: number;
  typstorage: string;
}

/**
 * Lists every ordinary and partitioned table (not partitions: they replicate through their
 * root, DESIGN.md §3.9) outside the system schemas and `excludeSchemas` (a sink's own schemas,
 * when it writes to the same database) that matches one of `patterns`; all of them when
 * `patterns` is empty. Sorted by schema, then name.
 */
export async function listTables(client: pg.ClientBase, patterns: readonly TablePattern[], excludeSchemas: readonly string[] = []): Promise<SourceTable[]> {
  const { rows } = await client.query<{
    oid: number;
    nspname: string;
    relname: string;
    relkind: 'r' | 'p';
    relreplident: 'd' | 'f' | 'i' | 'n';
    has_pk: boolean;
    reltuples: number;
  }>(
    `SELECT c.oid::int AS oid, n.nspname, c.relname, c.relkind::text AS relkind, c.relreplident::text AS relreplident,
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS has_pk,
            c.reltuples::float8 AS reltuples
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname <> ALL ($1::text[]) AND n.nspname !~ '^pg_(toast|temp)'
      ORDER BY n.nspname, c.relname`,
    [[...SYSTEM_SCHEMAS, ...excludeSchemas]],
  );
  return rows
    .map((r) => ({
      oid: r.oid,
      id: { schema: r.nspname, name: r.relname },
      relkind: r.relkind,
      replicaIdentity: r.relreplident,
      hasPrimaryKey: r.has_pk,
      estimatedRows: r.reltuples,
    }))
    .filter((t) => patterns.length === 0 || patterns.some((p) => matchesPattern(p, t.id)));
}

/** A partition (at any depth) of a selected partitioned table. */
export interface SourcePartition {
  readonly id: TableId;
  /** The selected root it belongs to. */
  readonly root: TableId;
  /** `r` leaf partition, `p` partition that is itself partitioned. */
  readonly relkind: 'r' | 'p';
  /** pg_class.relreplident, as {@link SourceTable.replicaIdentity}. */
  readonly replicaIdentity: 'd' | 'f' | 'i' | 'n';
}

/**
 * Every partition of the given partitioned tables, at any depth (pg_partition_tree), read now: a
 * partition attached since the last call is there. Replica identity is not inherited, so each
 * partition has its own (DESIGN.md §3.9). Sorted by root, then schema and name.
 */
export async function listPartitions(client: pg.ClientBase, roots: readonly SourceTable[]): Promise<SourcePartition[]> {
  const partitioned = roots.filter((t) => t.relkind === 'p');
  if (partitioned.length === 0) return [];
  const { rows } = await client.query<{
    root_schema: string;
    root_name: string;
    nspname: string;
    relname: string;
    relkind: 'r' | 'p';
    relreplident: 'd' | 'f' | 'i' | 'n';
  }>(
    `SELECT rn.nspname AS root_schema, r.relname AS root_name, n.nspname, c.relname, c.relkind::text AS relkind,
            c.relreplident::text AS relreplident
       FROM unnest($1::oid[]) AS root(oid)
       JOIN pg_class r ON r.oid = root.oid JOIN pg_namespace rn ON rn.oid = r.relnamespace
       CROSS JOIN LATERAL pg_partition_tree(root.oid::regclass) t
       JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.relid <> root.oid AND c.relkind IN ('r', 'p')
      ORDER BY rn.nspname, r.relname, n.nspname, c.relname`,
    [partitioned.map((t) => t.oid)],
  );
  return rows.map((r) => ({
    id: { schema: r.nspname, name: r.relname },
    root: { schema: r.root_schema, name: r.root_name },
    relkind: r.relkind,
    replicaIdentity: r.relreplident,
  }));
}

/** A resolved column type before naming: `text`, or a pg_catalog type (maybe an array of it). */
type TypeRef = { kind: 'text' } | { kind: 'base'; oid: number; typmod: number; array: boolean };

/**
 * Maps source column types to target types (see the module comment) and names them with the
 * server's `format_type`. One instance caches pg_type rows for a connection's lifetime.
 */
export class TypeResolver {
  private readonly types = new Map<number, TypeRow>();

  constructor(private readonly client: pg.ClientBase) {}

  /**
   * Target type names and TOAST-ability for `(oid, typmod)` pairs, in input order.
   * @throws {Error} when an OID is not in the source's pg_type.
   */
  async resolve(columns: readonly { oid: number; typmod: number }[]): Promise<{ type: string; toastable: boolean }[]> {
    await this.load(columns.map((c) => c.oid));
    const refs = columns.map((c) => this.ref(c.oid, c.typmod));
    const bases = refs.filter((r): r is Extract<TypeRef, { kind: 'base' }> => r.kind === 'base');
    const { rows } = await this.client.query<{ name: string }>(
      'SELECT format_type(o, m) AS name FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS u(o, m, i) ORDER BY i',
      [bases.map((b) => b.oid), bases.map((b) => b.typmod)],
    );
    let next = 0;
    return columns.map((c, i) => {
      const ref = refs[i]!;
      const t = this.types.get(c.oid)!;
      const toastable = t.typlen === -1 && t.typstorage !== 'p';
      if (ref.kind === 'text') return { type: 'text', toastable: true };
      const name = rows[next++]!.name;
      return { type: ref.array ? `${name}[]` : name, toastable: toastable || ref.array };
    });
  }

  private async load(oids: Iterable<number>): Promise<void> {
    const missing = [...new Set(oids)].filter((o) => !this.types.has(o));
    if (missing.length === 0) return;
    const { rows } = await this.client.query<TypeRow>(
      `WITH RECURSIVE reach(oid) AS (
         SELECT unnest($1::oid[])
         UNION
         SELECT x FROM reach r JOIN pg_type t ON t.oid = r.oid,
                LATERAL (VALUES (t.typbasetype), (t.typelem)) v(x)
          WHERE x <> 0)
       SELECT t.oid::int AS oid, n.nspname, t.typtype::text AS typtype, t.typbasetype::int AS typbasetype,
              t.typtypmod, t.typelem::int AS typelem, t.typcategory::text AS typcategory, t.typlen,
              t.typstorage::text AS typstorage
         FROM reach r JOIN pg_type t ON t.oid = r.oid JOIN pg_namespace n ON n.oid = t.typnamespace`,
      [missing],
    );
    for (const row of rows) this.types.set(row.oid, row);
    const absent = missing.filter((o) => !this.types.has(o));
    if (absent.length > 0) throw new Error(`type OIDs ${absent.join(', ')} are not in the source's pg_type`);
  }

  private ref(oid: number, typmod: number): TypeRef {
    const t = this.types.get(oid)!;
    if (t.typtype === 'd') return this.ref(t.typbasetype, t.typtypmod);
    if (t.typtype === 'e') return { kind: 'text' };
    if (t.typcategory === 'A' && t.typelem !== 0) {
      const elem = this.ref(t.typelem, typmod);
      return elem.kind === 'text' ? { kind: 'base', oid: 25, typmod: -1, array: true } : { ...elem, array: true };
    }
    if (t.nspname !== 'pg_catalog') return { kind: 'text' };
    return { kind: 'base', oid, typmod, array: false };
  }
}

/**
 * Describes tables: columns in order with mapped types, NOT NULL, TOAST-ability, and the key
 * rows are identified by in the change stream: the replica identity index's columns under
 * REPLICA IDENTITY USING INDEX, else the primary key (empty for a keyless table).
 */
export async function describeTables(client: pg.ClientBase, tables: readonly SourceTable[]): Promise<TableSchema[]> {
  if (tables.length === 0) return [];
  const { rows } = await client.query<{
    attrelid: number;
    attname: string;
    atttypid: number;
    atttypmod: number;
    attnotnull: boolean;
    attnum: number;
    pk_position: number | null;
    has_missing: boolean | null;
    missing: string | null;
  }>(
    // has_missing/missing: the value rows that existed before an ADD COLUMN hold (the "fast
    // default", pg_attribute.attmissingval, on the table or, for a partitioned root, its partitions).
    `SELECT a.attrelid::int AS attrelid, a.attname, a.atttypid::int AS atttypid, a.atttypmod, a.attnotnull, a.attnum,
            m.has_missing, m.missing,
            CASE WHEN c.relreplident = 'i'
                 THEN (SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisreplident)
                 ELSE (SELECT array_position(k.conkey, a.attnum) FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'p')
            END AS pk_position
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       LEFT JOIN LATERAL (
         SELECT bool_or(p.atthasmissing) AS has_missing,
                (array_agg((p.attmissingval::text::text[])[1]) FILTER (WHERE p.atthasmissing))[1] AS missing
           FROM pg_attribute p
          WHERE p.attname = a.attname AND NOT p.attisdropped
            AND (p.attrelid = a.attrelid OR (c.relkind = 'p' AND p.attrelid IN (SELECT relid FROM pg_partition_tree(a.attrelid::regclass))))
       ) m ON true
      WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      ORDER BY a.attrelid, a.attnum`,
    [tables.map((t) => t.oid)],
  );
  const resolved = await new TypeResolver(client).resolve(rows.map((r) => ({ oid: r.atttypid, typmod: r.atttypmod })));
  const byTable = new Map<number, { columns: ColumnSchema[]; pk: { name: string; pos: number }[] }>();
  rows.forEach((r, i) => {
    let entry = byTable.get(r.attrelid);
    if (!entry) byTable.set(r.attrelid, (entry = { columns: [], pk: [] }));
    const { type, toastable } = resolved[i]!;
    entry.columns.push({
      name: r.attname,
      type,
      logicalType: logicalTypeOf(type),
      nullable: !r.attnotnull,
      toastable,
      sourceAttnum: r.attnum,
      ...(r.has_missing ? { missingValue: r.missing } : {}),
    });
    if (r.pk_position !== null) entry.pk.push({ name: r.attname, pos: r.pk_position });
  });
  return tables.map((t) => {
    const entry = byTable.get(t.oid) ?? { columns: [], pk: [] };
    return {
      id: t.id,
      columns: entry.columns,
      primaryKey: entry.pk.sort((a, b) => a.pos - b.pos).map((k) => k.name),
    };
  });
}

