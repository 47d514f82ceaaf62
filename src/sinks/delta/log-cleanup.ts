/**
 * Log cleanup: removing the entries of a table's `_delta_log/` that its log retention has
 * expired, as Delta PROTOCOL.md "Metadata Cleanup" describes it.
 *
 * 1. The cutoff is now − `delta.logRetentionDuration` (a table property, default `interval 30
 *    days`). Every version committed after it must stay readable (time travel, the change data
 *    feed). The protocol rounds the cutoff down to midnight UTC; this does not (as delta-rs), so
 *    a short retention takes effect the same day. Either way nothing newer than the retention
 *    goes.
 * 2. The *cutoff commit* is the newest commit not newer than the cutoff, taking commit times as
 *    the commit files' modification times made monotonic (a commit is never older than the
 *    one before it, as Spark does it).
 * 3. The *cutoff checkpoint* is the newest classic checkpoint not newer than the cutoff commit,
 *    and never newer than the one `_last_checkpoint` names (readers that trust it start there).
 *    It and every version after it are kept: each version from there on can be rebuilt from it.
 * 4. Every JSON commit, checkpoint (classic or multi-part), `.crc` file and log compaction file
 *    of an older version is deleted, oldest first, so that what remains is always a contiguous
 *    run of versions. `_last_checkpoint` and anything else in the folder are never touched.
 *
 * One addition of cdc-merge's: the commit in which a cdc-merge pipeline (a `txn` appId
 * `cdc-merge:<name>`) last wrote to the table is kept, and every version after it, however old:
 * the sink and `cdc status` read the pipeline's checkpoint from that commit's
 * `commitInfo.cdcMerge` (a checkpoint keeps the `txn` but drops `commitInfo`). A pipeline that
 * stopped writing to a table thus holds that table's log back from its last commit.
 *
 * Nothing is removed from a table whose `delta.enableExpiredLogCleanup` is `false`, one without
 * a valid `_last_checkpoint`, or one using the `v2Checkpoint` or `catalogManaged` features
 * (their cleanup also involves sidecar and staged-commit files, which cdc-merge never writes).
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md (Metadata Cleanup, Checkpoints,
 *   Last Checkpoint File, Log Compaction Files)
 */
import type { Logger } from 'pino';
import { CdcError } from '../../errors.js';
import type { LakeStorage, StoredObject } from '../lake/storage.js';
import { calendarIntervalMs } from './calendar-interval.js';
import { decodeCheckpoint } from './checkpoint-parquet.js';
import type { DeltaAction, DeltaSnapshot } from './delta-actions.js';

/** `delta.logRetentionDuration` when the table does not set it: 30 days (PROTOCOL.md, Spark and delta-rs). */
export const DEFAULT_LOG_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** The `txn` appId prefix of cdc-merge pipelines, whose last commit to a table is always kept (see the module comment). */
export const PIPELINE_APP_PREFIX = 'cdc-merge:';

/** Writer features whose tables this cleanup leaves alone (their logs hold more than it knows of). */
const UNSUPPORTED_FEATURES = ['v2Checkpoint', 'catalogManaged', 'catalogOwned-preview'];

/**
 * How long a table keeps its log entries (ms): its `delta.logRetentionDuration` property, a Spark
 * calendar interval such as `interval 30 days` ({@link calendarIntervalMs}), else 30 days.
 * @param table the table, for the message (`s3://bucket/lake/public/items`)
 * @throws {CdcError} DELTA_PROPERTY_INVALID naming the table and the value when the property is
 *   not such an interval.
 */
