/**
 * Schema changes on the source that the target must follow exactly (DESIGN.md §3.8, issue 11):
 * each case is built to fail when the change is lost or mishandled.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { compare, createPair, differing, replicate, type Pair } from './support/pipeline.js';

let cluster: ThrowawayCluster;
let pair: Pair;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'schema-evolution' });
});
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  await pair?.close();
});

async function expectEqual(p: Pair): Promise<void> {
  expect(differing(await compare(p))).toEqual([]);
}

describe('ADD COLUMN … DEFAULT while no pipeline runs (issue 11 item 4)', () => {
  it("gives the target's existing rows the value the source reads, when it is the table's first change since the stop", async () => {
    pair = await createPair(cluster);
    await pair.source.query(`CREATE TABLE t (id int PRIMARY KEY, v text);
      INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 20) g;`);
    await replicate(pair);
    await pair.source.query(`ALTER TABLE t ADD COLUMN c text DEFAULT 'fast default';
      ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 7;
      INSERT INTO t (id, v) VALUES (21, 'after');`);
    await replicate(pair);
    const { rows } = await pair.target.query<{ c: string | null; n: number | null; count: number }>(
      'SELECT c, n, count(*)::int AS count FROM t GROUP BY c, n ORDER BY c, n',
    );
    expect(rows).toEqual([{ c: 'fast default', n: 7, count: 21 }]);
    await expectEqual(pair);
  });
});

describe('DROP NOT NULL on the source (issue 11 item 6)', () => {
  it('reaches the target before the first NULL, while the pipeline runs', async () => {
    pair = await createPair(cluster);
    await pair.source.query(`CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
      INSERT INTO t VALUES (1, 'one');`);
    await replicate(pair);
    const notNull = await pair.target.query<{ attnotnull: boolean }>("SELECT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'v'");
    expect(notNull.rows).toEqual([{ attnotnull: true }]);
    const controller = new AbortController();
    let failure: unknown;
    const running = replicate(pair, { untilCaughtUp: false, signal: controller.signal }).catch((error: unknown) => {
      failure = error;
    });
    try {
      await pair.source.query(`ALTER TABLE t ALTER COLUMN v DROP NOT NULL;
        INSERT INTO t VALUES (2, NULL);
        UPDATE t SET v = NULL WHERE id = 1;`);
      for (let i = 0; i < 100 && failure === undefined; i++) {
        const { rows } = await pair.target.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE v IS NULL');
        if (rows[0]!.n === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      controller.abort();
      await running;
    }
    expect(failure).toBeUndefined();
    await expectEqual(pair);
    const { rows } = await pair.target.query<{ attnotnull: boolean }>("SELECT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'v'");
    expect(rows).toEqual([{ attnotnull: false }]);
  });
});

describe('server settings never change values (issue 11 item 10)', () => {
  it('replicates exactly although source and target default to other date, interval, float, bytea and string styles', async () => {
    pair = await createPair(cluster);
    const db = (url: string) => new URL(url).pathname.slice(1);
    // Each database's defaults apply to every new session, the walsender's included.
    await pair.source.query(`ALTER DATABASE ${db(pair.sourceUrl)} SET DateStyle = 'SQL, DMY';
      ALTER DATABASE ${db(pair.sourceUrl)} SET IntervalStyle = 'sql_standard';
      ALTER DATABASE ${db(pair.sourceUrl)} SET extra_float_digits = -15;
      ALTER DATABASE ${db(pair.sourceUrl)} SET bytea_output = 'escape';`);
    await pair.target.query(`ALTER DATABASE ${db(pair.targetUrl)} SET DateStyle = 'SQL, MDY';
      ALTER DATABASE ${db(pair.targetUrl)} SET IntervalStyle = 'iso_8601';
      ALTER DATABASE ${db(pair.targetUrl)} SET standard_conforming_strings = off;`);
    const values = `(1, '2024-01-02', '2024-01-02 03:04:05.678912', '1 year 2 mons 3 days 04:05:06.789', 0.1::float8 + 0.2::float8, 1.2345678::real, '\\x00ff5c27'::bytea, 'back\\slash ''quote'''),
      (2, '0044-03-15 BC', '2024-12-31 23:59:59.999999', '-3 days +02:00:00', 1e-300, 3.4028235e38::real, ''::bytea, E'tab\\there')`;
    await pair.source.query(`CREATE TABLE s (id int PRIMARY KEY, d date, ts timestamp(6), iv interval, f float8, r real, b bytea, t text);
      INSERT INTO s VALUES ${values};`);
    await replicate(pair);
    await pair.source.query(`INSERT INTO s SELECT id + 10, d, ts, iv, f, r, b, t FROM s WHERE id <= 2;
      UPDATE s SET f = f * 3, iv = iv * 2 WHERE id = 1;`);
    await replicate(pair);
    // Compare as values, each side read in its own fixed style.
    const read = async (url: string) => {
      const { default: pg } = await import('pg');
      const c = new pg.Client({ connectionString: url, options: '-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c bytea_output=hex' });
      await c.connect();
      try {
        const { rows } = await c.query("SELECT id, d::text, ts::text, iv::text, f::text, r::text, encode(b, 'hex') AS b, t FROM s ORDER BY id");
        return rows;
      } finally {
        await c.end();
      }
    };
    const [source, target] = await Promise.all([read(pair.sourceUrl), read(pair.targetUrl)]);
    expect(target).toEqual(source);
    expect(source).toHaveLength(4);
  });
});

describe('RENAME COLUMN on the source (issue 11 item 5)', () => {
  it('keeps the values under the new name, mid-stream and while stopped, also for a key column and with a type change', async () => {
    pair = await createPair(cluster);
    await pair.source.query(`CREATE TABLE t (id int PRIMARY KEY, old_name text, n int);
      INSERT INTO t SELECT g, 'v' || g, g FROM generate_series(1, 10) g;`);
    await replicate(pair);
    // While stopped: a rename, then a change to another row.
    await pair.source.query(`ALTER TABLE t RENAME COLUMN old_name TO new_name;
      UPDATE t SET new_name = 'changed' WHERE id = 1;`);
    await replicate(pair);
    await expectEqual(pair);
    // A key column renamed, and a rename with a type change, in one transaction with rows.
    await pair.source.query(`BEGIN;
      ALTER TABLE t RENAME COLUMN id TO ident;
      ALTER TABLE t RENAME COLUMN n TO amount;
      ALTER TABLE t ALTER COLUMN amount TYPE bigint;
      INSERT INTO t VALUES (11, 'eleven', 11);
      COMMIT;`);
    await replicate(pair);
    await expectEqual(pair);
    const { rows } = await pair.target.query<{ ident: number; new_name: string; amount: string }>('SELECT ident, new_name, amount::text FROM t WHERE ident IN (2, 11) ORDER BY ident');
    expect(rows).toEqual([
      { ident: 2, new_name: 'v2', amount: '2' },
      { ident: 11, new_name: 'eleven', amount: '11' },
    ]);
    const columns = await pair.target.query<{ attname: string }>("SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_cdc%' ORDER BY attnum");
    expect(columns.rows.map((r) => r.attname)).toEqual(['ident', 'new_name', 'amount']);
  });

  it("stops under rename: stop, and treats a rename as a removal plus an addition under 'ignore'", async () => {
    pair = await createPair(cluster);
    await pair.source.query(`CREATE TABLE t (id int PRIMARY KEY, a text);
      INSERT INTO t VALUES (1, 'one');`);
    await replicate(pair);
    await pair.source.query("ALTER TABLE t RENAME COLUMN a TO b; INSERT INTO t VALUES (2, 'two');");
    await expect(replicate(pair, { schemaPolicy: { drop: 'ignore', typeChange: 'apply', rename: 'stop' } })).rejects.toMatchObject({ code: 'SCHEMA_CHANGE_STOPPED' });
    await replicate(pair, { schemaPolicy: { drop: 'ignore', typeChange: 'apply', rename: 'ignore' } });
    const { rows } = await pair.target.query<{ id: number; a: string | null; b: string | null }>('SELECT id, a, b FROM t ORDER BY id');
    expect(rows).toEqual([
      { id: 1, a: 'one', b: null },
      { id: 2, a: null, b: 'two' },
    ]);
  });
});
