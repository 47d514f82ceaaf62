/**
 * Delta log checkpoints (issue 12, "200+ versions: checkpoints written, delta-rs opens the table
 * from the checkpoint"): a table driven through 250 versions (appends, merges with updates and
 * deletes, a column added) with a checkpoint every 100 versions; delta-rs reads it, and reads a
 * copy whose JSON commits before the last checkpoint are gone, as does readSnapshot.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { readDeltaTable } from '../../testing/python-oracles.js';
import { LocalStorage } from '../lake/storage.js';
import { checkpointPath, lastCheckpointPath, readCheckpoint } from './checkpoint.js';
import { readSnapshot, type DeltaAction, type DeltaSnapshot } from './delta-log.js';
import { DeltaTable, keyText, type KeyedChange, type TableChanges } from './delta-table.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-delta-checkpoint-'));
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
const KV_WITH_W: TableSchema = { ...KV, columns: [...KV.columns, { name: 'w', type: 'bigint', logicalType: { kind: 'int64' }, nullable: true, toastable: false }] };

const txn = (batch: number): DeltaAction[] => [{ txn: { appId: 'cdc-merge:test', version: batch } }, { commitInfo: { timestamp: Date.now(), operation: 'MERGE', engineInfo: 'cdc-merge' } }];

/** Deletes the JSON commits below `version` from a table directory. */
function dropCommitsBelow(tableDir: string, version: number): void {
  for (const name of readdirSync(join(tableDir, '_delta_log'))) {
    const m = /^(\d{20})\.json$/.exec(name);
    if (m && Number(m[1]) < version) rmSync(join(tableDir, '_delta_log', name));
  }
}

/** What a snapshot holds, comparable with toEqual (lastCommitInfo aside: checkpoints drop commitInfo). */
function state(s: DeltaSnapshot) {
  return { version: s.version, protocol: s.protocol, metaData: s.metaData, files: new Map(s.files), removes: [...s.removes.keys()].sort(), txns: new Map(s.txns) };
}

