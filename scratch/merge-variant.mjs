import pg from 'pg';
import { startThrowawayCluster } from '../dist/testing/throwaway-cluster.js';
import { infrastructureSql } from '../dist/sinks/postgres/infrastructure.js';
import { tableMigrations } from '../dist/sinks/postgres/sink.js';
const N = 1000000;
const cluster = await startThrowawayCluster({ durable: true, label: 'variants' });
const c = new pg.Client(await cluster.createDatabase('b'));
await c.connect();
await c.query(infrastructureSql());
const t = { id: { schema: 'public', name: 'acc' }, columns: [
  { name: 'id', type: 'integer', nullable: false, toastable: false },
  { name: 'balance', type: 'bigint', nullable: false, toastable: false },
  { name: 'note', type: 'text', nullable: true, toastable: true }], primaryKey: ['id'] };
for (const m of tableMigrations(t, {})) await c.query(m.sql);
await c.query(`CREATE TABLE changes AS SELECT seq, id::int, CASE WHEN id > ${N} THEN 'I' WHEN seq % 20 = 19 THEN 'D' ELSE 'U' END::"char" AS op FROM (
 SELECT g AS seq, (CASE WHEN g % 10 < 3 THEN g - 5 ELSE g END)::bigint * 7919 % 1200007 AS id FROM generate_series(10, ${N}+9) g) b`);
const ranked = `SELECT s.*, row_number() OVER latest AS _cdc_rank, first_value(s._cdc_unchanged) OVER latest AS _cdc_winner_unchanged
    FROM cdc_staging."public.acc" AS s WINDOW latest AS (PARTITION BY s.id ORDER BY s._cdc_lsn DESC, s._cdc_ordinal DESC)`;
const fill = `SELECT DISTINCT ON (s.id) s.id, s.note AS _cdc_value, s._cdc_lsn, s._cdc_ordinal FROM ranked AS s
    WHERE s._cdc_rank > 1 AND coalesce('note' = ANY (s._cdc_winner_unchanged), false) AND s._cdc_op <> 'D' AND NOT coalesce('note' = ANY (s._cdc_unchanged), false) ORDER BY s.id, s._cdc_rank`;
const noteExpr = `CASE WHEN NOT coalesce('note' = ANY (w._cdc_unchanged), false) THEN w.note
   WHEN f1._cdc_lsn IS NOT NULL AND (cur.id IS NULL OR (f1._cdc_lsn, f1._cdc_ordinal) > (cur._cdc_lsn, cur._cdc_ordinal)) THEN f1._cdc_value ELSE cur.note END AS note,
   cur.id IS NULL AND ((coalesce('note' = ANY (w._cdc_unchanged), false) AND f1._cdc_lsn IS NULL)) AS _cdc_missing`;
const resolvedJoin = `SELECT w._cdc_op, w._cdc_lsn, w._cdc_ordinal, w._cdc_commit_time, w.id, w.balance, ${noteExpr}
    FROM ranked AS w LEFT JOIN public.acc AS cur ON w._cdc_unchanged IS NOT NULL AND cur.id = w.id LEFT JOIN fill_1 AS f1 ON f1.id = w.id WHERE w._cdc_rank = 1`;
const deleted = `DELETE FROM public.acc AS t USING resolved AS w WHERE w._cdc_op = 'D' AND t.id = w.id AND (t._cdc_lsn, t._cdc_ordinal) < (w._cdc_lsn, w._cdc_ordinal) RETURNING 1`;
const upsert = `INSERT INTO public.acc AS t (id, balance, note, _cdc_lsn, _cdc_ordinal, _cdc_commit_time, _cdc_synced_at)
    SELECT w.id, w.balance, w.note, w._cdc_lsn, w._cdc_ordinal, w._cdc_commit_time, now() FROM resolved AS w WHERE w._cdc_op <> 'D' AND NOT w._cdc_missing
    ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance, note = EXCLUDED.note, _cdc_lsn = EXCLUDED._cdc_lsn, _cdc_ordinal = EXCLUDED._cdc_ordinal, _cdc_commit_time = EXCLUDED._cdc_commit_time, _cdc_synced_at = EXCLUDED._cdc_synced_at
    WHERE (t._cdc_lsn, t._cdc_ordinal) < (EXCLUDED._cdc_lsn, EXCLUDED._cdc_ordinal) RETURNING 1`;
const merge = `WITH ranked AS (${ranked}), fill_1 AS (${fill}), resolved AS (${resolvedJoin})
  MERGE INTO public.acc AS t USING resolved AS w ON t.id = w.id
  WHEN MATCHED AND w._cdc_op = 'D' AND (t._cdc_lsn, t._cdc_ordinal) < (w._cdc_lsn, w._cdc_ordinal) THEN DELETE
  WHEN MATCHED AND w._cdc_op <> 'D' AND NOT w._cdc_missing AND (t._cdc_lsn, t._cdc_ordinal) < (w._cdc_lsn, w._cdc_ordinal) THEN
    UPDATE SET balance = w.balance, note = w.note, _cdc_lsn = w._cdc_lsn, _cdc_ordinal = w._cdc_ordinal, _cdc_commit_time = w._cdc_commit_time, _cdc_synced_at = now()
  WHEN NOT MATCHED AND w._cdc_op <> 'D' AND NOT w._cdc_missing THEN
    INSERT (id, balance, note, _cdc_lsn, _cdc_ordinal, _cdc_commit_time, _cdc_synced_at) VALUES (w.id, w.balance, w.note, w._cdc_lsn, w._cdc_ordinal, w._cdc_commit_time, now())`;
const variants = {
  v0: `WITH ranked AS (${ranked}), fill_1 AS (${fill}), resolved AS (${resolvedJoin}), deleted AS (${deleted}), written AS (${upsert}) SELECT (SELECT count(*) FROM ranked), (SELECT count(*) FROM deleted), (SELECT count(*) FROM written)`,
  merge,
};
const order = (process.env.ORDER ?? 'v0,merge,v0,merge').split(',');
for (const name of order) {
  const sql = variants[name];
  await c.query('TRUNCATE acc, cdc_staging."public.acc"');
  await c.query(`INSERT INTO acc (id, balance, note) SELECT g, g % 1000, 'row ' || g FROM generate_series(1, ${N}) g`);
  await c.query('VACUUM ANALYZE acc');
  await c.query(`INSERT INTO cdc_staging."public.acc" (id, balance, note, _cdc_op, _cdc_lsn, _cdc_ordinal) SELECT id, CASE WHEN op='D' THEN NULL ELSE (seq*13)%100000 END, CASE WHEN op='D' THEN NULL ELSE 'change '||seq END, op, seq, 0 FROM changes ORDER BY seq`);
  await c.query('ANALYZE cdc_staging."public.acc"');
  await c.query('CHECKPOINT');
  if (process.env.WM) await c.query(`SET work_mem = '${process.env.WM}'`);
  const s = performance.now();
  const r = await c.query(process.env.EXPLAIN ? `EXPLAIN (ANALYZE, COSTS OFF) ${sql}` : sql); if (process.env.EXPLAIN) console.log(r.rows.map(x => x["QUERY PLAN"]).join("\n"));
  const ms = Math.round(performance.now() - s);
  const sum = (await c.query('SELECT count(*)::int n, sum(balance)::text s, md5(string_agg(note, \',\' ORDER BY id)) m FROM acc')).rows[0];
  console.log(name, ms, 'ms', r.rowCount, JSON.stringify(sum));
}
await c.end();
await cluster.stop();
