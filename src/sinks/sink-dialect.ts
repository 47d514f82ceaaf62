/**
 * A kind of sink as the rest of the program sees it (Kysely's `Dialect` is the model): a `type`
 * name (as in cdc.yaml's `target: { type: … }`), documented capability flags, and factories for
 * what commands need of it: the writer the pipeline lands batches through, the status reader of
 * `cdc status`, and, where the sink merges deferred, the merge worker. Each kind's folder exports
 * one; `src/run/registry.ts` lists them, and nothing else names a kind.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { MergeWorkerMetrics } from '../observability/merge-metrics.js';
import type { ChangeSink, SinkCapabilities } from './change-sink.js';
import type { LakeTargetLocation } from './lake/open-lake-storage.js';
import type { MergeStatusReport, TargetStatus } from './sink-status.js';
import type { LakeMigrationDialect } from './lake-migrations.js';
import type { SqlMigrationDialect } from './sql-migrations.js';

/** What every writer factory is given besides the kind's own settings. */
export interface SinkContext {
  /** Pipeline name: keys the stored checkpoint and snapshot state. */
  readonly name: string;
  readonly log: Logger;
}

/** Reads what `cdc status` shows of a target. */
export interface SinkStatusReader {
  /**
   * The stored checkpoint and per-table state of pipeline `name`.
   * @throws {CdcError} NOT_INITIALIZED when the target holds nothing of cdc-merge yet.
   */
  pipeline(name: string): Promise<TargetStatus>;
  /**
   * The merge state of every table (deferred merge), recent errors, lag and pauses.
   * @throws {CdcError} NOT_INITIALIZED when the target holds nothing of cdc-merge yet.
   */
  merges(): Promise<MergeStatusReport>;
  close(): Promise<void>;
}

/** Options of a deferred-merge worker (`cdc merge-worker`). */
export interface MergeWorkerSettings {
  /** Target URL. */
  readonly url: string;
  /** Batching window, ms: a table merges once no change was staged for this long. */
  readonly windowMs: number;
  /** Tables merged at once, ≥ 1. */
  readonly concurrency: number;
  /** A claim older than this, ms, belongs to a dead merger and is taken over. */
  readonly stuckAfterMs: number;
  /** A busy table merges at the latest this long, ms, after its first unmerged change. */
  readonly maxWaitMs?: number;
  /** Poll interval, ms (default: the window, at least 1000). */
  readonly pollMs?: number;
  readonly log: Logger;
  readonly metrics?: MergeWorkerMetrics;
  /** Stops the worker: running merges finish, then it returns. */
  readonly signal: AbortSignal;
  /** Called once the worker listens (readiness). */
  readonly onReady?: () => void;
}

/** Deferred merge: external writers fill staging, the sink merges later (capability `deferredMerge`). */
export interface DeferredMergeDialect {
  /** Default batching window, s. */
  readonly defaultWindowSeconds: number;
  /** Default age, s, after which a claim is taken over. */
  readonly defaultStuckAfterSeconds: number;
  /** Runs a merge worker until its signal aborts. */
  runWorker(settings: MergeWorkerSettings): Promise<unknown>;
}

/** What one table's maintenance did (`cdc compact`, `cdc vacuum`). */
export interface MaintenanceReport {
  /** The table, as `schema.table`. */
  readonly table: string;
  /** Live data files before and after (compaction). */
  readonly filesBefore?: number;
  readonly filesAfter?: number;
  /** Files deleted, or that would be with a dry run (vacuum). */
  readonly filesDeleted?: number;
  /** Bytes of those files. */
  readonly bytesDeleted?: number;
  /**
   * Log entries (`_delta_log/` JSON commits, checkpoints) the table's log retention has expired,
   * deleted or, with a dry run, to delete (vacuum).
   */
  readonly logFilesDeleted?: number;
  /** The table version committed (compaction), when one was. */
  readonly version?: number;
}

/** File maintenance of a lake sink: compaction of small files and removal of unreferenced ones. */
export interface LakeMaintenanceDialect {
  /**
   * Rewrites each table's small data files into files of the target size, without a data change
   * (readers and the change feed see the same rows).
   * @param target the sink's location and, for `s3://`, its `storage:` block (as `cdc run` uses it)
   * @param tables `schema.table` names; empty: every table at the location
   */
  compact(target: LakeTargetLocation, options: { readonly tables: readonly string[]; readonly log: Logger }): Promise<MaintenanceReport[]>;
  /**
   * Deletes files no longer referenced by each table's current version and older than
   * `retentionHours` (data files of earlier versions, change data files, abandoned writes).
   * Readers of versions older than the retention can no longer read them. Unless `keepLog`, then
   * also deletes the log entries the table's own `delta.logRetentionDuration` (not
   * `retentionHours`) has expired (Delta PROTOCOL.md "Metadata Cleanup").
   * @param target as for {@link LakeMaintenanceDialect.compact}
   */
  vacuum(
    target: LakeTargetLocation,
    options: { readonly tables: readonly string[]; readonly retentionHours: number; readonly dryRun: boolean; readonly keepLog?: boolean; readonly log: Logger },
  ): Promise<MaintenanceReport[]>;
}

/** One kind of sink. */
export interface SinkDialect<Config extends { readonly type: string; readonly url: string }> {
  readonly type: Config['type'];
  /** The schema of its `target: { type: …, … }` section in cdc.yaml. */
  readonly configSchema: z.ZodType;
  readonly capabilities: SinkCapabilities;
  /**
   * Schemas (namespaces) the sink keeps its own objects in. A source that reads the same
   * database skips them.
   */
  readonly reservedSchemas: readonly string[];
  /** True when `url` names a target of this kind (commands that take only `--target URL`). */
  acceptsUrl(url: string): boolean;
  /**
   * Connects and returns the writer the pipeline lands batches through.
   * @throws {CdcError} for an unreachable target.
   */
  createWriter(config: Config, context: SinkContext): Promise<ChangeSink>;
  /**
   * Connects a status reader.
   * @param url the target URL or location
   * @param config the target's resolved settings when cdc.yaml gave them (a lake target's
   *   `storage:` block, for one); without them the URL alone is used
   * @throws {CdcError} for an unreachable target.
   */
  createStatusReader(url: string, config?: Config): Promise<SinkStatusReader>;
  /** Present when `capabilities.deferredMerge`. */
  readonly deferredMerge?: DeferredMergeDialect;
  /** Present when the sink is migrated with SQL files (`cdc migrations`). */
  readonly migrations?: SqlMigrationDialect;
  /** Present when the sink is migrated with schema files on its own location (lake sinks; `cdc migrations`). */
  readonly lakeMigrations?: LakeMigrationDialect;
  /** Present for lake sinks whose files need compaction and vacuum. */
  readonly maintenance?: LakeMaintenanceDialect;
}