export function logRetentionMs(configuration: Readonly<Record<string, string>>, table: string): number {
  const text = configuration['delta.logRetentionDuration'];
  if (text === undefined) return DEFAULT_LOG_RETENTION_MS;
  const ms = calendarIntervalMs(text);
  if (ms === undefined) {
    throw new CdcError('DELTA_PROPERTY_INVALID', `${table}: delta.logRetentionDuration "${text}" is not an interval of weeks, days, hours, minutes or seconds`, {
      remedy: "set it to a value such as 'interval 30 days' (ALTER TABLE … SET TBLPROPERTIES in Spark, alter.set_table_properties in delta-rs), or remove it for the default of 30 days",
      context: { table, property: 'delta.logRetentionDuration', value: text },
    });
  }
  return ms;
}

/** One entry of `_delta_log/` that cleanup may remove. */
export interface LogEntry {
  /** Storage path (`<table>/_delta_log/<name>`). */
  readonly path: string;
  /** The version it belongs to; for a log compaction file, the first version it covers. */
  readonly version: number;
  readonly kind: 'commit' | 'checkpoint' | 'multi-part checkpoint' | 'checksum' | 'compaction';
  /** Last modification, ms since 1970-01-01 UTC. */
  readonly modifiedMs: number;
}

const ENTRY_PATTERNS: readonly [RegExp, LogEntry['kind']][] = [
  [/^(\d{20})\.json$/, 'commit'],
  [/^(\d{20})\.checkpoint\.parquet$/, 'checkpoint'],
  [/^(\d{20})\.checkpoint\.\d{10}\.\d{10}\.parquet$/, 'multi-part checkpoint'],
  [/^(\d{20})\.crc$/, 'checksum'],
  [/^(\d{20})\.\d{20}\.compacted\.json$/, 'compaction'],
];

/**
 * The versioned entries among the objects listed under `<tablePath>/_delta_log/`: commits,
 * checkpoints, checksum and log compaction files directly in the folder (PROTOCOL.md "Delta Log
 * Entries", "Checkpoints", "Version Checksum File", "Log Compaction Files"), ascending by version.
 * Anything else (`_last_checkpoint`, sub-folders, temporary files) is not an entry. Entries of
 * one version are ordered by path (code points).
 */
