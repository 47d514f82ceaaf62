/**
 * Upgrade in place, PostgreSQL source: targets created and fed by the PREVIOUS RELEASE's `cdc run`
 * (built from this repository's history, test/support/previous-release.ts) are taken over by the
 * current `cdc run` with the same arguments, with nothing lost and nothing duplicated.
 *
 * Two pipelines read one source: one deletes rows, one soft-deletes them (`--soft-delete`), each
 * into its own target. The previous release copies the tables and streams a first round of
 * changes; a second round is committed while no pipeline runs, and is left in the slot for the
 * current release; a third round checks the current release keeps working after the upgrade.
 *
 * It asserts table contents equal to the source, the slot and the bookkeeping moving on, no
 * table copied again, and the row positions converted: the previous release's `_cdc_lsn` and
 * `_cdc_ordinal` become `_cdc_position`, each row keeping the order of its last change.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePositions, decodePosition, encodePosition } from '../src/events/position.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { CLI, runCli } from './support/cli.js';
import { compare, createPair, differing, type Pair } from './support/pipeline.js';
import { previousReleaseCli } from './support/previous-release.js';

const TABLES = ['public.customer', 'public.document', 'public.event_log', 'public.measurement'];

/** One pipeline of the test: its name (= slot), target, and the `cdc run` arguments both releases get. */
interface Pipeline {
  readonly name: string;
  readonly softDelete: boolean;
  readonly targetUrl: string;
  readonly target: pg.Client;
  readonly args: readonly string[];
}

/** The bookkeeping both releases keep, read after a run, to compare with the next. */
interface Bookkeeping {
  readonly confirmedFlushLsn: string;
  readonly offsets: number;
  readonly offsetsUpdatedAt: string;
  readonly processingLog: number;
  readonly snapshot: readonly { table: string; state: string; rows_copied: string; finished_at: string }[];
}

let cluster: ThrowawayCluster;
let pair: Pair;
let oldCli: string;
let pipelines: Pipeline[] = [];

/** A text of about `kb` KiB that does not compress much: stored out of line (TOAST). */
const bigText = (kb: number, seed: string) => `(SELECT string_agg(md5(${seed} || '-' || i), '') FROM generate_series(1, ${kb * 32}) i)`;

/** `cdc run … --until-caught-up` of `cli` for `p`; fails the test on a non-zero exit; resolves to stderr (JSON logs). */
async function runUntilCaughtUp(cli: string, p: Pipeline): Promise<string> {
  const r = await runCli([...p.args, '--until-caught-up'], {}, cli);
  expect(r.code, `${cli === CLI ? 'current' : 'previous'} release, pipeline ${p.name}:\n${r.stderr}`).toBe(0);
  return r.stderr;
}

async function bookkeeping(p: Pipeline): Promise<Bookkeeping> {
  const slot = await pair.source.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [p.name]);
  const offsets = await p.target.query<{ n: number; at: string }>(
    'SELECT count(*)::int AS n, max(updated_at)::text AS at FROM cdc_management.offsets WHERE pipeline = $1',
    [p.name],
  );
  const log = await p.target.query<{ n: number }>('SELECT count(*)::int AS n FROM cdc_management.processing_log WHERE pipeline = $1', [p.name]);
  const snapshot = await p.target.query<Bookkeeping['snapshot'][number]>(
    `SELECT schema_name || '.' || table_name AS table, state, rows_copied::text, finished_at::text
       FROM cdc_management.snapshot_progress WHERE pipeline = $1 ORDER BY 1`,
    [p.name],
  );
  return {
    confirmedFlushLsn: slot.rows[0]?.lsn ?? '',
    offsets: offsets.rows[0]!.n,
    offsetsUpdatedAt: offsets.rows[0]!.at,
    processingLog: log.rows[0]!.n,
    snapshot: snapshot.rows,
  };
}

/** Every source table equals its target table (soft-deleted rows left out); nothing staged is left behind. */
async function expectTargetsEqualSource(): Promise<void> {
  for (const p of pipelines) {
    const results = await compare({ ...pair, targetUrl: p.targetUrl }, p.softDelete ? { ignoreWhereTrue: '_cdc_deleted' } : {});
    expect(results.map((r) => r.table).sort(), p.name).toEqual(TABLES);
    expect(differing(results), p.name).toEqual([]);
    const staged = await p.target.query<{ table: string }>(
      "SELECT format('%I.%I', schemaname, tablename) AS table FROM pg_tables WHERE schemaname = 'cdc_staging' ORDER BY 1",
    );
    for (const { table } of staged.rows) {
      const { rows } = await p.target.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      expect(rows[0]!.n, `${p.name}: rows left in ${table}`).toBe(0);
    }
  }
}

