/**
 * DESIGN.md §3.9: a keyless table replicates under REPLICA IDENTITY FULL, set on every partition
 * (a published partition without a replica identity makes UPDATE and DELETE fail on the source),
 * including partitions attached while the pipeline was stopped; a table or partition with
 * REPLICA IDENTITY NOTHING is refused before it is published.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli } from './support/cli.js';
import { compare, createPair, differing, replicate, type Pair } from './support/pipeline.js';

let cluster: ThrowawayCluster;
let pair: Pair;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'partition-identity' });
});
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  await pair?.close();
});

/** relreplident of the table and everything in its partition tree, by name. */
async function identities(p: Pair, root: string): Promise<Record<string, string>> {
  const { rows } = await p.source.query<{ relname: string; ident: string }>(
    `SELECT c.relname, c.relreplident::text AS ident FROM pg_partition_tree($1::regclass) t JOIN pg_class c ON c.oid = t.relid ORDER BY 1`,
    [root],
  );
  return Object.fromEntries(rows.map((r) => [r.relname, r.ident]));
}

it('sets REPLICA IDENTITY FULL on every partition of a keyless table, and on partitions attached while stopped', async () => {
  pair = await createPair(cluster);
  await pair.source.query(`
    CREATE TABLE events (at date NOT NULL, kind text, v int) PARTITION BY RANGE (at);
    CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (kind);
    CREATE TABLE events_2025_a PARTITION OF events_2025 FOR VALUES IN ('a');
    CREATE TABLE events_2025_other PARTITION OF events_2025 DEFAULT;
    CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO events SELECT DATE '2025-01-01' + (g % 700), CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END, g FROM generate_series(1, 600) g;`);
  await replicate(pair);
  // Updates and deletes on every partition work on the source and reach the target.
  await pair.source.query(`UPDATE events SET v = -v WHERE v % 4 = 0; DELETE FROM events WHERE v % 7 = 0;
    UPDATE events SET kind = 'a' WHERE v % 11 = 0;`);
  expect(await identities(pair, 'events')).toEqual({ events: 'f', events_2025: 'f', events_2025_a: 'f', events_2025_other: 'f', events_2026: 'f' });
  await replicate(pair);
  expect(differing(await compare(pair))).toEqual([]);

  // A partition attached while the pipeline is stopped gets it at the next start.
  await pair.source.query(`CREATE TABLE events_2027 (LIKE events);
    ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
    INSERT INTO events VALUES ('2027-03-01', 'x', 1), ('2027-04-01', 'y', 2);`);
  await replicate(pair);
  await pair.source.query(`UPDATE events SET v = 10 WHERE at >= '2027-01-01'; DELETE FROM events WHERE kind = 'y'`);
  expect((await identities(pair, 'events')).events_2027).toBe('f');
  await replicate(pair);
  expect(differing(await compare(pair))).toEqual([]);
});

it('refuses tables and partitions with REPLICA IDENTITY NOTHING (REPLICA_IDENTITY_NOTHING) and leaves them unpublished', async () => {
  pair = await createPair(cluster);
  await pair.source.query(`
    CREATE TABLE plain (a int, b text);
    ALTER TABLE plain REPLICA IDENTITY NOTHING;
    CREATE TABLE keyed (id int, at date, v int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE keyed_2025 PARTITION OF keyed FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE keyed_2026 PARTITION OF keyed FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    ALTER TABLE keyed_2026 REPLICA IDENTITY NOTHING;
    INSERT INTO plain VALUES (1, 'x');
    INSERT INTO keyed VALUES (1, '2025-05-01', 1), (2, '2026-05-01', 2);`);
  const args = ['run', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name, '--until-caught-up'];

  const failed = await runCli(args);
  expect(failed.code, failed.stderr).toBe(2);
  expect(failed.stderr).toMatch(/error \[REPLICA_IDENTITY_NOTHING\]: .*public\.plain/);
  expect(failed.stderr).toMatch(/public\.keyed_2026 \(partition of public\.keyed\)/);
  expect(failed.stderr).toMatch(/what to do: .*REPLICA IDENTITY/);
  // The source keeps working: nothing was published, no identity was changed.
  await pair.source.query(`UPDATE plain SET b = 'y'; UPDATE keyed SET v = v + 1`);
  expect((await identities(pair, 'keyed')).keyed_2026).toBe('n');
  const published = await pair.source.query('SELECT count(*)::int AS n FROM pg_publication_tables WHERE pubname = $1', [pair.name]);
  expect(published.rows[0]?.n ?? 0).toBe(0);

  // Selecting only the good tables, or fixing the identity, lets the pipeline run.
  await pair.source.query('ALTER TABLE keyed_2026 REPLICA IDENTITY DEFAULT');
  const ok = await runCli([...args, '--tables', 'public.keyed']);
  expect(ok.code, ok.stderr).toBe(0);
  await pair.source.query(`UPDATE keyed SET v = 0; DELETE FROM keyed WHERE id = 1`);
  expect((await runCli([...args, '--tables', 'public.keyed'])).code).toBe(0);
  expect(differing(await compare(pair, { tables: 'public.keyed' }))).toEqual([]);
});