export function logEntries(objects: readonly StoredObject[], tablePath: string): LogEntry[] {
  const folder = `${tablePath}/_delta_log/`;
  const entries: LogEntry[] = [];
  for (const object of objects) {
    if (!object.path.startsWith(folder)) continue;
    const name = object.path.slice(folder.length);
    for (const [pattern, kind] of ENTRY_PATTERNS) {
      const m = pattern.exec(name);
      if (m) {
        entries.push({ path: object.path, version: Number(m[1]), kind, modifiedMs: object.modifiedMs });
        break;
      }
    }
  }
  return entries.sort((a, b) => a.version - b.version || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The cutoff checkpoint's version (steps 2 and 3 of the module comment): the newest classic
 * checkpoint at or before the newest commit whose (monotonic) commit time is not after
 * `cutoffMs`, and not after `newestAllowed`.
 * @returns undefined when no checkpoint qualifies (nothing can be cleaned up).
 */
export function cutOffCheckpointVersion(entries: readonly LogEntry[], cutoffMs: number, newestAllowed: number): number | undefined {
  let cutoffCommit: number | undefined;
  let newestTimeMs = -Infinity;
  for (const e of entries) {
    if (e.kind !== 'commit') continue;
    newestTimeMs = Math.max(newestTimeMs, e.modifiedMs);
    if (newestTimeMs > cutoffMs) break;
    cutoffCommit = e.version;
  }
  if (cutoffCommit === undefined) return undefined;
  const limit = Math.min(cutoffCommit, newestAllowed);
  let found: number | undefined;
  for (const e of entries) if (e.kind === 'checkpoint' && e.version <= limit) found = e.version;
  return found;
}

/** Options of {@link cleanUpLog}. */
export interface LogCleanupOptions {
  /** The current time, ms since 1970-01-01 UTC (default `Date.now()`). */
  readonly nowMs?: number;
  /** List what would be removed, remove nothing. */
  readonly dryRun?: boolean;
}

/** What {@link cleanUpLog} did. */
export interface LogCleanupResult {
  /** Storage paths removed (or, with `dryRun`, to remove), oldest version first. */
  readonly removed: readonly string[];
  /** The oldest version kept when the cleanup ran its course; earlier versions can no longer be read. */
  readonly keptFromVersion?: number;
  /** Why nothing could be removed, when nothing could (for logs). */
  readonly skipped?: string;
}

/** `_last_checkpoint`'s version, or undefined when the file is missing or not valid. */
async function lastCheckpointVersion(storage: LakeStorage, tablePath: string): Promise<number | undefined> {
  const bytes = await storage.read(`${tablePath}/_delta_log/_last_checkpoint`);
  if (!bytes) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { version?: unknown };
    return typeof parsed.version === 'number' && Number.isInteger(parsed.version) && parsed.version >= 0 ? parsed.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The actions of the checkpoint cleanup would keep, read back whole before anything older goes.
 * @throws {CdcError} DELTA_LOG_INVALID when it cannot be read or lacks protocol or metaData.
 */
async function verifiedCheckpoint(storage: LakeStorage, entry: LogEntry): Promise<DeltaAction[]> {
  const remedy = 'nothing was removed; delete this checkpoint and _delta_log/_last_checkpoint while the JSON commits it covers are still there, and the next checkpoint replaces it';
  const bytes = await storage.read(entry.path);
  let actions: DeltaAction[] = [];
  try {
    if (bytes) actions = await decodeCheckpoint(bytes);
  } catch (error) {
    throw new CdcError('DELTA_LOG_INVALID', `${storage.description}/${entry.path} is not a readable checkpoint, so no log entry before it is removed: ${(error as Error).message}`, { remedy, cause: error });
  }
  if (!actions.some((a) => 'protocol' in a) || !actions.some((a) => 'metaData' in a)) {
    throw new CdcError('DELTA_LOG_INVALID', `${storage.description}/${entry.path} ${bytes ? 'has no protocol or metaData action' : 'disappeared'}, so no log entry before it is removed`, { remedy });
  }
  return actions;
}

/** The `txn` actions of a JSON commit (none when it is missing; lines that are not JSON are skipped: readers report them). */
async function commitTxns(storage: LakeStorage, path: string): Promise<{ appId: string; version: number }[]> {
  const bytes = await storage.read(path);
  const txns: { appId: string; version: number }[] = [];
  for (const line of bytes ? new TextDecoder().decode(bytes).split('\n') : []) {
    if (!line.includes('"txn"')) continue;
    try {
      const action = JSON.parse(line) as DeltaAction;
      if ('txn' in action) txns.push(action.txn);
    } catch {
      continue;
    }
  }
  return txns;
}

/**
 * The oldest version holding the last commit of a cdc-merge pipeline that has not written to
 * the table since the checkpoint `checkpoint` (of version `at`), or undefined when there is
 * none below `at` to keep. Reads the commit at `at` (usually the pipeline's own: the sink writes
 * a checkpoint right after its commit), then the JSON commits below it, oldest first (after an
 * earlier cleanup kept one, it is the oldest), until each such pipeline's commit is found.
 */
async function oldestPipelineCommit(storage: LakeStorage, entries: readonly LogEntry[], checkpoint: readonly DeltaAction[], snapshot: DeltaSnapshot, at: number): Promise<number | undefined> {
  const waiting = new Map<string, number>();
  for (const a of checkpoint) {
    if ('txn' in a && a.txn.appId.startsWith(PIPELINE_APP_PREFIX) && (snapshot.txns.get(a.txn.appId) ?? a.txn.version) <= a.txn.version) waiting.set(a.txn.appId, a.txn.version);
  }
  const found = (txns: readonly { appId: string; version: number }[]) => txns.some((t) => waiting.get(t.appId) === t.version);
  const atCommit = entries.find((e) => e.kind === 'commit' && e.version === at);
  if (waiting.size > 0 && atCommit) for (const t of await commitTxns(storage, atCommit.path)) if (waiting.get(t.appId) === t.version) waiting.delete(t.appId);
  for (const e of entries) {
    if (waiting.size === 0 || e.version >= at) return undefined;
    if (e.kind === 'commit' && found(await commitTxns(storage, e.path))) return e.version;
  }
  return undefined;
}

/**
 * Removes the log entries of the table at `tablePath` that its `delta.logRetentionDuration` has
 * expired (see the module comment for the rule), given `snapshot`, its latest version as read or
 * just committed. Never removes a version after the cutoff checkpoint, that checkpoint itself,
 * `_last_checkpoint`, or a cdc-merge pipeline's last commit.
 * @throws {CdcError} DELTA_PROPERTY_INVALID for a retention that is not an interval;
 *   DELTA_LOG_INVALID when the checkpoint to keep is not readable (nothing is removed then);
 *   TARGET_UNWRITABLE (and the S3 storage's errors) from listing, reading and deleting.
 */
export async function cleanUpLog(storage: LakeStorage, tablePath: string, snapshot: DeltaSnapshot, options: LogCleanupOptions = {}): Promise<LogCleanupResult> {
  const table = `${storage.description}/${tablePath}`;
  const configuration = snapshot.metaData?.configuration;
  if (!configuration) return { removed: [], skipped: 'the table has no metaData yet' };
  if ((configuration['delta.enableExpiredLogCleanup'] ?? 'true').trim().toLowerCase() === 'false') {
    return { removed: [], skipped: 'delta.enableExpiredLogCleanup is false' };
  }
  const feature = UNSUPPORTED_FEATURES.find((f) => snapshot.protocol?.writerFeatures?.includes(f));
  if (feature) return { removed: [], skipped: `the table uses the ${feature} feature` };
  const cutoffMs = (options.nowMs ?? Date.now()) - logRetentionMs(configuration, table);
  const last = await lastCheckpointVersion(storage, tablePath);
  if (last === undefined) return { removed: [], skipped: 'no valid _delta_log/_last_checkpoint' };
  const entries = logEntries(await storage.list(`${tablePath}/_delta_log/`), tablePath);
  const cutOff = cutOffCheckpointVersion(entries, cutoffMs, Math.min(last, snapshot.version));
  if (cutOff === undefined) return { removed: [], skipped: 'no checkpoint is older than the log retention' };
  if (!entries.some((e) => e.version < cutOff)) return { removed: [], keptFromVersion: cutOff };
  const checkpoint = await verifiedCheckpoint(storage, entries.find((e) => e.kind === 'checkpoint' && e.version === cutOff)!);
  const pipelineCommit = await oldestPipelineCommit(storage, entries, checkpoint, snapshot, cutOff);
  const keep = Math.min(cutOff, pipelineCommit ?? cutOff);
  const expired = entries.filter((e) => e.version < keep);
  if (!options.dryRun) for (const e of expired) await storage.delete(e.path);
  return { removed: expired.map((e) => e.path), keptFromVersion: keep };
}

/**
 * {@link cleanUpLog} after the sink wrote a checkpoint: never throws (log cleanup is
 * housekeeping; a failure is a warning, and the next checkpoint tries again).
 */
export async function cleanUpLogAfterCheckpoint(storage: LakeStorage, tablePath: string, snapshot: DeltaSnapshot, log: Logger): Promise<void> {
  const table = `${storage.description}/${tablePath}`;
  try {
    const result = await cleanUpLog(storage, tablePath, snapshot);
    if (result.removed.length > 0) log.info({ table, removed: result.removed.length, keptFromVersion: result.keptFromVersion }, 'delta: expired log entries removed');
    else log.debug({ table, skipped: result.skipped, keptFromVersion: result.keptFromVersion }, 'delta: no log entries to remove');
  } catch (error) {
    log.warn({ table, err: error }, 'delta: expired log entries could not be removed; the next checkpoint tries again');
  }
}