/** Ids of the soft-deleted customers on a soft-delete target. */
async function softDeletedCustomers(p: Pipeline): Promise<number[]> {
  const { rows } = await p.target.query<{ id: number }>('SELECT id FROM public.customer WHERE _cdc_deleted ORDER BY id');
  return rows.map((r) => r.id);
}

/** The columns of `cdc_management.processing_log` on `p`'s target. */
async function processingLogColumns(p: Pipeline): Promise<string[]> {
  const { rows } = await p.target.query<{ name: string }>(
    "SELECT column_name::text AS name FROM information_schema.columns WHERE table_schema = 'cdc_management' AND table_name = 'processing_log' ORDER BY 1",
  );
  return rows.map((r) => r.name);
}

/** The `_cdc_` columns of each target table, by table. */
async function metadataColumns(p: Pipeline): Promise<Record<string, string[]>> {
  const { rows } = await p.target.query<{ table: string; columns: string[] }>(
    `SELECT table_schema || '.' || table_name AS table, array_agg(column_name::text ORDER BY column_name) AS columns
       FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name LIKE '\\_cdc\\_%'
      GROUP BY 1 ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.table, r.columns]));
}

beforeAll(async () => {
  // Built first: on a cold cache this is the slow part, and it fails the file with a clear
  // message (fetch full history) before any server starts.
  oldCli = await previousReleaseCli();
  cluster = await startThrowawayCluster({ label: 'upgrade' });
  pair = await createPair(cluster);
  const softUrl = await cluster.createDatabase(`tgt_${pair.name}_soft`);
  const softTarget = new pg.Client(softUrl);
  await softTarget.connect();
  const args = (name: string, targetUrl: string, soft: boolean) => ['run', '--source', pair.sourceUrl, '--target', targetUrl, '--name', name, ...(soft ? ['--soft-delete'] : [])];
  pipelines = [
    { name: pair.name, softDelete: false, targetUrl: pair.targetUrl, target: pair.target, args: args(pair.name, pair.targetUrl, false) },
    { name: `${pair.name}_soft`, softDelete: true, targetUrl: softUrl, target: softTarget, args: args(`${pair.name}_soft`, softUrl, true) },
  ];
  await pair.source.query(`
    CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, balance numeric(12,2), updated timestamptz);
    INSERT INTO customer SELECT g, 'c' || g, g * 1.5, TIMESTAMPTZ '2025-01-01' + g * interval '1 hour' FROM generate_series(1, 200) g;
    CREATE TABLE event_log (kind text, n int);
    INSERT INTO event_log SELECT 'k' || (g % 5), g % 3 FROM generate_series(1, 60) g;
    CREATE TABLE document (id int PRIMARY KEY, title text, body text);
    ALTER TABLE document ALTER COLUMN body SET STORAGE EXTERNAL;
    INSERT INTO document SELECT g, 'doc ' || g, ${bigText(16, 'g::text')} FROM generate_series(1, 10) g;
    CREATE TABLE measurement (id int, at date, v int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE measurement_2025 PARTITION OF measurement FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE measurement_2026 PARTITION OF measurement FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO measurement SELECT g, DATE '2025-03-01' + g, g FROM generate_series(1, 300) g;`);
}, 300_000);

afterAll(async () => {
  for (const p of pipelines) {
    if (p.target !== pair.target) await p.target.end().catch(() => undefined);
    await pair.source.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [p.name]).catch(() => undefined);
  }
  await pair?.close();
  await cluster?.stop();
});

describe('upgrade in place from the previous release (PostgreSQL source)', () => {
  it('the current cdc run takes over targets the previous release created, losing and duplicating nothing', async () => {
    // 1. The previous release copies the tables, then streams a first round of changes.
    const firstRuns = await Promise.all(pipelines.map((p) => runUntilCaughtUp(oldCli, p)));
    for (const stderr of firstRuns) expect(stderr).toContain('"msg":"snapshot: copying table"');
    await pair.source.query(`
      INSERT INTO customer SELECT g, 'c' || g, 0, now() FROM generate_series(201, 230) g;
      UPDATE customer SET balance = balance + 10, updated = now() WHERE id % 10 = 0;
      DELETE FROM customer WHERE id IN (3, 4);
      UPDATE customer SET id = 1007 WHERE id = 7;
      UPDATE document SET title = title || ' (rev 2)' WHERE id <= 5;
      UPDATE document SET body = body || 'tail' WHERE id = 6;
      INSERT INTO document VALUES (11, 'doc 11', ${bigText(16, "'eleven'")});
      DELETE FROM document WHERE id = 10;
      BEGIN;
        INSERT INTO event_log VALUES ('before truncate', 0);
        TRUNCATE event_log;
        INSERT INTO event_log SELECT 'r2-' || (g % 4), g % 2 FROM generate_series(1, 40) g;
      COMMIT;
      UPDATE measurement SET v = -v WHERE id % 7 = 0;
      DELETE FROM measurement WHERE id % 11 = 0;
      INSERT INTO measurement VALUES (1000, '2026-03-01', 5);
      ALTER TABLE customer ADD COLUMN tier text DEFAULT 'basic';
      UPDATE customer SET tier = 'gold' WHERE id % 25 = 0;
      INSERT INTO customer (id, name, balance) VALUES (300, 'after add column', 1);`);
    await Promise.all(pipelines.map((p) => runUntilCaughtUp(oldCli, p)));
    await expectTargetsEqualSource();
    const before = await Promise.all(pipelines.map(bookkeeping));
    for (const p of pipelines) expect(await processingLogColumns(p), p.name).not.toContain('messages');
    for (const [i, b] of before.entries()) {
      expect(b.snapshot.map((s) => [s.table, s.state]), pipelines[i]!.name).toEqual(TABLES.map((t) => [t, 'done']));
      expect(b.offsets, pipelines[i]!.name).toBeGreaterThan(0);
    }
    // The previous release's positions per customer, to check the conversion below.
    const legacy = await Promise.all(
      pipelines.map(async (p) => {
        const { rows } = await p.target.query<{ id: number; lsn: string; ordinal: number; synced: Date }>(
          'SELECT id, _cdc_lsn::text AS lsn, _cdc_ordinal AS ordinal, _cdc_synced_at AS synced FROM customer',
        );
        return new Map(rows.map((r) => [r.id, r]));
      }),
    );

    // 2. A second round while no pipeline runs: it waits in the slots for the current release.
    await pair.source.query(`
      UPDATE customer SET balance = balance - 1 WHERE id % 9 = 0;
      INSERT INTO customer (id, name, balance) SELECT g, 'c' || g, 2 FROM generate_series(301, 320) g;
      DELETE FROM customer WHERE id = 5;
      UPDATE customer SET id = 1008 WHERE id = 8;
      UPDATE document SET title = title || ' (rev 3)' WHERE id IN (1, 2, 11);
      ALTER TABLE document ADD COLUMN lang text DEFAULT 'en';
      UPDATE document SET lang = 'fr' WHERE id = 3;
      BEGIN;
        TRUNCATE event_log;
        INSERT INTO event_log SELECT 'r3-' || (g % 3), g % 2 FROM generate_series(1, 30) g;
      COMMIT;
      DELETE FROM event_log WHERE ctid = (SELECT min(ctid) FROM event_log WHERE kind = 'r3-1');
      UPDATE measurement SET at = '2026-02-01' WHERE id = 1;`);
    // The last change's commit lies past this WAL position: a slot that confirmed more has it.
    const beforeLast = (await pair.source.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
    await pair.source.query('UPDATE measurement SET v = v + 100 WHERE id % 13 = 0');

    // 3. The current release, same arguments.
    const upgradeRuns = await Promise.all(pipelines.map((p) => runUntilCaughtUp(CLI, p)));
    for (const stderr of upgradeRuns) expect(stderr).not.toContain('"msg":"snapshot: copying table"');
    await expectTargetsEqualSource();
    const after = await Promise.all(pipelines.map(bookkeeping));
    for (const [i, p] of pipelines.entries()) {
      const [b, a] = [before[i]!, after[i]!];
      const moved = await pair.source.query<{ advanced: boolean; past_last: boolean }>(
        'SELECT $1::pg_lsn > $2::pg_lsn AS advanced, $1::pg_lsn > $3::pg_lsn AS past_last',
        [a.confirmedFlushLsn, b.confirmedFlushLsn, beforeLast],
      );
      expect(moved.rows, `${p.name}: slot confirmed ${a.confirmedFlushLsn}, was ${b.confirmedFlushLsn}`).toEqual([{ advanced: true, past_last: true }]);
      expect(a.offsets, p.name).toBeGreaterThan(0);
      const written = await p.target.query<{ later: boolean }>('SELECT $1::timestamptz > $2::timestamptz AS later', [a.offsetsUpdatedAt, b.offsetsUpdatedAt]);
      expect(written.rows, `${p.name}: offsets written by the current release`).toEqual([{ later: true }]);
      expect(a.processingLog, `${p.name}: the current release logged its batches`).toBeGreaterThan(b.processingLog);
      // Not copied again: the same rows, finished at the same time.
      expect(a.snapshot, p.name).toEqual(b.snapshot);
    }
    expect(await softDeletedCustomers(pipelines[1]!)).toEqual([3, 4, 5, 7, 8]);
    // processing_log gained columns since the previous release; the upgraded targets have them.
    for (const p of pipelines) expect(await processingLogColumns(p), p.name).toEqual(expect.arrayContaining(['changes', 'checkpoint', 'messages', 'pipeline']));

    // Metadata columns: present on every table, the soft-delete flag only where asked for.
    for (const p of pipelines) {
      const columns = await metadataColumns(p);
      expect(Object.keys(columns), p.name).toEqual(TABLES);
      for (const [table, names] of Object.entries(columns)) {
        expect(names, `${p.name} ${table}`).toEqual(expect.arrayContaining(['_cdc_commit_time', '_cdc_synced_at']));
        expect(names.includes('_cdc_deleted'), `${p.name} ${table}`).toBe(p.softDelete);
        // The row position: one bytea column, set on every row, the two old columns gone.
        expect(names.filter((n) => ['_cdc_lsn', '_cdc_ordinal', '_cdc_position'].includes(n)), `${p.name} ${table}`).toEqual(['_cdc_position']);
        const typed = await p.target.query<{ type: string; nulls: number }>(
          `SELECT format_type(a.atttypid, a.atttypmod) AS type, (SELECT count(*)::int FROM ${table} WHERE _cdc_position IS NULL) AS nulls
             FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attname = '_cdc_position'`,
          [table],
        );
        expect(typed.rows, `${p.name} ${table}`).toEqual([{ type: 'bytea', nulls: 0 }]);
        const unsynced = await p.target.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE _cdc_synced_at IS NULL`);
        expect(unsynced.rows[0]!.n, `${p.name} ${table}`).toBe(0);
      }
    }
    // Rows last written by the previous release hold their old position converted:
    // [lsn, ordinal], [lsn] for a snapshot row (ordinal -1). Rows the current release wrote
    // since sort after what the previous release had stored for the same key.
    for (const [i, p] of pipelines.entries()) {
      const { rows } = await p.target.query<{ id: number; position: Buffer; synced: Date }>('SELECT id, _cdc_position AS position, _cdc_synced_at AS synced FROM customer');
      let kept = 0;
      let rewritten = 0;
      for (const r of rows) {
        const old = legacy[i]!.get(r.id);
        if (!old) continue;
        const converted = encodePosition(old.ordinal < 0 ? [BigInt(old.lsn)] : [BigInt(old.lsn), BigInt(old.ordinal)]);
        const now = new Uint8Array(r.position);
        if (r.synced.getTime() === old.synced.getTime()) {
          kept++;
          expect(decodePosition(now), `${p.name} customer ${r.id}`).toEqual(decodePosition(converted));
        } else {
          rewritten++;
          expect(comparePositions(now, converted), `${p.name} customer ${r.id}`).toBeGreaterThan(0);
        }
      }
      expect(kept, p.name).toBeGreaterThan(0);
      expect(rewritten, p.name).toBeGreaterThan(0);
    }

    // 4. The current release goes on after the upgrade. Each ADD COLUMN … DEFAULT in this test
    // follows another change to its table in the same stop: one that is the table's first change
    // since the pipeline stopped leaves NULL instead of the default in the target's existing rows
    // (both releases: the stream compares the Relation message with the catalog read at start,
    // which already has the column, so it never reads attmissingval). Not an upgrade matter.
    await pair.source.query(`
      INSERT INTO customer (id, name, balance, tier) VALUES (400, 'post-upgrade', 4, 'silver');
      UPDATE customer SET name = name || '!' WHERE id IN (1, 300, 1007, 1008);
      DELETE FROM customer WHERE id = 6;
      UPDATE document SET title = 'rev 4' WHERE id = 4;
      INSERT INTO measurement VALUES (1002, '2025-11-30', 2);
      ALTER TABLE measurement ADD COLUMN unit text DEFAULT 'C';
      INSERT INTO measurement VALUES (1001, '2025-12-31', 1, 'K');
      INSERT INTO event_log VALUES ('r4', 4), ('r4', 4);`);
    const lastRuns = await Promise.all(pipelines.map((p) => runUntilCaughtUp(CLI, p)));
    for (const stderr of lastRuns) expect(stderr).not.toContain('"msg":"snapshot: copying table"');
    await expectTargetsEqualSource();
    expect(await softDeletedCustomers(pipelines[1]!)).toEqual([3, 4, 5, 6, 7, 8]);
    const final = await Promise.all(pipelines.map(bookkeeping));
    for (const [i, p] of pipelines.entries()) {
      const moved = await pair.source.query<{ advanced: boolean }>('SELECT $1::pg_lsn > $2::pg_lsn AS advanced', [final[i]!.confirmedFlushLsn, after[i]!.confirmedFlushLsn]);
      expect(moved.rows, p.name).toEqual([{ advanced: true }]);
      expect(final[i]!.snapshot, p.name).toEqual(before[i]!.snapshot);
    }
  });
});