describe('Delta log checkpoints', () => {
  it('250 versions with a checkpoint every 100: delta-rs and readSnapshot open the table from the checkpoint at 200 once older commits are gone', async () => {
    const root = tempDir();
    const storage = new LocalStorage(root);
    const table = await DeltaTable.open(storage, 'public/kv', KV, { changeDataFeed: true, maxRowsPerFile: 20, checkpointInterval: 100 }, log);
    const expected = new Map<number, { v: string; w: number | null }>();
    let nextKey = 0;
    let withW = false;
    for (let batch = 1; table.snapshot.version < 250; batch++) {
      if (table.snapshot.version === 150 && !withW) {
        table.relation(KV_WITH_W);
        withW = true;
      }
      const w = (k: number) => (withW ? k * 10 : null);
      const row = (k: number, v: string) => (withW ? [k, v, BigInt(w(k)!)] : [k, v]);
      if (batch % 4 === 1) {
        // a blind append of new keys
        const rows = Array.from({ length: 7 }, () => nextKey++).map((k) => row(k, `a${batch}`));
        await table.append(rows, txn(batch));
        for (const r of rows) expected.set(r[0] as number, { v: r[1] as string, w: w(r[0] as number) });
        continue;
      }
      // a merge: two updates, one delete, two inserts
      const keyed = new Map<string, KeyedChange>();
      const live = [...expected.keys()];
      for (const k of [live[(batch * 7) % live.length]!, live[(batch * 13) % live.length]!]) {
        keyed.set(keyText([k]), { kind: 'upsert', row: row(k, `u${batch}`) });
        expected.set(k, { v: `u${batch}`, w: w(k) });
      }
      const gone = live[(batch * 5) % live.length]!;
      if (!keyed.has(keyText([gone]))) {
        keyed.set(keyText([gone]), { kind: 'delete' });
        expected.delete(gone);
      }
      for (const k of [nextKey++, nextKey++]) {
        keyed.set(keyText([k]), { kind: 'upsert', row: row(k, `i${batch}`) });
        expected.set(k, { v: `i${batch}`, w: w(k) });
      }
      const changes: TableChanges = { truncated: false, keyed, rows: new Map() };
      await table.commit(await table.planMerge(changes), txn(batch));
    }
    expect(table.snapshot.version).toBe(250);

    const tableDir = join(root, 'public', 'kv');
    const logDir = join(tableDir, '_delta_log');
    expect(existsSync(join(root, checkpointPath('public/kv', 100)))).toBe(true);
    expect(existsSync(join(root, checkpointPath('public/kv', 200)))).toBe(true);
    expect(readdirSync(logDir).filter((n) => n.includes('.checkpoint.'))).toHaveLength(2);
    const last = JSON.parse(readFileSync(join(root, lastCheckpointPath('public/kv')), 'utf8')) as { version: number; size: number; numOfAddFiles: number };
    const checkpoint200 = (await readCheckpoint(storage, 'public/kv', 200))!;
    expect(last).toMatchObject({ version: 200, size: checkpoint200.length });
    expect(checkpoint200.some((a) => 'remove' in a)).toBe(true); // tombstones within the week kept

    const byKey = (r: Record<string, unknown>[]) => [...r].sort((a, b) => (a.k as number) - (b.k as number));
    const rows = byKey([...expected].map(([k, { v, w }]) => ({ k, v, w })));
    const reading = await readDeltaTable(tableDir);
    expect(reading.version).toBe(250);
    expect(byKey(reading.rows)).toEqual(rows);

    // A copy without the JSON commits before 200: delta-rs and readSnapshot start at the checkpoint.
    const copyRoot = tempDir();
    cpSync(root, copyRoot, { recursive: true });
    const copyDir = join(copyRoot, 'public', 'kv');
    dropCommitsBelow(copyDir, 200);
    expect(existsSync(join(copyDir, '_delta_log', '00000000000000000000.json'))).toBe(false);
    const copyReading = await readDeltaTable(copyDir);
    expect(copyReading.version).toBe(250);
    expect(byKey(copyReading.rows)).toEqual(rows);
    expect(copyReading.files).toBe(reading.files);

    const full = await readSnapshot(storage, 'public/kv');
    const copyStorage = new LocalStorage(copyRoot);
    const fromCheckpoint = await readSnapshot(copyStorage, 'public/kv');
    expect(state(fromCheckpoint)).toEqual(state(full));
    expect(state(full)).toEqual(state(table.snapshot));
    expect(fromCheckpoint.txns.get('cdc-merge:test')).toBeGreaterThan(200);

    // Without _last_checkpoint either, the newest checkpoint is found by listing.
    rmSync(join(copyDir, '_delta_log', '_last_checkpoint'));
    expect(state(await readSnapshot(copyStorage, 'public/kv'))).toEqual(state(full));

    // The copy keeps working: another merge on it lands at 251 and delta-rs reads it.
    const reopened = await DeltaTable.open(copyStorage, 'public/kv', KV_WITH_W, { changeDataFeed: true, maxRowsPerFile: 20, checkpointInterval: 100 }, log);
    const k = [...expected.keys()][0]!;
    await reopened.commit(await reopened.planMerge({ truncated: false, keyed: new Map([[keyText([k]), { kind: 'upsert', row: [k, 'after', 1n] }]]), rows: new Map() }), txn(1000));
    const after = await readDeltaTable(copyDir);
    expect(after.version).toBe(251);
    expect(after.rows.find((r) => r.k === k)).toEqual({ k, v: 'after', w: 1 });
  });

  it('a timestamp_ntz table (protocol 3/7 with features) is checkpointed with its feature lists and read by delta-rs from the checkpoint', async () => {
    const root = tempDir();
    const storage = new LocalStorage(root);
    const schema: TableSchema = {
      id: { schema: 'public', name: 'events' },
      columns: [
        { name: 'id', type: 'integer', logicalType: { kind: 'int32' }, nullable: false, toastable: false },
        { name: 'at', type: 'timestamp without time zone', logicalType: { kind: 'timestamp' }, nullable: true, toastable: false },
      ],
      primaryKey: ['id'],
    };
    const table = await DeltaTable.open(storage, 'public/events', schema, { changeDataFeed: true, maxRowsPerFile: 10, checkpointInterval: 5 }, log);
    const at = table.columns[1]!.convert;
    for (let batch = 1; batch <= 6; batch++) {
      await table.commit(await table.planMerge({ truncated: false, keyed: new Map([[keyText([batch % 3]), { kind: 'upsert', row: [batch % 3, at(`2024-05-0${batch} 12:34:56.123456`)] }]]), rows: new Map() }), txn(batch));
    }
    expect(table.snapshot.version).toBe(6);
    const checkpoint = (await readCheckpoint(storage, 'public/events', 5))!;
    expect(checkpoint.find((a) => 'protocol' in a)).toEqual({ protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['timestampNtz', 'changeDataFeed'] } });

    const tableDir = join(root, 'public', 'events');
    dropCommitsBelow(tableDir, 5);
    const reading = await readDeltaTable(tableDir);
    expect(reading.version).toBe(6);
    expect(reading.protocol).toEqual({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: expect.arrayContaining(['timestampNtz', 'changeDataFeed']) as unknown });
    expect([...reading.rows].sort((a, b) => (a.id as number) - (b.id as number))).toEqual([
      { id: 0, at: '2024-05-06T12:34:56.123456' },
      { id: 1, at: '2024-05-04T12:34:56.123456' },
      { id: 2, at: '2024-05-05T12:34:56.123456' },
    ]);
    const snapshot = await readSnapshot(storage, 'public/events');
    expect(snapshot.version).toBe(6);
    expect(snapshot.protocol).toEqual(table.snapshot.protocol);
  });

  it('a checkpoint that cannot be written is a warning, never a failed commit', async () => {
    const root = tempDir();
    const local = new LocalStorage(root);
    const failing = Object.assign(Object.create(local) as LocalStorage, {
      replace: (path: string, bytes: Uint8Array) => (path.endsWith('.checkpoint.parquet') ? Promise.reject(new Error('disk full')) : local.replace(path, bytes)),
    });
    const warnings: string[] = [];
    const warnLog = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const table = await DeltaTable.open(failing, 'public/kv', KV, { changeDataFeed: true, maxRowsPerFile: 10, checkpointInterval: 2 }, warnLog);
    for (let batch = 1; batch <= 3; batch++) await table.append([[batch, `v${batch}`]], txn(batch));
    expect(table.snapshot.version).toBe(3);
    expect(warnings.some((w) => w.includes('disk full') && w.includes('checkpoint'))).toBe(true);
    expect(existsSync(join(root, lastCheckpointPath('public/kv')))).toBe(false);
    expect((await readDeltaTable(join(root, 'public', 'kv'))).rows).toHaveLength(3);
  });
});
