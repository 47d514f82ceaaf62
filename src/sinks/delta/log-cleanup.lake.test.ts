/**
 * Log cleanup (Delta PROTOCOL.md "Metadata Cleanup"): tables whose `delta.logRetentionDuration`
 * expired part of their log lose the entries before the cutoff checkpoint, after each checkpoint
 * the sink writes and by `cdc vacuum`; delta-rs still opens them, reads them as of every version
 * kept and reads their change data feed from there, equal to a twin table whose log was kept
 * whole. A cdc-merge pipeline's last commit is kept however old.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { readDeltaTable, type OracleValue } from '../../testing/python-oracles.js';
import { startThrowawayS3 } from '../../testing/throwaway-s3.js';
import { S3Storage } from '../lake/s3-storage.js';
import { LocalStorage, type LakeStorage } from '../lake/storage.js';
import { checkpointIfDue } from './checkpoint.js';
import { commitVersion, readSnapshot, type DeltaAction } from './delta-log.js';
import { DeltaTable, keyText, type KeyedChange } from './delta-table.js';
import { cleanUpLog } from './log-cleanup.js';
import { deltaMaintenance } from './maintenance.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-delta-log-cleanup-'));
  dirs.push(dir);
  return dir;
}

const KV: TableSchema = {
  id: { schema: 'public', name: 'kv' },
  columns: [
    { name: 'k', type: 'integer', logicalType: { kind: 'int32' }, nullable: false, toastable: false },
    { name: 'v', type: 'text', logicalType: { kind: 'text' }, nullable: true, toastable: true },
  ],
  primaryKey: ['k'],
};
const PATH = 'public/kv';

const txn = (app: string, batch: number): DeltaAction[] => [
  { txn: { appId: `cdc-merge:${app}`, version: batch } },
  { commitInfo: { timestamp: Date.now(), operation: 'MERGE', engineInfo: 'cdc-merge', cdcMerge: { appId: `cdc-merge:${app}`, batch } } },
];

/** Commits table properties as a new version (what ALTER TABLE … SET TBLPROPERTIES does). */
async function setProperties(storage: LakeStorage, properties: Record<string, string>): Promise<void> {
  const snapshot = await readSnapshot(storage, PATH);
  const metaData = { ...snapshot.metaData!, configuration: { ...snapshot.metaData!.configuration, ...properties } };
  const outcome = await commitVersion(storage, PATH, snapshot.version + 1, [{ commitInfo: { timestamp: Date.now(), operation: 'SET TBLPROPERTIES' } }, { metaData }]);
  expect(outcome.committed).toBe(true);
}

/** A table at `public/kv` (under a local directory, or in `storage`) with `properties` set at version 1. */
async function createTable<S extends LakeStorage = LocalStorage>(root: string | S, properties: Record<string, string>, checkpointInterval: number): Promise<{ storage: S; table: DeltaTable }> {
  const storage = (typeof root === 'string' ? new LocalStorage(root) : root) as S;
  await DeltaTable.open(storage, PATH, KV, { changeDataFeed: true, maxRowsPerFile: 20 }, log);
  await setProperties(storage, properties);
  const table = await DeltaTable.open(storage, PATH, KV, { changeDataFeed: true, maxRowsPerFile: 20, checkpointInterval }, log);
  return { storage, table };
}

/**
 * Drives `tables` (twins: the same changes to each) to `version` with merges of pipeline `app`:
 * an insert, an update and (every other batch) a delete each.
 */
async function drive(tables: readonly DeltaTable[], expected: Map<number, string>, version: number, app = 'busy'): Promise<void> {
  for (let batch = tables[0]!.snapshot.version + 1; tables[0]!.snapshot.version < version; batch++) {
    const keyed = new Map<string, KeyedChange>();
    const live = [...expected.keys()];
    keyed.set(keyText([1000 + batch]), { kind: 'upsert', row: [1000 + batch, `i${batch}`] });
    expected.set(1000 + batch, `i${batch}`);
    if (live.length > 0) {
      const k = live[(batch * 7) % live.length]!;
      keyed.set(keyText([k]), { kind: 'upsert', row: [k, `u${batch}`] });
      expected.set(k, `u${batch}`);
      const gone = live[(batch * 3) % live.length]!;
      if (batch % 2 === 0 && !keyed.has(keyText([gone]))) {
        keyed.set(keyText([gone]), { kind: 'delete' });
        expected.delete(gone);
      }
    }
    for (const table of tables) await table.commit(await table.planMerge({ truncated: false, keyed, rows: new Map() }), txn(app, batch));
  }
}

