/**
 * Delta log checkpoints (not the pipeline's checkpoints of `checkpoint-json.ts`): every
 * `checkpointInterval` versions the sink writes a classic V1 checkpoint,
 * `_delta_log/<v20>.checkpoint.parquet`, holding the table's state at that version (protocol,
 * metaData, live files with their stats, txns and unexpired tombstones), then points
 * `_delta_log/_last_checkpoint` at it. Readers (delta-rs, Spark, {@link readSnapshot}) then
 * start from the checkpoint and replay only the JSON commits after it, and the JSON commits
 * before it are cleaned up once the table's log retention has expired them (`log-cleanup.ts`).
 *
 * A checkpoint is an optimisation: readers never need one while the JSON log is whole, so a
 * checkpoint that cannot be written is logged and skipped, never a failed batch.
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md (Checkpoints, Last Checkpoint
 *   File, Checkpoint Schema, Last Checkpoint File Schema)
 */
import type { Logger } from 'pino';
import { CdcError } from '../../errors.js';
import type { LakeStorage } from '../lake/storage.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-parquet.js';
import type { DeltaAction, DeltaSnapshot, RemoveAction } from './delta-actions.js';
import { cleanUpLogAfterCheckpoint } from './log-cleanup.js';
import { dropExpiredTombstones, tombstoneRetentionMs } from './tombstones.js';

/** Versions between checkpoints when neither the table nor the options say: delta-rs' default (Spark's is 10). */
export const DEFAULT_CHECKPOINT_INTERVAL = 100;

