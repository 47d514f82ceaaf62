/**
 * DESIGN.md §3, rule by rule, end to end on a real cluster: source → cdc-merge → target.
 * Each case is built so that it fails when its rule breaks.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../src/events/lsn.js';
import { decodePosition } from '../src/events/position.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { compare, createPair, differing, replicate, type Pair } from './support/pipeline.js';

let cluster: ThrowawayCluster;
let pair: Pair;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'contract' });
});
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  await pair?.close();
});

async function expectEqual(p: Pair, options: { ignoreWhereTrue?: string } = {}) {
  expect(differing(await compare(p, options))).toEqual([]);
}

/** An incompressible text of about `kb` KiB: stored out of line (TOAST), so unchanged in updates. */
const bigText = (kb: number) => `(SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, ${kb * 32}) g)`;

describe('§3.1 ordering and §3.4 dedup', () => {
  it('applies many changes to one key, in one batch and across transactions, in source order', async () => {
    pair = await createPair(cluster);
    await pair.source.query('CREATE TABLE counter (id int PRIMARY KEY, n int, note text)');
    await replicate(pair);
    // 200 separate transactions on the same key, then a transaction updating it 50 times.
    for (let i = 1; i <= 200; i++) {
      await pair.source.query(
        i === 1 ? 'INSERT INTO counter VALUES (1, 1, $1)' : 'UPDATE counter SET n = n + 1, note = $1 WHERE id = 1',
        [`step ${i}`],
      );
    }
    await pair.source.query(`BEGIN; ${'UPDATE counter SET n = n + 1 WHERE id = 1;'.repeat(50)} COMMIT;`);
    await replicate(pair);
    const { rows } = await pair.target.query('SELECT n, note FROM counter WHERE id = 1');
    expect(rows).toEqual([{ n: 250, note: 'step 200' }]);
  });
});