const rowsOf = (expected: Map<number, string>) => [...expected].map(([k, v]) => ({ k, v })).sort((a, b) => a.k - b.k);
const byKey = (rows: readonly Record<string, OracleValue>[]) => [...rows].sort((a, b) => (a.k as number) - (b.k as number));
const logNames = (root: string) => readdirSync(join(root, 'public', 'kv', '_delta_log')).sort();
const versionsOf = (names: readonly string[], suffix: string) => names.filter((n) => n.endsWith(suffix) && /^\d{20}\./.test(n)).map((n) => Number(n.slice(0, 20)));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('Delta log cleanup', () => {
  it('a short delta.logRetentionDuration: each checkpoint removes what precedes it; delta-rs reads the table, time-travels and reads the change feed from the checkpoint on as a twin whose log is whole', async () => {
    const a = await createTable(tempDir(), { 'delta.logRetentionDuration': 'interval 0 seconds' }, 10);
    const twinRoot = tempDir();
    const b = await createTable(twinRoot, {}, 10);
    const expected = new Map<number, string>();
    await drive([a.table, b.table], expected, 25);
    expect(a.table.snapshot.version).toBe(25);

    const root = join(a.storage.description);
    const names = logNames(root);
    expect(versionsOf(names, '.json')).toEqual(range(20, 25));
    expect(versionsOf(names, '.checkpoint.parquet')).toEqual([20]);
    expect(names).toContain('_last_checkpoint');
    // The twin (default retention, 30 days) lost nothing.
    expect(versionsOf(logNames(twinRoot), '.json')).toEqual(range(0, 25));
    expect(versionsOf(logNames(twinRoot), '.checkpoint.parquet')).toEqual([10, 20]);

    const tableDir = join(root, 'public', 'kv');
    const twinDir = join(twinRoot, 'public', 'kv');
    const reading = await readDeltaTable(tableDir, { cdfFrom: 20 });
    expect(reading.version).toBe(25);
    expect(byKey(reading.rows)).toEqual(rowsOf(expected));
    const twin = await readDeltaTable(twinDir, { cdfFrom: 20 });
    expect(reading.cdf).toEqual(twin.cdf);
    expect(reading.cdf!.length).toBeGreaterThan(0);
    for (const version of [20, 23]) {
      const [asOf, twinAsOf] = await Promise.all([readDeltaTable(tableDir, { version }), readDeltaTable(twinDir, { version })]);
      expect(asOf.version).toBe(version);
      expect(asOf.rows).toEqual(twinAsOf.rows);
    }
    // A version before the cutoff checkpoint is gone, as the retention allows.
    await expect(readDeltaTable(tableDir, { version: 15 })).rejects.toThrow();

    // cdc-merge reads it too, and writes on: the next checkpoint (30) removes 20 to 29.
    const reopened = await DeltaTable.open(a.storage, PATH, KV, { changeDataFeed: true, maxRowsPerFile: 20, checkpointInterval: 10 }, log);
    expect(byKey((await reopened.rows()).map(([k, v]) => ({ k: k as number, v: v as string })))).toEqual(rowsOf(expected));
    await drive([reopened, b.table], expected, 31);
    expect(versionsOf(logNames(root), '.json')).toEqual([30, 31]);
    expect(byKey((await readDeltaTable(tableDir)).rows)).toEqual(rowsOf(expected));
  });

  it('the default retention (30 days) removes only entries older than it, before the newest checkpoint not newer than the cutoff commit; a dry run removes nothing', async () => {
    const { storage, table } = await createTable(tempDir(), {}, 10);
    const expected = new Map<number, string>();
    await drive([table], expected, 35);
    const root = storage.description;
    expect(versionsOf(logNames(root), '.json')).toEqual(range(0, 35)); // nothing is 30 days old yet
    // Commits 0..14 (and checkpoint 10) written 40 days ago, the rest now.
    const old = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    for (const name of logNames(root)) {
      if (/^\d{20}\./.test(name) && Number(name.slice(0, 20)) <= 14) utimesSync(join(root, 'public', 'kv', '_delta_log', name), old, old);
    }
    const dry = await cleanUpLog(storage, PATH, table.snapshot, { dryRun: true });
    expect(dry.keptFromVersion).toBe(10);
    expect(dry.removed).toEqual(range(0, 9).map((v) => `${PATH}/_delta_log/${String(v).padStart(20, '0')}.json`));
    expect(versionsOf(logNames(root), '.json')).toEqual(range(0, 35));

    const done = await cleanUpLog(storage, PATH, table.snapshot);
    expect(done.removed).toEqual(dry.removed);
    const names = logNames(root);
    expect(versionsOf(names, '.json')).toEqual(range(10, 35));
    expect(versionsOf(names, '.checkpoint.parquet')).toEqual([10, 20, 30]);
    expect(names).toContain('_last_checkpoint');
    // Every version after the cutoff commit (14) reads, and 10 to 14 as well (from checkpoint 10).
    const tableDir = join(root, 'public', 'kv');
    for (const version of [10, 15, 35]) expect((await readDeltaTable(tableDir, { version })).version).toBe(version);
    expect((await readDeltaTable(tableDir, { cdfFrom: 15 })).cdf!.length).toBeGreaterThan(0);
    // Run again: nothing more is old enough.
    expect((await cleanUpLog(storage, PATH, table.snapshot)).removed).toEqual([]);
  });

  it("keeps a cdc-merge pipeline's last commit (and what follows it) however old: the sink and cdc status read its checkpoint from that commit", async () => {
    const { storage, table } = await createTable(tempDir(), { 'delta.logRetentionDuration': 'interval 0 seconds' }, 1000);
    const expected = new Map<number, string>();
    await drive([table], expected, 4, 'busy');
    await drive([table], expected, 5, 'idle'); // version 5: pipeline idle's only commit
    await drive([table], expected, 25, 'busy');
    await checkpointIfDue(storage, PATH, table.snapshot, { interval: 25, log });
    const root = storage.description;
    expect(versionsOf(logNames(root), '.json')).toEqual(range(5, 25));
    const kept = readFileSync(join(root, 'public', 'kv', '_delta_log', `${String(5).padStart(20, '0')}.json`), 'utf8');
    expect(kept).toContain('"cdcMerge":{"appId":"cdc-merge:idle","batch":5}');
    expect((await readDeltaTable(join(root, 'public', 'kv'))).version).toBe(25);
    // Once idle writes again, its old commit is free to go.
    await drive([table], expected, 26, 'idle');
    await drive([table], expected, 30, 'busy');
    await checkpointIfDue(storage, PATH, table.snapshot, { interval: 30, log });
    expect(versionsOf(logNames(root), '.json')).toEqual([26, 27, 28, 29, 30]);
    expect(byKey((await readDeltaTable(join(root, 'public', 'kv'))).rows)).toEqual(rowsOf(expected));
  });

  it('keeps everything when delta.enableExpiredLogCleanup is false; a retention that is not an interval is DELTA_PROPERTY_INVALID naming the table, a warning after a checkpoint', async () => {
    const off = await createTable(tempDir(), { 'delta.logRetentionDuration': 'interval 0 seconds', 'delta.enableExpiredLogCleanup': 'false' }, 5);
    await drive([off.table], new Map(), 12);
    expect(versionsOf(logNames(off.storage.description), '.json')).toEqual(range(0, 12));
    expect(await cleanUpLog(off.storage, PATH, off.table.snapshot)).toEqual({ removed: [], skipped: 'delta.enableExpiredLogCleanup is false' });

    const warnings: string[] = [];
    const warnLog = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const bad = await createTable(tempDir(), { 'delta.logRetentionDuration': 'forever' }, 1000);
    const table = await DeltaTable.open(bad.storage, PATH, KV, { changeDataFeed: true, maxRowsPerFile: 20, checkpointInterval: 5 }, warnLog);
    await drive([table], new Map(), 6);
    expect(table.snapshot.version).toBe(6); // the batches committed
    expect(existsSync(join(bad.storage.description, 'public', 'kv', '_delta_log', `${String(5).padStart(20, '0')}.checkpoint.parquet`))).toBe(true);
    expect(warnings.some((w) => w.includes('DELTA_PROPERTY_INVALID') || w.includes('delta.logRetentionDuration'))).toBe(true);
    await expect(cleanUpLog(bad.storage, PATH, table.snapshot)).rejects.toMatchObject({
      code: 'DELTA_PROPERTY_INVALID',
      message: expect.stringContaining(`${bad.storage.description}/${PATH}: delta.logRetentionDuration "forever"`) as unknown,
    });
  });

  it('on S3 (moto): the checkpoint removes what precedes it, and delta-rs reads the table and its change feed from the server', async () => {
    const s3 = await startThrowawayS3({ label: 'log-cleanup' });
    try {
      await s3.createBucket('log-cleanup');
      const storage = new S3Storage('s3://log-cleanup/lake', { endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
      const { table } = await createTable(storage, { 'delta.logRetentionDuration': 'interval 0 seconds' }, 5);
      const expected = new Map<number, string>();
      await drive([table], expected, 12);
      const names = (await storage.list(`${PATH}/_delta_log/`)).map((o) => o.path.slice(`${PATH}/_delta_log/`.length)).sort();
      expect(versionsOf(names, '.json')).toEqual(range(10, 12));
      expect(versionsOf(names, '.checkpoint.parquet')).toEqual([10]);
      expect(names).toContain('_last_checkpoint');
      const reading = await readDeltaTable(`s3://log-cleanup/lake/${PATH}`, { cdfFrom: 10, storageOptions: s3.deltaStorageOptions() });
      expect(reading.version).toBe(12);
      expect(byKey(reading.rows)).toEqual(rowsOf(expected));
      expect(new Set(reading.cdf!.map((r) => r._commit_version))).toEqual(new Set([10, 11, 12]));
    } finally {
      await s3.stop();
    }
  });

  it('cdc vacuum removes expired log entries (counted per table; --dry-run lists them; --keep-log keeps them)', async () => {
    const root = tempDir();
    const { storage, table } = await createTable(root, { 'delta.enableExpiredLogCleanup': 'false' }, 10);
    const expected = new Map<number, string>();
    await drive([table], expected, 22);
    await setProperties(storage, { 'delta.logRetentionDuration': 'interval 1 millisecond', 'delta.enableExpiredLogCleanup': 'true' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const target = { location: root };
    const vacuum = (options: { dryRun?: boolean; keepLog?: boolean }) => deltaMaintenance.vacuum(target, { tables: ['public.kv'], retentionHours: 168, dryRun: options.dryRun ?? false, keepLog: options.keepLog ?? false, log });
    expect(await vacuum({ keepLog: true })).toEqual([{ table: 'public.kv', filesDeleted: 0, bytesDeleted: 0 }]);
    expect(await vacuum({ dryRun: true })).toEqual([{ table: 'public.kv', filesDeleted: 0, bytesDeleted: 0, logFilesDeleted: 21 }]); // 0..19 and checkpoint 10
    expect(versionsOf(logNames(root), '.json')).toEqual(range(0, 23));
    expect(await vacuum({})).toEqual([{ table: 'public.kv', filesDeleted: 0, bytesDeleted: 0, logFilesDeleted: 21 }]);
    expect(versionsOf(logNames(root), '.json')).toEqual(range(20, 23));
    expect(byKey((await readDeltaTable(join(root, 'public', 'kv'), { cdfFrom: 20 })).rows)).toEqual(rowsOf(expected));
  });
});