/** The classic checkpoint file of a version (20-digit zero-padded, PROTOCOL.md "Classic checkpoint"). */
export function checkpointPath(tablePath: string, version: number): string {
  return `${tablePath}/_delta_log/${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

/** `_delta_log/_last_checkpoint` of a table. */
export function lastCheckpointPath(tablePath: string): string {
  return `${tablePath}/_delta_log/_last_checkpoint`;
}

/** What `_last_checkpoint` holds (PROTOCOL.md "Last Checkpoint File Schema"); only `version` and `size` are required. */
export interface LastCheckpoint {
  /** The table version the checkpoint holds. */
  readonly version: number;
  /** Actions (rows) in the checkpoint. */
  readonly size: number;
  /** Bytes of the checkpoint file. */
  readonly sizeInBytes?: number;
  /** `add` actions in the checkpoint. */
  readonly numOfAddFiles?: number;
}

/**
 * The checkpoint interval of a table: its `delta.checkpointInterval` property when that is a
 * positive integer, else `fallback` (the sink's option).
 */
export function checkpointInterval(snapshot: DeltaSnapshot, fallback: number = DEFAULT_CHECKPOINT_INTERVAL): number {
  const configured = Number(snapshot.metaData?.configuration['delta.checkpointInterval']);
  return Number.isInteger(configured) && configured > 0 ? configured : fallback;
}

/**
 * The actions of a checkpoint of `snapshot`: protocol, metaData, txns, live files, and the
 * tombstones not yet expired at `nowMs` (the table's `delta.deletedFileRetentionDuration`,
 * default one week). Tombstones go without stats and tags, as the protocol asks.
 */
export function checkpointActions(snapshot: DeltaSnapshot, nowMs: number): DeltaAction[] {
  if (!snapshot.protocol || !snapshot.metaData) throw new Error('checkpointActions: a snapshot without protocol or metaData');
  const actions: DeltaAction[] = [{ protocol: snapshot.protocol }, { metaData: snapshot.metaData }];
  for (const [appId, version] of snapshot.txns) actions.push({ txn: { appId, version } });
  for (const add of snapshot.files.values()) actions.push({ add });
  const removes = new Map<string, RemoveAction>(snapshot.removes);
  dropExpiredTombstones(removes, nowMs - tombstoneRetentionMs(snapshot.metaData.configuration));
  for (const remove of removes.values()) actions.push({ remove });
  return actions;
}

/**
 * Writes the checkpoint of `snapshot` (a version already committed: the protocol forbids a
 * checkpoint before its commit), then `_last_checkpoint` unless that already names this or a
 * later version. Both are replaced whole; two writers checkpointing one version write the same
 * state, so either file serves ("Classic checkpoint").
 * @returns what `_last_checkpoint` says of it.
 * @throws {CdcError} TARGET_UNWRITABLE from the storage.
 */
export async function writeCheckpoint(storage: LakeStorage, tablePath: string, snapshot: DeltaSnapshot, nowMs: number = Date.now()): Promise<LastCheckpoint> {
  const actions = checkpointActions(snapshot, nowMs);
  const bytes = encodeCheckpoint(actions, snapshot.protocol!);
  await storage.replace(checkpointPath(tablePath, snapshot.version), bytes);
  const last: LastCheckpoint = { version: snapshot.version, size: actions.length, sizeInBytes: bytes.length, numOfAddFiles: snapshot.files.size };
  const current = await readLastCheckpoint(storage, tablePath);
  if (!current || current.version < last.version) {
    await storage.replace(lastCheckpointPath(tablePath), new TextEncoder().encode(`${JSON.stringify(last)}\n`));
  }
  return last;
}

/**
 * Writes a checkpoint when `snapshot` (just committed) is at a multiple of the table's interval
 * ({@link checkpointInterval}), then removes the log entries the table's log retention has
 * expired (`log-cleanup.ts`). Never throws: a failure is logged as a warning, and readers
 * replay the JSON commits instead.
 */
export async function checkpointIfDue(storage: LakeStorage, tablePath: string, snapshot: DeltaSnapshot, options: { readonly interval?: number; readonly log: Logger }): Promise<void> {
  const interval = checkpointInterval(snapshot, options.interval);
  if (snapshot.version <= 0 || snapshot.version % interval !== 0) return;
  try {
    const last = await writeCheckpoint(storage, tablePath, snapshot);
    options.log.debug({ table: `${storage.description}/${tablePath}`, ...last }, 'delta: checkpoint written');
  } catch (error) {
    options.log.warn({ table: `${storage.description}/${tablePath}`, version: snapshot.version, err: error }, 'delta: the checkpoint could not be written; readers replay the JSON log instead');
    return;
  }
  await cleanUpLogAfterCheckpoint(storage, tablePath, snapshot, options.log);
}

/** `_last_checkpoint`, or undefined when there is none or it is not a valid one (readers then list the log). */
export async function readLastCheckpoint(storage: LakeStorage, tablePath: string): Promise<LastCheckpoint | undefined> {
  const bytes = await storage.read(lastCheckpointPath(tablePath));
  if (!bytes) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LastCheckpoint>;
    return Number.isInteger(parsed.version) && (parsed.version ?? -1) >= 0 ? (parsed as LastCheckpoint) : undefined;
  } catch {
    return undefined;
  }
}

/** Versions of the classic (single-file) checkpoints under `_delta_log/`, ascending. */
export async function listCheckpointVersions(storage: LakeStorage, tablePath: string): Promise<number[]> {
  const objects = await storage.list(`${tablePath}/_delta_log/`);
  const versions: number[] = [];
  for (const o of objects) {
    const m = /\/_delta_log\/(\d{20})\.checkpoint\.parquet$/.exec(o.path);
    if (m) versions.push(Number(m[1]));
  }
  return versions.sort((a, b) => a - b);
}

/**
 * The actions of the checkpoint of `version`, or null when there is no such file.
 * @throws {CdcError} DELTA_LOG_INVALID for a file that is not a checkpoint, or one without
 *   protocol or metaData.
 */
export async function readCheckpoint(storage: LakeStorage, tablePath: string, version: number): Promise<DeltaAction[] | null> {
  const path = checkpointPath(tablePath, version);
  const bytes = await storage.read(path);
  if (!bytes) return null;
  let actions: DeltaAction[];
  try {
    actions = await decodeCheckpoint(bytes);
  } catch (error) {
    throw new CdcError('DELTA_LOG_INVALID', `${storage.description}/${path} is not a readable checkpoint: ${(error as Error).message}`, {
      remedy: 'when the JSON commits it covers are still there, delete this checkpoint and _delta_log/_last_checkpoint; otherwise restore the file from a backup',
      cause: error,
    });
  }
  if (!actions.some((a) => 'protocol' in a) || !actions.some((a) => 'metaData' in a)) {
    throw new CdcError('DELTA_LOG_INVALID', `${storage.description}/${path} has no protocol or metaData action`, {
      remedy: 'when the JSON commits it covers are still there, delete this checkpoint and _delta_log/_last_checkpoint; otherwise restore the file from a backup',
    });
  }
  return actions;
}
