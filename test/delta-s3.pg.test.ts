/**
 * The Delta Lake sink on S3 end to end (issue 12 item 4): a throwaway PostgreSQL source
 * replicated by the built `cdc run --config` into `s3://<bucket>/lake` on a throwaway
 * S3-compatible server (moto, `src/testing/throwaway-s3.ts`), the keys taken from `${VAR}`s;
 * delta-rs reads every table from the server equal to the source, and each change data feed
 * replays into its table. `cdc status`, `cdc compact` and `cdc vacuum --config` reach the same
 * location through the same storage: block. Wrong keys and an unreachable endpoint fail as documented, without the
 * secret in any output.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithDelta, deltaRows, deltaTableLocation, replayChangeFeed } from '../src/testing/delta-compare.js';
import { readDeltaTable } from '../src/testing/python-oracles.js';
import { freePort, startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startThrowawayS3, type ThrowawayS3 } from '../src/testing/throwaway-s3.js';
import { runCli, startCli, type CliRun } from './support/cli.js';
import { sql } from './support/sql.js';

let cluster: ThrowawayCluster;
let s3: ThrowawayS3;
const runs: CliRun[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  [cluster, s3] = await Promise.all([startThrowawayCluster({ label: 'delta-s3' }), startThrowawayS3({ label: 'delta' })]);
});
afterAll(async () => {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await Promise.all([cluster?.stop(), s3?.stop()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SCHEMA = `
  CREATE TABLE items (
    id bigint PRIMARY KEY, n numeric(12,2), f8 double precision, b boolean, t text, bin bytea, d date,
    ts timestamp, tstz timestamptz, u uuid, j jsonb, ints integer[]
  );
  INSERT INTO items SELECT g, g * 1.25, g / 3.0, g % 2 = 0, 'item ' || g, decode(lpad(to_hex(g), 4, '0'), 'hex'), date '2024-01-01' + g,
    timestamp '2024-01-01 00:00:00' + g * interval '1 minute', timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour',
    md5(g::text)::uuid, jsonb_build_object('g', g), ARRAY[g, NULL, g + 1]
  FROM generate_series(1, 300) g;
  CREATE TABLE kv (k text PRIMARY KEY, v text, big text);
  ALTER TABLE kv ALTER COLUMN big SET STORAGE EXTERNAL;
  INSERT INTO kv SELECT 'k' || g, 'v' || g, NULL FROM generate_series(1, 50) g;
  CREATE TABLE bag (a int, b text);
  ALTER TABLE bag REPLICA IDENTITY FULL;
  INSERT INTO bag VALUES (1, 'x'), (1, 'x'), (2, 'y');
`;

let counter = 0;
/** A source database with {@link SCHEMA}, a fresh bucket, and a cdc.yaml writing into it. */
async function setup(storage: { endpoint?: string; secretVar?: string } = {}): Promise<{ sourceUrl: string; name: string; config: string; location: string; bucket: string }> {
  const name = `deltas3${++counter}`;
  const sourceUrl = await cluster.createDatabase(`src_${name}`);
  await sql(sourceUrl, SCHEMA);
  const bucket = `cdc-lake-${counter}`;
  await s3.createBucket(bucket);
  const dir = mkdtempSync(join(tmpdir(), 'cdc-delta-s3-'));
  dirs.push(dir);
  const config = join(dir, 'cdc.yaml');
  const location = `s3://${bucket}/lake`;
  writeFileSync(
    config,
    [
      `name: ${name}`,
      `source: { url: "${sourceUrl}" }`,
      'target:',
      '  type: delta',
      `  location: ${location}`,
      '  storage:',
      `    endpoint: ${storage.endpoint ?? s3.endpoint}`,
      `    region: ${s3.region}`,
      '    access_key_id: ${TEST_S3_KEY_ID}',
      `    secret_access_key: \${${storage.secretVar ?? 'TEST_S3_SECRET'}}`,
      '',
    ].join('\n'),
  );
  return { sourceUrl, name, config, location, bucket };
}

const env = () => ({ TEST_S3_KEY_ID: s3.accessKeyId, TEST_S3_SECRET: s3.secretAccessKey, TEST_S3_WRONG_SECRET: 'wrong-secret-0123456789abcdefghijklmnopqrst' });

