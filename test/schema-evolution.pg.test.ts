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
