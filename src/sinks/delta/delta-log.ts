/**
 * The Delta transaction log (`_delta_log/`): its actions, reading a table's snapshot by replaying
 * the log, and committing a new version with put-if-absent so that no version is ever
 * overwritten. Only what the sink writes is read back: JSON commits and classic V1 checkpoints
 * (`checkpoint.ts`).
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md (Delta Log Entries, Actions,
 *   Action Reconciliation, Creation of New Log Entries)
 */
import { CdcError } from '../../errors.js';
import type { LakeStorage } from '../lake/storage.js';
import { listCheckpointVersions, readCheckpoint, readLastCheckpoint } from './checkpoint.js';
import { vectorUniqueId } from './deletion-vector.js';
import { dropExpiredTombstones, tombstoneRetentionMs } from './tombstones.js';

export type { AddAction, CdcAction, DeltaAction, DeltaSnapshot, MetaDataAction, ProtocolAction, RemoveAction, TxnAction } from './delta-actions.js';
import type { DeltaAction, DeltaSnapshot, MetaDataAction, ProtocolAction, AddAction, RemoveAction } from './delta-actions.js';

/** The log file of a version: 20-digit zero-padded (PROTOCOL.md "Delta Log Entries"). */
export function commitPath(tablePath: string, version: number): string {
  return `${tablePath}/_delta_log/${String(version).padStart(20, '0')}.json`;
}

/** An empty snapshot (no version yet). */
export const NO_TABLE: DeltaSnapshot = { version: -1, protocol: undefined, metaData: undefined, files: new Map(), removes: new Map(), txns: new Map(), lastCommitInfo: undefined };

/** A snapshot being reconciled (see {@link applyActions}). */
interface MutableSnapshot {
  version: number;
  protocol: ProtocolAction | undefined;
  metaData: MetaDataAction | undefined;
  files: Map<string, AddAction>;
  removes: Map<string, RemoveAction>;
  txns: Map<string, number>;
  lastCommitInfo: Readonly<Record<string, unknown>> | undefined;
}

/** `base` with the actions of `version` applied (Action Reconciliation). */
export function applyActions(base: DeltaSnapshot, version: number, actions: readonly DeltaAction[]): DeltaSnapshot {
  const next: MutableSnapshot = { ...base, files: new Map(base.files), removes: new Map(base.removes), txns: new Map(base.txns), version };
  let newestRemoveMs: number | undefined;
  for (const action of actions) {
    if ('add' in action) {
      next.files.set(action.add.path, action.add);
      next.removes.delete(action.add.path);
    } else if ('remove' in action) {
      // Files are keyed by (path, deletion vector): a remove of the same path with another
      // vector than the live one removes an older logical file (the live one was re-added).
      const live = next.files.get(action.remove.path);
      if (live && vectorUniqueId(live.deletionVector) === vectorUniqueId(action.remove.deletionVector)) next.files.delete(action.remove.path);
      if (!next.files.has(action.remove.path)) next.removes.set(action.remove.path, action.remove);
      newestRemoveMs = Math.max(newestRemoveMs ?? 0, action.remove.deletionTimestamp ?? 0);
    } else if ('metaData' in action) next.metaData = action.metaData;
    else if ('protocol' in action) next.protocol = action.protocol;
    else if ('txn' in action) next.txns.set(action.txn.appId, action.txn.version);
    else if ('commitInfo' in action) next.lastCommitInfo = action.commitInfo;
  }
  // The newest remove's time is at most the current time, so what expired by it has expired.
  if (newestRemoveMs !== undefined) dropExpiredTombstones(next.removes, newestRemoveMs - tombstoneRetentionMs(next.metaData?.configuration ?? {}));
  return next;
}

/**
 * The actions of one commit file.
 * @throws {CdcError} DELTA_LOG_INVALID naming the file and line for text that is not a log entry.
 */
export function parseCommit(text: string, file: string): DeltaAction[] {
  const actions: DeltaAction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new CdcError('DELTA_LOG_INVALID', `${file} line ${i + 1} is not JSON: ${(error as Error).message}`, {
        remedy: 'the table log is damaged: restore the file from a backup, or remove the table and copy it again with --resync',
      });
    }
    if (parsed && typeof parsed === 'object') actions.push(parsed as DeltaAction);
  }
  return actions;
}

/** Log versions present under `tablePath/_delta_log/`, ascending. */
export async function listVersions(storage: LakeStorage, tablePath: string): Promise<number[]> {
  const objects = await storage.list(`${tablePath}/_delta_log/`);
  const versions: number[] = [];
  for (const o of objects) {
    const m = /\/_delta_log\/(\d{20})\.json$/.exec(o.path);
    if (m) versions.push(Number(m[1]));
  }
  return versions.sort((a, b) => a - b);
}

