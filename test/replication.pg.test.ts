/**
 * End-to-end: PostgreSQL → cdc-merge → PostgreSQL on a real throwaway cluster, one case per
 * rule of DESIGN.md §3. Each case fails if its rule breaks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { compare, createPair, differing, replicate, type Pair } from './support/pipeline.js';

let cluster: ThrowawayCluster;
let pair: Pair;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'replication' });
});
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  await pair?.close();
});

describe('snapshot then stream', () => {
  it('copies existing rows and then streams inserts, updates and deletes', async () => {
    pair = await createPair(cluster);
    await pair.source.query(`
      CREATE TABLE public.item (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags text[], meta jsonb);
      INSERT INTO item SELECT g, 'item ' || g, g * 1.5, ARRAY['a','b'], jsonb_build_object('g', g) FROM generate_series(1, 1000) g;`);
    const first = await replicate(pair);
    expect(first.snapshotRows).toBe(1000);
    expect(differing(await compare(pair))).toEqual([]);

    await pair.source.query(`
      INSERT INTO item VALUES (1001, E'tab\\there\\nnewline \\\\ backslash', NULL, '{}', '{"x": [1,2]}');
      UPDATE item SET price = price * 2 WHERE id % 10 = 0;
      DELETE FROM item WHERE id % 7 = 0;`);
    const second = await replicate(pair);
    expect(second.snapshotRows).toBe(0);
    expect(second.changes).toBeGreaterThan(0);
    expect(differing(await compare(pair))).toEqual([]);
  });
});
