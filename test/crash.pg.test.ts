/**
 * Crash safety (DESIGN.md §3.2): `kill -9` the real `cdc run` process again and again, during
 * the snapshot and while batches land and merge under a live workload; after a final
 * `--until-caught-up` run the target equals the source: nothing lost, nothing duplicated
 * (the keyless history table would show any duplicate).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startCli, runCli } from './support/cli.js';
import { compare, createPair, differing, type Pair } from './support/pipeline.js';

let cluster: ThrowawayCluster;
let pair: Pair;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'crash' });
});
afterAll(async () => {
  await pair?.close();
  await cluster?.stop();
});

async function workload(p: Pair, stop: { done: boolean }): Promise<number> {
  let n = 0;
  while (!stop.done) {
    const a = 1 + (n % 100);
    const b = 1 + ((n * 37) % 100);
    await p.source.query(`BEGIN;
      UPDATE account SET balance = balance - 1, note = 'tx ${n}' WHERE id = ${a};
      UPDATE account SET balance = balance + 1 WHERE id = ${b};
      INSERT INTO history (account, delta, at) VALUES (${a}, -1, now()), (${b}, 1, now());
      ${n % 50 === 0 ? `DELETE FROM account WHERE id = ${200 + n}; INSERT INTO account VALUES (${201 + n}, 0, 'new');` : ''}
      COMMIT;`);
    n++;
  }
  return n;
}

it('loses and duplicates nothing when killed with SIGKILL mid-snapshot and mid-batch', async () => {
  pair = await createPair(cluster);
  await pair.source.query(`
    CREATE TABLE account (id int PRIMARY KEY, balance bigint NOT NULL, note text);
    CREATE TABLE history (account int, delta int, at timestamptz);
    CREATE TABLE bulk (id int PRIMARY KEY, pad text);
    INSERT INTO account SELECT g, 1000, 'start' FROM generate_series(1, 100) g;
    INSERT INTO bulk SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 200000) g;`);
  const args = ['run', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name];

  // 1. Killed during the snapshot.
  const first = startCli(args);
  await first.waitFor('snapshot: copying table');
  first.child.kill('SIGKILL');
  await first.exited;

  // 2. Killed repeatedly while a workload runs and batches land.
  const stop = { done: false };
  const load = workload(pair, stop);
  for (const delayMs of [1500, 900, 2200, 700]) {
    const run = startCli(args);
    await run.waitFor('"msg":"streaming"');
    await new Promise((r) => setTimeout(r, delayMs));
    run.child.kill('SIGKILL');
    await run.exited;
  }
  stop.done = true;
  const transactions = await load;
  expect(transactions).toBeGreaterThan(50);

  // 3. A clean run catches up and the copy is exact.
  const last = await runCli([...args, '--until-caught-up']);
  expect(last.code, last.stderr).toBe(0);
  expect(differing(await compare(pair))).toEqual([]);
  const { rows } = await pair.target.query('SELECT count(*)::int AS n FROM history');
  expect(rows[0].n).toBe(transactions * 2);
});