/** `snapshot` with the JSON commits that follow it applied, up to the first version missing. */
async function replayCommits(storage: LakeStorage, tablePath: string, from: DeltaSnapshot): Promise<DeltaSnapshot> {
  let snapshot = from;
  for (let version = from.version + 1; ; version++) {
    const bytes = await storage.read(commitPath(tablePath, version));
    if (!bytes) return snapshot;
    snapshot = applyActions(snapshot, version, parseCommit(new TextDecoder().decode(bytes), commitPath(tablePath, version)));
  }
}

/** The snapshot a checkpoint holds, or undefined when its file is missing. */
async function checkpointSnapshot(storage: LakeStorage, tablePath: string, version: number): Promise<DeltaSnapshot | undefined> {
  const actions = await readCheckpoint(storage, tablePath, version);
  if (!actions) return undefined;
  return { ...applyActions(NO_TABLE, version, actions), lastCommitInfo: undefined };
}

/**
 * Reads the table at `tablePath` up to its latest version, starting from `from` (a snapshot
 * already read, to read only what followed). Without `from`, reading starts at the checkpoint
 * `_delta_log/_last_checkpoint` names, else at version 0, else (older entries removed, no
 * `_last_checkpoint`) at the newest checkpoint; then the JSON commits after it are replayed.
 * @throws {CdcError} DELTA_LOG_INVALID for a damaged entry or checkpoint, or a log whose
 *   version 0 is gone without a checkpoint; TARGET_NOT_DELTA when the directory holds files but
 *   no Delta log.
 */
export async function readSnapshot(storage: LakeStorage, tablePath: string, from: DeltaSnapshot = NO_TABLE): Promise<DeltaSnapshot> {
  let start = from;
  if (from.version === -1) {
    const hint = await readLastCheckpoint(storage, tablePath);
    if (hint) start = (await checkpointSnapshot(storage, tablePath, hint.version)) ?? from;
  }
  let snapshot = await replayCommits(storage, tablePath, start);
  if (snapshot.version === -1) {
    const checkpoints = await listCheckpointVersions(storage, tablePath);
    const newest = checkpoints.at(-1);
    const fromCheckpoint = newest === undefined ? undefined : await checkpointSnapshot(storage, tablePath, newest);
    if (fromCheckpoint) snapshot = await replayCommits(storage, tablePath, fromCheckpoint);
  }
  if (snapshot.version === -1) {
    const versions = await listVersions(storage, tablePath);
    if (versions.length > 0) {
      throw new CdcError('DELTA_LOG_INVALID', `${storage.description}/${tablePath}: the Delta log starts at version ${versions[0]} and holds no version 0 and no checkpoint (its older entries were removed)`, {
        remedy: 'restore the removed log entries or a checkpoint, or remove the table and copy it again with --resync',
      });
    }
    const others = (await storage.list(`${tablePath}/`)).filter((o) => !o.path.includes('/_delta_log/'));
    if (others.length > 0) {
      throw new CdcError('TARGET_NOT_DELTA', `${storage.description}/${tablePath} holds files (${others[0]!.path}) but no Delta table`, {
        remedy: 'point the target location at an empty directory or at Delta tables; cdc-merge never writes into other data',
      });
    }
  } else if (snapshot.protocol === undefined || snapshot.metaData === undefined) {
    throw new CdcError('DELTA_LOG_INVALID', `${storage.description}/${tablePath}: the Delta log has no protocol or metaData action`, {
      remedy: 'the table log is damaged: remove the table and copy it again with --resync',
    });
  }
  return snapshot;
}

/** What {@link commitVersion} did. */
export type CommitOutcome = { readonly committed: true; readonly version: number } | { readonly committed: false; readonly winner: number };

/**
 * Writes `actions` as version `version` of the table, only if no writer has created that
 * version: the entry appears whole or not at all, and never replaces another.
 * @returns `committed: false` with the version that exists when another writer was first.
 * @throws {CdcError} TARGET_UNWRITABLE from the storage.
 */
export async function commitVersion(storage: LakeStorage, tablePath: string, version: number, actions: readonly DeltaAction[]): Promise<CommitOutcome> {
  const text = `${actions.map((a) => JSON.stringify(a)).join('\n')}\n`;
  const created = await storage.putIfAbsent(commitPath(tablePath, version), new TextEncoder().encode(text));
  return created ? { committed: true, version } : { committed: false, winner: version };
}