/** Asserts delta-rs reads every table from the server equal to the source, and each change feed replays into it. */
async function expectReplicated(d: { sourceUrl: string; location: string }): Promise<void> {
  const results = await compareWithDelta(d.sourceUrl, d.location, 'public', s3.deltaStorageOptions());
  expect(results.map((r) => r.table)).toEqual(['public.bag', 'public.items', 'public.kv']);
  expect(results.filter((c) => !c.equal)).toEqual([]);
  for (const table of ['items', 'kv', 'bag']) {
    const reading = await readDeltaTable(deltaTableLocation(d.location, 'public', table), { cdfFrom: 0, storageOptions: s3.deltaStorageOptions() });
    expect(replayChangeFeed([], reading.cdf!, -1), table).toEqual(deltaRows(reading));
  }
}

describe('Delta Lake sink on S3', () => {
  it('cdc run --config copies and streams into s3://bucket/lake (keys from ${VAR}); delta-rs reads every table equal to the source and the change feeds replay', async () => {
    const d = await setup();
    let r = await runCli(['run', '--config', d.config, '--until-caught-up'], env());
    expect(r.code, r.stderr).toBe(0);
    await expectReplicated(d);

    await sql(d.sourceUrl, `
      UPDATE items SET t = 'changed', n = n + 1 WHERE id % 10 = 0;
      DELETE FROM items WHERE id BETWEEN 100 AND 120;
      INSERT INTO items (id, t) VALUES (1000, 'new');
      UPDATE items SET id = 2000 WHERE id = 1;
      UPDATE kv SET big = repeat('toast me ', 20000) WHERE k = 'k1';
      UPDATE kv SET v = 'touched' WHERE k = 'k1';
      UPDATE kv SET k = 'k1-moved' WHERE k = 'k1';
      DELETE FROM bag WHERE a = 1 AND ctid = (SELECT min(ctid) FROM bag WHERE a = 1);
      INSERT INTO bag VALUES (3, 'z');
    `);
    r = await runCli(['run', '--config', d.config, '--until-caught-up'], env());
    expect(r.code, r.stderr).toBe(0);
    await expectReplicated(d);

    // Streaming: changes made while the pipeline runs, then a clean stop.
    const running = startCli(['run', '--config', d.config], env());
    runs.push(running);
    await running.waitFor('streaming');
    await sql(d.sourceUrl, `ALTER TABLE kv ADD COLUMN extra integer; UPDATE kv SET extra = 7 WHERE k = 'k4'; TRUNCATE bag; INSERT INTO bag VALUES (5, 'after truncate');`);
    for (let i = 0; i < 5; i++) await sql(d.sourceUrl, `UPDATE items SET f8 = f8 + 1 WHERE id % 7 = ${i}`);
    running.child.kill('SIGTERM');
    expect(await running.exited, running.stderr()).toBe(0);
    r = await runCli(['run', '--config', d.config, '--until-caught-up'], env());
    expect(r.code, r.stderr).toBe(0);
    await expectReplicated(d);

    const items = await readDeltaTable(deltaTableLocation(d.location, 'public', 'items'), { storageOptions: s3.deltaStorageOptions() });
    expect(items.configuration['delta.enableChangeDataFeed']).toBe('true');
    expect(items.version).toBeGreaterThan(1);
    for (const out of [running.stderr(), running.stdout(), r.stderr, r.stdout]) expect(out).not.toContain(s3.secretAccessKey);
  });

  it('cdc status, compact and vacuum --config reach s3:// through the storage: block as cdc run does (they took no storage: block and used the AWS SDK environment only); delta-rs reads the same rows', async () => {
    const d = await setup();
    let r = await runCli(['run', '--config', d.config, '--until-caught-up'], env());
    expect(r.code, r.stderr).toBe(0);
    // Blind appends in batches of their own: each adds a small file to items.
    for (let i = 0; i < 3; i++) {
      await sql(d.sourceUrl, `INSERT INTO items (id, t) VALUES (${5000 + i}, 'appended ${i}')`);
      r = await runCli(['run', '--config', d.config, '--until-caught-up'], env());
      expect(r.code, r.stderr).toBe(0);
    }
    const outputs: string[] = [];

    const status = await runCli(['status', '--config', d.config, '--json'], env());
    outputs.push(status.stdout, status.stderr);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { pipeline: string; mergedLsn: string | null; tables: { table: string; snapshot: string; mergeCount: number }[] };
    expect(report.pipeline).toBe(d.name);
    expect(report.mergedLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(report.tables.map((t) => t.table).sort()).toEqual(['public.bag', 'public.items', 'public.kv']);
    expect(report.tables.find((t) => t.table === 'public.items')!.mergeCount).toBeGreaterThanOrEqual(3);
    const text = await runCli(['status', '--config', d.config], env());
    outputs.push(text.stdout, text.stderr);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`pipeline ${d.name}`);
    expect(text.stdout).toContain('public.items');

    const items = deltaTableLocation(d.location, 'public', 'items');
    const before = await readDeltaTable(items, { storageOptions: s3.deltaStorageOptions() });
    expect(before.files).toBeGreaterThan(1);
    const compacted = await runCli(['compact', '--config', d.config, '--tables', 'public.items', '--json'], env());
    outputs.push(compacted.stdout, compacted.stderr);
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(JSON.parse(compacted.stdout)).toEqual([{ table: 'public.items', filesBefore: before.files, filesAfter: 1, version: before.version + 1 }]);
    const after = await readDeltaTable(items, { storageOptions: s3.deltaStorageOptions() });
    expect(after.files).toBe(1);
    expect(after.rows).toEqual(before.rows);

    const vacuumed = await runCli(['vacuum', '--config', d.config, '--retention-hours', '0', '--json'], env());
    outputs.push(vacuumed.stdout, vacuumed.stderr);
    expect(vacuumed.code, vacuumed.stderr).toBe(0);
    const vacuumReports = JSON.parse(vacuumed.stdout) as { table: string; filesDeleted: number; logFilesDeleted: number }[];
    expect(vacuumReports.find((v) => v.table === 'public.items')!.filesDeleted).toBeGreaterThanOrEqual(before.files);
    expect(vacuumReports.find((v) => v.table === 'public.items')!.logFilesDeleted).toBe(0); // the log is younger than its retention (30 days)
    const results = await compareWithDelta(d.sourceUrl, d.location, 'public', s3.deltaStorageOptions());
    expect(results.filter((c) => !c.equal)).toEqual([]);
    // The pipeline still runs on the maintained tables.
    await sql(d.sourceUrl, `UPDATE items SET t = 'after maintenance' WHERE id = 5000`);
    r = await runCli(['run', '--config', d.config, '--until-caught-up'], env());
    expect(r.code, r.stderr).toBe(0);
    expect((await compareWithDelta(d.sourceUrl, d.location, 'public', s3.deltaStorageOptions())).filter((c) => !c.equal)).toEqual([]);

    // Wrong keys: TARGET_UNWRITABLE (exit 1) naming the bucket, never the secret.
    const wrong = await runCli(['vacuum', '--config', d.config], { ...env(), TEST_S3_SECRET: env().TEST_S3_WRONG_SECRET });
    outputs.push(wrong.stdout, wrong.stderr);
    expect(wrong.code, wrong.stderr).toBe(1);
    expect(wrong.stderr).toContain('TARGET_UNWRITABLE');
    expect(wrong.stderr).toContain(d.bucket);
    for (const out of outputs) {
      expect(out).not.toContain(s3.secretAccessKey);
      expect(out).not.toContain(env().TEST_S3_WRONG_SECRET);
    }
  });

  it('wrong keys stop cdc run with TARGET_UNWRITABLE naming the bucket and the endpoint, never the secret', async () => {
    const d = await setup({ secretVar: 'TEST_S3_WRONG_SECRET' });
    const r = await runCli(['run', '--config', d.config, '--until-caught-up'], env());
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('TARGET_UNWRITABLE');
    expect(r.stderr).toContain('SignatureDoesNotMatch');
    expect(r.stderr).toContain(d.bucket);
    expect(r.stderr).toContain(s3.endpoint);
    expect(r.stderr).toMatch(/secret_access_key/);
    for (const out of [r.stderr, r.stdout]) {
      expect(out).not.toContain(env().TEST_S3_WRONG_SECRET);
      expect(out).not.toContain(s3.secretAccessKey);
    }
  });

  it('an unreachable endpoint is retried with backoff (CONNECTION_FAILED naming the endpoint)', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const d = await setup({ endpoint });
    const running = startCli(['run', '--config', d.config], env());
    runs.push(running);
    await running.waitFor('retryable failure');
    running.child.kill('SIGTERM');
    await running.exited;
    expect(running.stderr()).toContain('CONNECTION_FAILED');
    expect(running.stderr()).toContain(endpoint);
    expect(running.stderr()).not.toContain(s3.secretAccessKey);
  });
});