describe('§3.2 idempotent, exactly-once effect', () => {
  it('records the merged position with the data and each row keeps the position of its last change', async () => {
    pair = await createPair(cluster);
    await pair.source.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
    await replicate(pair);
    await pair.source.query("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    await pair.source.query("UPDATE t SET v = 'c' WHERE id = 2");
    const result = await replicate(pair);
    const offsets = await pair.target.query("SELECT position::text FROM cdc_management.offsets WHERE pipeline = $1", [pair.name]);
    expect(BigInt(offsets.rows[0].position)).toBe(result.positions.get('')?.position);
    // Each row holds the row position of its last change: [commit LSN, staged ordinal]. Row 2's
    // update committed after both inserts; row 1 was inserted first in that transaction.
    const rows = await pair.target.query<{ id: number; position: Buffer }>('SELECT id, _cdc_position AS position FROM t ORDER BY id');
    const [first, second] = rows.rows.map((r) => decodePosition(new Uint8Array(r.position)));
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(2);
    expect(second![0]).toBeGreaterThan(first![0]!);
    expect(second![0]).toBeLessThanOrEqual(result.positions.get('')!.position);
    expect(first![1]).toBe(1n); // the first insert of its transaction: ordinal 0, staged at 2·0+1
    // The slot was acknowledged no further than what is merged.
    const slot = await pair.source.query("SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1", [pair.name]);
    const confirmed = parseLsn(slot.rows[0].lsn as string);
    expect(confirmed).toBeGreaterThan(0n);
    expect(confirmed).toBeLessThanOrEqual(result.positions.get('')!.position);
  });
});

describe('§3.3 transaction boundaries', () => {
  it('never shows part of a source transaction: transfers keep the total constant on the target', async () => {
    pair = await createPair(cluster);
    await pair.source.query(`
      CREATE TABLE account (id int PRIMARY KEY, balance bigint NOT NULL);
      CREATE TABLE transfer (id bigserial PRIMARY KEY, src int, dst int, amount bigint);
      INSERT INTO account SELECT g, 1000 FROM generate_series(1, 50) g;`);
    await replicate(pair);
    const controller = new AbortController();
    const running = replicate(pair, { untilCaughtUp: false, signal: controller.signal, batchPolicy: { maxChanges: 7, maxAgeMs: 5, idleMs: 1 } });
    const violations: string[] = [];
    let checks = 0;
    const checker = (async () => {
      while (!controller.signal.aborted) {
        const { rows } = await pair.target.query(
          'SELECT (SELECT sum(balance) FROM account)::bigint AS total, (SELECT count(*) FROM transfer)::int AS transfers',
        );
        checks++;
        if (Number(rows[0].total) !== 50_000) violations.push(`total ${rows[0].total} after ${rows[0].transfers} transfers`);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    for (let i = 0; i < 300; i++) {
      const a = 1 + (i % 50);
      const b = 1 + ((i * 7 + 3) % 50);
      await pair.source.query(`BEGIN;
        UPDATE account SET balance = balance - ${i % 13} WHERE id = ${a};
        INSERT INTO transfer (src, dst, amount) VALUES (${a}, ${b}, ${i % 13});
        UPDATE account SET balance = balance + ${i % 13} WHERE id = ${b};
        COMMIT;`);
    }
    await new Promise((r) => setTimeout(r, 1500));
    controller.abort();
    await running;
    await checker;
    await replicate(pair);
    expect(checks).toBeGreaterThan(10);
    expect(violations).toEqual([]);
    await expectEqual(pair);
  });
});

describe('§3.4 deletes', () => {
  it('deletes rows, or with soft delete flags them', async () => {
    pair = await createPair(cluster);
    await pair.source.query('CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, g::text FROM generate_series(1, 20) g');
    await replicate(pair, { tableOptions: { softDelete: true } });
    await pair.source.query('DELETE FROM t WHERE id <= 5; INSERT INTO t VALUES (3, $$back$$)');
    await replicate(pair, { tableOptions: { softDelete: true } });
    const { rows } = await pair.target.query('SELECT count(*)::int AS n FROM t WHERE _cdc_deleted');
    expect(rows[0].n).toBe(4);
    await expectEqual(pair, { ignoreWhereTrue: '_cdc_deleted' });
  });

  it('handles insert, delete and re-insert of a key within one batch', async () => {
    pair = await createPair(cluster);
    await pair.source.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
    await replicate(pair);
    await pair.source.query("BEGIN; INSERT INTO t VALUES (1, 'a'); DELETE FROM t WHERE id = 1; INSERT INTO t VALUES (1, 'b'); COMMIT;");
    await pair.source.query("INSERT INTO t VALUES (2, 'x'); DELETE FROM t WHERE id = 2;");
    await replicate(pair);
    await expectEqual(pair);
  });
});

describe('§3.5 unchanged TOAST values', () => {
  it('keeps the target value for an unchanged out-of-line value, without REPLICA IDENTITY FULL', async () => {
    pair = await createPair(cluster);
    await pair.source.query(`CREATE TABLE doc (id int PRIMARY KEY, title text, body text, data jsonb)`);
    await pair.source.query(`INSERT INTO doc SELECT g, 't' || g, ${bigText(8)}, jsonb_build_object('k', ${bigText(4)}) FROM generate_series(1, 5) g`);
    await replicate(pair);
    await pair.source.query(`UPDATE doc SET title = title || ' v2'`);
    // Same batch: a new row with a big value, then an update that leaves the value unchanged.
    await pair.source.query(`INSERT INTO doc VALUES (100, 'new', ${bigText(8)}, '{}'); UPDATE doc SET title = 'new v2' WHERE id = 100;`);
    await replicate(pair);
    const nulls = await pair.target.query('SELECT count(*)::int AS n FROM doc WHERE body IS NULL OR data IS NULL');
    expect(nulls.rows[0].n).toBe(0);
    await expectEqual(pair);
  });
});

describe('§3.6 primary-key change', () => {
  it('moves the row: delete of the old key plus upsert of the new', async () => {
    pair = await createPair(cluster);
    await pair.source.query("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    await replicate(pair);
    await pair.source.query('UPDATE t SET id = 10 WHERE id = 1; UPDATE t SET id = 1 WHERE id = 2; UPDATE t SET id = 20 WHERE id = 10');
    await replicate(pair);
    const { rows } = await pair.target.query('SELECT id, v FROM t ORDER BY id');
    expect(rows).toEqual([
      { id: 1, v: 'b' },
      { id: 20, v: 'a' },
    ]);
  });
});

describe('§3.7 TRUNCATE', () => {
  it('merges what precedes it, truncates, then continues', async () => {
    pair = await createPair(cluster);
    await pair.source.query('CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE u (id int PRIMARY KEY)');
    await pair.source.query("INSERT INTO t SELECT g, 'old' FROM generate_series(1, 100) g; INSERT INTO u VALUES (1)");
    await replicate(pair);
    await pair.source.query("BEGIN; INSERT INTO t VALUES (101, 'before'); TRUNCATE t; INSERT INTO t VALUES (1, 'after'); COMMIT;");
    await pair.source.query("INSERT INTO t VALUES (2, 'later')");
    await replicate(pair);
    const { rows } = await pair.target.query('SELECT id, v FROM t ORDER BY id');
    expect(rows).toEqual([
      { id: 1, v: 'after' },
      { id: 2, v: 'later' },
    ]);
    await expectEqual(pair);
  });
});

describe('§3.8 schema evolution', () => {
  it('applies ADD COLUMN before the rows that carry it, mid-stream and within one batch', async () => {
    pair = await createPair(cluster);
    await pair.source.query("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')");
    await replicate(pair);
    await pair.source.query(`
      INSERT INTO t VALUES (2, 'b');
      ALTER TABLE t ADD COLUMN extra numeric(8,2) DEFAULT 1.5;
      INSERT INTO t VALUES (3, 'c', 9.25);
      UPDATE t SET extra = 2 WHERE id = 1;
      ALTER TABLE t ADD COLUMN tags text[];
      UPDATE t SET tags = '{x,y}' WHERE id = 3;`);
    await replicate(pair);
    const cols = await pair.target.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't' AND column_name IN ('extra', 'tags') ORDER BY 1",
    );
    expect(cols.rows).toEqual([
      { column_name: 'extra', data_type: 'numeric' },
      { column_name: 'tags', data_type: 'ARRAY' },
    ]);
    await expectEqual(pair);
  });

  it('stops with a clear error under policy stop, and records it in cdc_management.error_log', async () => {
    pair = await createPair(cluster);
    await pair.source.query("CREATE TABLE t (id int PRIMARY KEY, gone text, v text); INSERT INTO t VALUES (1, 'x', 'a')");
    const policy = { drop: 'stop', typeChange: 'apply' } as const;
    await replicate(pair, { schemaPolicy: policy });
    await pair.source.query("ALTER TABLE t DROP COLUMN gone; INSERT INTO t VALUES (2, 'b')");
    await expect(replicate(pair, { schemaPolicy: policy })).rejects.toMatchObject({ code: 'SCHEMA_CHANGE_STOPPED' });
    const { rows } = await pair.target.query('SELECT error_code, table_name, message FROM cdc_management.error_log');
    expect(rows).toEqual([expect.objectContaining({ error_code: 'SCHEMA_CHANGE_STOPPED', table_name: 'public.t' })]);
    expect(rows[0].message).toMatch(/gone/);
    // Nothing of the stopped transaction reached the target.
    const data = await pair.target.query('SELECT count(*)::int AS n FROM t');
    expect(data.rows[0].n).toBe(1);
  });
});

describe('§3.9 tables without a primary key, partitioned tables', () => {
  it('replicates a keyless table with duplicate rows under REPLICA IDENTITY FULL', async () => {
    pair = await createPair(cluster);
    await pair.source.query("CREATE TABLE log (a int, b text); INSERT INTO log VALUES (1, 'x'), (1, 'x'), (2, NULL), (2, NULL), (3, 'z')");
    await replicate(pair);
    const ri = await pair.source.query("SELECT relreplident FROM pg_class WHERE relname = 'log'");
    expect(ri.rows[0].relreplident).toBe('f');
    await pair.source.query(`
      DELETE FROM log WHERE ctid = (SELECT min(ctid) FROM log WHERE a = 1);
      UPDATE log SET b = 'changed' WHERE ctid = (SELECT min(ctid) FROM log WHERE a = 2);
      INSERT INTO log VALUES (3, 'z');`);
    await replicate(pair);
    await expectEqual(pair);
  });

  it('replicates a partitioned table as its root', async () => {
    pair = await createPair(cluster);
    await pair.source.query(`
      CREATE TABLE measurement (id int, at date, v int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
      CREATE TABLE measurement_2025 PARTITION OF measurement FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
      CREATE TABLE measurement_2026 PARTITION OF measurement FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      INSERT INTO measurement SELECT g, DATE '2025-06-01' + g, g FROM generate_series(1, 400) g;`);
    await replicate(pair);
    await pair.source.query(`UPDATE measurement SET v = -v WHERE id % 3 = 0; DELETE FROM measurement WHERE id % 5 = 0;
      INSERT INTO measurement VALUES (1000, '2026-12-01', 1);`);
    await replicate(pair);
    const parts = await pair.target.query("SELECT schemaname, tablename FROM pg_tables WHERE tablename LIKE 'measurement%' ORDER BY 1, 2");
    expect(parts.rows).toEqual([{ schemaname: 'public', tablename: 'measurement' }]);
    await expectEqual(pair);
  });
});

describe('§3.10 bounded memory', () => {
  it('streams a 300 000-row transaction without holding it in memory', async () => {
    pair = await createPair(cluster);
    await pair.source.query('CREATE TABLE big (id int PRIMARY KEY, pad text)');
    await replicate(pair);
    await pair.source.query(`INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 300000) g`);
    // Live heap, sampled after a forced collection: what the pipeline holds, not garbage.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 100);
    await replicate(pair);
    clearInterval(sampler);
    // The transaction is ~45 MB of text on the wire, far more as JS strings and objects; the
    // pipeline holds at most a few staging buffers (8 MiB of text each) and queued frames.
    expect((peak - base) / 2 ** 20).toBeLessThan(64);
    const { rows } = await pair.target.query('SELECT count(*)::int AS n FROM big');
    expect(rows[0].n).toBe(300000);
  });

  it('keeps one budget for all tables: a transaction over 500 tables is not held until its commit (issue 11 item 17)', async () => {
    pair = await createPair(cluster);
    await pair.source.query(`DO $$ BEGIN FOR i IN 1..500 LOOP EXECUTE format('CREATE TABLE many_%s (id int PRIMARY KEY, pad text)', i); END LOOP; END $$`);
    await replicate(pair);
    // About 60 MB of text in one transaction, 120 KB per table: no table's own buffer fills.
    await pair.source.query(`DO $$ BEGIN FOR i IN 1..500 LOOP
      EXECUTE format('INSERT INTO many_%s SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 450) g', i); END LOOP; END $$`);
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 100);
    await replicate(pair);
    clearInterval(sampler);
    expect((peak - base) / 2 ** 20).toBeLessThan(64);
    const { rows } = await pair.target.query("SELECT count(*)::int AS n FROM many_1");
    expect(rows[0].n).toBe(450);
    const { rows: last } = await pair.target.query("SELECT count(*)::int AS n FROM many_500");
    expect(last[0].n).toBe(450);
  }, 300_000); // a gc() every 100 ms on 500 tables: slow on a loaded machine, never timed
});

describe('§3.11 slot hygiene', () => {
  it('advances confirmed_flush_lsn while the captured tables are idle', async () => {
    pair = await createPair(cluster);
    await pair.source.query('CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE other (id int)');
    await pair.source.query('ALTER TABLE other REPLICA IDENTITY FULL');
    await replicate(pair, { tables: 'public.t' });
    const before = await pair.source.query("SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1", [pair.name]);
    // WAL moves on, but nothing the publication carries.
    await pair.source.query('INSERT INTO other SELECT generate_series(1, 1000)');
    const controller = new AbortController();
    const running = replicate(pair, { tables: 'public.t', untilCaughtUp: false, signal: controller.signal, heartbeatIntervalMs: 100 });
    await new Promise((r) => setTimeout(r, 2500));
    controller.abort();
    await running;
    const after = await pair.source.query(
      "SELECT confirmed_flush_lsn > $2::pg_lsn AS advanced FROM pg_replication_slots WHERE slot_name = $1",
      [pair.name, before.rows[0].lsn],
    );
    expect(after.rows[0].advanced).toBe(true);
  });
});
