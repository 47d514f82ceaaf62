/**
 * The SQL side of row positions on a real PostgreSQL: `cdc_management.row_position` encodes
 * exactly as src/events/position.ts does, `row_position_parts` decodes, `bytea` order is the
 * element-wise order, and `upgrade_row_position` converts a table of the previous release
 * (`_cdc_lsn`, `_cdc_ordinal`) and its staging table in place.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePosition, positionHex } from '../../events/position.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../../testing/throwaway-cluster.js';
import { infrastructureSql } from './infrastructure.js';
import { upgradeCallSql } from './row-position-sql.js';

let cluster: ThrowawayCluster;
let client: pg.Client;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'row-position' });
  client = new pg.Client(await cluster.createDatabase('positions'));
  await client.connect();
  await client.query(infrastructureSql());
});
afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

const vectors: bigint[][] = [[], [0n], [1n], [255n], [256n], [0x16b374d848n, 0n], [0x16b374d848n, 3n], [2n ** 80n - 1n, 0x25_0000_0d98_0002n, 7n], [3n, 484n, 0n, 12n, 0n]];

describe('row positions in SQL', () => {
  it('row_position encodes as the TypeScript encoder does, and row_position_parts decodes', async () => {
    for (const v of vectors) {
      const { rows } = await client.query<{ hex: string; parts: string[] }>(
        `SELECT encode(cdc_management.row_position(VARIADIC $1::numeric[]), 'hex') AS hex,
                cdc_management.row_position_parts(cdc_management.row_position(VARIADIC $1::numeric[]))::text[] AS parts`,
        [v.map(String)],
      );
      expect(rows[0]).toEqual({ hex: positionHex(encodePosition(v)), parts: v.map(String) });
    }
    await expect(client.query('SELECT cdc_management.row_position(-1)')).rejects.toThrow(/not a non-negative integer/);
  });

  it('orders bytea as the lists order element by element', async () => {
    const { rows } = await client.query<{ parts: string[] }>(
      `SELECT cdc_management.row_position_parts(p)::text[] AS parts FROM unnest($1::bytea[]) AS p ORDER BY p`,
      [vectors.map((v) => Buffer.from(encodePosition(v)))],
    );
    const sorted = [...vectors].sort((a, b) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
      return a.length - b.length;
    });
    expect(rows.map((r) => r.parts)).toEqual(sorted.map((v) => v.map(String)));
  });

  it('upgrade_row_position converts a table of the previous release and its staged rows, once', async () => {
    await client.query(`CREATE SCHEMA IF NOT EXISTS legacy;
      CREATE TABLE legacy.t (id int PRIMARY KEY, v text, _cdc_lsn bigint NOT NULL DEFAULT 0, _cdc_ordinal integer NOT NULL DEFAULT -1);
      INSERT INTO legacy.t VALUES (1, 'streamed', 1000, 5), (2, 'snapshot', 900, -1), (3, 'loaded', 0, -1);
      CREATE UNLOGGED TABLE cdc_staging."legacy.t" (id int, v text, _cdc_op "char" NOT NULL, _cdc_lsn bigint NOT NULL, _cdc_ordinal integer NOT NULL DEFAULT 0);
      INSERT INTO cdc_staging."legacy.t" VALUES (1, 'staged', 'U', 1100, 1);`);
    for (let i = 0; i < 2; i++) await client.query(upgradeCallSql({ schema: 'legacy', name: 't' }));
    const final = await client.query<{ id: number; parts: string[] }>('SELECT id, cdc_management.row_position_parts(_cdc_position)::text[] AS parts FROM legacy.t ORDER BY id');
    expect(final.rows).toEqual([
      { id: 1, parts: ['1000', '5'] },
      { id: 2, parts: ['900'] },
      { id: 3, parts: [] },
    ]);
    const staged = await client.query<{ parts: string[] }>('SELECT cdc_management.row_position_parts(_cdc_position)::text[] AS parts FROM cdc_staging."legacy.t"');
    expect(staged.rows).toEqual([{ parts: ['1100', '1'] }]);
    const columns = await client.query<{ attname: string }>(
      "SELECT attname FROM pg_attribute WHERE attrelid IN ('legacy.t'::regclass, 'cdc_staging.\"legacy.t\"'::regclass) AND attnum > 0 AND NOT attisdropped AND attname LIKE '\\_cdc%' ORDER BY 1",
    );
    expect(columns.rows.map((r) => r.attname)).toEqual(['_cdc_op', '_cdc_position', '_cdc_position']);
  });
});
