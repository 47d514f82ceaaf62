/**
 * The real Chinook sample database (../shared/data/chinook) as a source, with the demo's
 * shop workload (multi-table transactions, updates, deletes, ADD COLUMN, a large update)
 * running while cdc-merge replicates it: the target equals the source on every row and column.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadChinook } from '../src/demo/chinook.js';
import { runChinookWorkload } from '../src/demo/workload.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { compare, createPair, differing, replicate, type Pair } from './support/pipeline.js';

let cluster: ThrowawayCluster;
let pair: Pair;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'chinook' });
});
afterAll(async () => {
  await pair?.close();
  await cluster?.stop();
});

it('replicates Chinook under a live workload to an identical target', async () => {
  pair = await createPair(cluster);
  await loadChinook(cluster, pair.sourceUrl.split('/').pop()!);
  const initial = await replicate(pair);
  expect(initial.tables).toHaveLength(11);
  expect(initial.snapshotRows).toBeGreaterThan(15_000);
  expect(differing(await compare(pair))).toEqual([]);

  const controller = new AbortController();
  const streaming = replicate(pair, { untilCaughtUp: false, signal: controller.signal });
  const stats = await runChinookWorkload({ url: pair.sourceUrl, seconds: 6, ratePerSecond: 40 });
  controller.abort();
  await streaming;
  await replicate(pair);
  expect(stats.transactions).toBeGreaterThan(50);
  expect(stats.schemaChanges).toBeGreaterThan(0);
  expect(differing(await compare(pair))).toEqual([]);
});
