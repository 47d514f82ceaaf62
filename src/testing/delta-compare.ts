/**
 * Comparing Delta tables with their source (tests and the demo): a source table's rows in the form the delta-rs oracle prints
 * (`oracles/delta_read.py`), and a check that a table's change data feed replays into its
 * snapshot.
 */
import { join } from 'node:path';
import pg from 'pg';
import type { TableComparison } from '../verify/compare.js';
import { readDeltaTable, type DeltaReading, type OracleValue } from './python-oracles.js';

/** The SQL expression giving a column's value in the oracle's JSON form. */
function oracleExpression(column: string, type: string, elementType: string | null): string {
  const c = `"${column.replaceAll('"', '""')}"`;
  switch (type) {
    case 'bigint':
      // Not abs(): it overflows on the smallest bigint, -9223372036854775808.
      return `CASE WHEN ${c} NOT BETWEEN -9007199254740992 AND 9007199254740992 THEN to_jsonb(${c}::text) ELSE to_jsonb(${c}) END`;
    case 'numeric':
      return `to_jsonb(${c}::text)`;
    case 'timestamp with time zone':
      return `to_jsonb(to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))`;
    case 'timestamp without time zone':
      return `to_jsonb(to_char(${c}, 'YYYY-MM-DD"T"HH24:MI:SS.US'))`;
    case 'date':
      return `to_jsonb(to_char(${c}, 'YYYY-MM-DD'))`;
    case 'bytea':
      return `to_jsonb(encode(${c}, 'hex'))`;
    case 'ARRAY':
      return elementType === 'text' || elementType === 'varchar' ? `to_jsonb(${c})` : `to_jsonb(${c})`;
    case 'smallint':
    case 'integer':
    case 'real':
    case 'double precision':
    case 'boolean':
      return `to_jsonb(${c})`;
    default:
      return `to_jsonb(${c}::text)`;
  }
}

/** A row as a canonical string (keys sorted), for sorting and comparing. */
export function canonical(row: Record<string, OracleValue>): string {
  return JSON.stringify(Object.keys(row).sort().map((k) => [k, row[k]]));
}

/** Rows sorted canonically. */
export function sortRows(rows: readonly Record<string, OracleValue>[]): Record<string, OracleValue>[] {
  return [...rows].sort((a, b) => (canonical(a) < canonical(b) ? -1 : canonical(a) > canonical(b) ? 1 : 0));
}

/** Every row of `schema.table` on the source, in the oracle's form, sorted. */
export async function sourceRows(url: string, schema: string, table: string): Promise<Record<string, OracleValue>[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows: columns } = await client.query<{ column_name: string; data_type: string; udt_name: string }>(
      'SELECT column_name, data_type, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [schema, table],
    );
    const fields = columns.map((c) => `'${c.column_name.replaceAll("'", "''")}', ${oracleExpression(c.column_name, c.data_type, c.udt_name.replace(/^_/, ''))}`);
    const { rows } = await client.query<{ r: Record<string, OracleValue> }>(`SELECT jsonb_build_object(${fields.join(', ')}) AS r FROM "${schema}"."${table}"`);
    return sortRows(rows.map((x) => x.r));
  } finally {
    await client.end();
  }
}

/** A row without `columns`. */
export function withoutColumns(row: Record<string, OracleValue>, columns: readonly string[]): Record<string, OracleValue> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !columns.includes(k)));
}

/** The snapshot's rows, sorted canonically (without the oracle's own ordering). */
export function deltaRows(reading: DeltaReading): Record<string, OracleValue>[] {
  return sortRows(reading.rows);
}

/**
 * Replays the change data feed of versions after `from` onto the rows of version `from` and
 * returns the result (sorted), checking each version's changes against the rows as they stand:
 * a delete or update_preimage must remove an existing row; an update_postimage must follow its
 * preimage. Columns in `ignore` are left out of both: columns added with a value for existing
 * rows (ADD COLUMN … DEFAULT), which Delta fills by rewriting files without a data change, so
 * the feed's earlier rows lack it.
 * @throws {Error} naming the version and row when a change does not apply.
 */
export function replayChangeFeed(before: readonly Record<string, OracleValue>[], cdf: readonly Record<string, OracleValue>[], from: number, ignore: readonly string[] = []): Record<string, OracleValue>[] {
  if (ignore.length > 0) {
    return replayChangeFeed(
      before.map((r) => withoutColumns(r, ignore)),
      cdf.map((r) => withoutColumns(r, ignore)),
      from,
    );
  }
  const rows = new Map<string, number>();
  for (const r of before) rows.set(canonical(r), (rows.get(canonical(r)) ?? 0) + 1);
  const versions = [...new Set(cdf.map((r) => r._commit_version as number))].filter((v) => v > from).sort((a, b) => a - b);
  for (const v of versions) {
    const changes = cdf.filter((r) => r._commit_version === v);
    const strip = (r: Record<string, OracleValue>) => {
      const { _change_type: _t, _commit_version: _v, ...rest } = r;
      return rest;
    };
    for (const c of changes.filter((r) => r._change_type === 'delete' || r._change_type === 'update_preimage')) {
      const key = canonical(strip(c));
      const n = rows.get(key) ?? 0;
      if (n <= 0) throw new Error(`version ${v}: ${JSON.stringify(c._change_type)} of a row that is not there: ${key}`);
      if (n === 1) rows.delete(key);
      else rows.set(key, n - 1);
    }
    for (const c of changes.filter((r) => r._change_type === 'insert' || r._change_type === 'update_postimage')) {
      const key = canonical(strip(c));
      rows.set(key, (rows.get(key) ?? 0) + 1);
    }
    const pre = changes.filter((r) => r._change_type === 'update_preimage').length;
    const post = changes.filter((r) => r._change_type === 'update_postimage').length;
    if (pre !== post) throw new Error(`version ${v}: ${pre} update_preimage rows but ${post} update_postimage rows`);
  }
  const out: Record<string, OracleValue>[] = [];
  for (const [key, n] of rows) {
    const row = Object.fromEntries(JSON.parse(key) as [string, OracleValue][]);
    for (let i = 0; i < n; i++) out.push(row);
  }
  return sortRows(out);
}

/**
 * The location of table `schema.name` under a Delta location: a local directory, or an
 * `s3://bucket/prefix` URL (joined with `/`, keeping the `//` of the scheme).
 */
export function deltaTableLocation(location: string, schema: string, name: string): string {
  const tail = [encodeURIComponent(schema), encodeURIComponent(name)];
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? [location.replace(/\/+$/, ''), ...tail].join('/') : join(location, ...tail);
}

/**
 * Every table of `schema` on the source compared with the Delta table delta-rs reads at
 * `<location>/<schema>/<table>`: row counts, equality of all rows and columns, and up to 5
 * differing rows each way. Needs the oracles' Python environment (`oraclesPython`).
 * @param storageOptions delta-rs storage options for an `s3://` location (see
 *   `ThrowawayS3.deltaStorageOptions`).
 */
export async function compareWithDelta(sourceUrl: string, location: string, schema = 'public', storageOptions?: Record<string, string>): Promise<TableComparison[]> {
  const client = new pg.Client(sourceUrl);
  await client.connect();
  let names: string[];
  try {
    names = (await client.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1", [schema])).rows.map((r) => r.t);
  } finally {
    await client.end();
  }
  const out: TableComparison[] = [];
  for (const name of names) {
    const source = await sourceRows(sourceUrl, schema, name);
    const target = deltaRows(await readDeltaTable(deltaTableLocation(location, schema, name), storageOptions ? { storageOptions } : {}));
    const s = new Set(source.map(canonical));
    const t = new Set(target.map(canonical));
    const differences = [...source.map(canonical).filter((r) => !t.has(r)).map((r) => `- ${r}`), ...target.map(canonical).filter((r) => !s.has(r)).map((r) => `+ ${r}`)].slice(0, 5);
    const equal = source.length === target.length && source.every((r, i) => canonical(r) === canonical(target[i]!));
    out.push({ table: `${schema}.${name}`, sourceRows: source.length, targetRows: target.length, sourceChecksum: '', targetChecksum: '', equal, differences });
  }
  return out;
}
