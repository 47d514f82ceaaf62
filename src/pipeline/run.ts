/**
 * The pipeline: source → batches of complete source transactions → sink, acknowledging the
 * source only after the sink committed (DESIGN.md §3.2–3.3). It names no source and no sink.
 *
 * Start-up: the source opens (selects its tables), the sink prepares them, a `--resync` resets
 * the sink and then the source, and the source starts from the sink's checkpoint, copying a
 * snapshot first where it takes one. Then one loop: messages fill a batch; at a `commit`
 * boundary a full or old batch is handed to the sink to commit while the next one fills (at most
 * one commit in flight); when the source goes quiet the batch is merged at once (low lag); after
 * each commit the source is acknowledged what it stored.
 */
import type { Logger } from 'pino';
import { CdcError } from '../errors.js';
import { watermarkKey, type PartitionPosition, type Watermark } from '../events/checkpoint.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProgressReporter } from '../observability/progress.js';
import type { TableSchema } from '../schema/table.js';
import type { ChangeSink, SinkBatch } from '../sinks/change-sink.js';
import type { ChangeSource, ChangeStream } from '../sources/change-source.js';
import { batchFull, DEFAULT_BATCH_POLICY, type BatchPolicy } from './batch-policy.js';
import { CommitSlot } from './commit-slot.js';

/** Options for {@link runPipeline}. */
export interface RunOptions {
  readonly source: ChangeSource;
  readonly sink: ChangeSink;
  readonly log: Logger;
  /** Stop with success once everything the source held at the start is merged. */
  readonly untilCaughtUp?: boolean;
  /** Forget the target's checkpoint and the source's state, and copy everything again. */
  readonly resync?: boolean;
  readonly batchPolicy?: BatchPolicy;
  readonly metrics?: Metrics;
  readonly progress?: ProgressReporter;
  /**
   * Aborting stops the pipeline cleanly: the open batch is merged at the next transaction
   * boundary, then it returns. A snapshot in progress stops with CdcError INTERRUPTED.
   */
  readonly signal?: AbortSignal;
  /** Called once streaming has started (tests, readiness). */
  readonly onStreaming?: () => void;
}

/** What a finished run did. */
export interface RunResult {
  /** Tables the source selected before streaming. */
  readonly tables: readonly TableSchema[];
  readonly snapshotRows: number;
  /** Source transactions merged. */
  readonly transactions: number;
  /** Source messages consumed (broker messages; 0 for a PostgreSQL slot). */
  readonly messages: number;
  /** Row changes merged (before dedup). */
  readonly changes: number;
  /** Messages set aside in the dead-letter table. */
  readonly deadLettered: number;
  /** The merged position of each source partition at the end, by partition name. */
  readonly positions: ReadonlyMap<string, PartitionPosition>;
}

/**
 * Runs until aborted, until caught up (with `untilCaughtUp`), or until an unrecoverable error.
 * @throws {CdcError} RESYNC_UNSUPPORTED for `resync` with a source that cannot re-copy, and the
 *   errors of the source and the sink (docs/errors.md).
 */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { source, sink, log } = options;
  const tables = await source.open();
  await sink.prepare(tables);
  if (options.resync) {
    if (!source.reset) {
      throw new CdcError('RESYNC_UNSUPPORTED', `--resync: a ${source.description} source cannot copy its tables again`, {
        remedy: 'drop the target tables and their checkpoint rows yourself, or replay the topic from its start with a new pipeline --name',
      });
    }
    // Target first: a crash in between leaves a target that copies again, never a target that
    // believes it holds changes the source no longer has.
    log.warn({ source: source.description }, 'resync: forgetting the target checkpoint and copying every table again');
    await sink.reset();
    await source.reset();
  }
  const checkpoint = await sink.checkpoint();
  const started = await source.start({
    checkpoint,
    snapshots: await sink.snapshotStates(),
    ...(sink.tables ? { targetTables: await sink.tables() } : {}),
    snapshotTarget: sink,
    untilCaughtUp: options.untilCaughtUp ?? false,
    log,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  options.onStreaming?.();
  const merged = new Map(checkpoint.positions);
  try {
    const counts = await streamLoop(started.stream, sink, merged, options);
    return { tables, snapshotRows: started.snapshotRows, ...counts, positions: merged };
  } finally {
    await started.stream.stop();
  }
}

/** What the open batch will store when it commits. */
class PendingCheckpoint {
  readonly positions = new Map<string, PartitionPosition>();
  readonly watermarks = new Map<string, Watermark>();
  transactions = 0;
  messages = 0;
  /** `commit` boundaries in the batch. */
  boundaries = 0;
}

async function streamLoop(
  stream: ChangeStream,
  sink: ChangeSink,
  merged: Map<string, PartitionPosition>,
  options: RunOptions,
): Promise<Omit<RunResult, 'tables' | 'snapshotRows' | 'positions'>> {
  const { log, metrics, signal } = options;
  const policy = options.batchPolicy ?? DEFAULT_BATCH_POLICY;
  const untilCaughtUp = options.untilCaughtUp ?? false;
  const totals = { transactions: 0, messages: 0, changes: 0, deadLettered: 0 };
  let batch: SinkBatch | null = null;
  let openedAt = 0;
  let pending = new PendingCheckpoint();
  /** True between a transaction's first message and its `commit`: no batch may end there. */
  let inTransaction = false;

  const open = async (): Promise<SinkBatch> => {
    if (!batch) {
      batch = await sink.openBatch();
      openedAt = Date.now();
    }
    return batch;
  };
  // At most one batch commits at a time; the next one fills meanwhile (its target work waits
  // for the previous batch inside the sink). A failed commit stops the loop at once.
  const commits = new CommitSlot();
  /** Hands the open batch to the sink to commit; with `wait`, also waits for every commit. */
  const flush = async (wait: boolean): Promise<void> => {
    if (batch) {
      const b = batch;
      const done = pending;
      batch = null;
      pending = new PendingCheckpoint();
      await commits.settle();
      if (done.boundaries === 0) await b.rollback();
      else {
        const update = { positions: [...done.positions.values()], watermarks: [...done.watermarks.values()] };
        commits.start(b.commit(update, { transactions: done.transactions, messages: done.messages }), async (stats) => {
          for (const p of update.positions) merged.set(p.partition, p);
          totals.transactions += stats.transactions;
          totals.messages += stats.messages;
          totals.changes += stats.changes;
          metrics?.batchMerged(stats);
          log.debug({ positions: update.positions.map((p) => p.text), ...stats }, 'batch merged');
          await stream.acknowledge(update.positions);
        });
      }
    }
    if (wait) await commits.settle();
  };

  try {
    for (;;) {
      commits.check();
      if (!inTransaction && (signal?.aborted || (untilCaughtUp && stream.caughtUp()))) break;
      const m = stream.poll() ?? (await stream.next(batch && !inTransaction ? policy.idleMs : 1000));
      if (m === 'timeout') {
        if (!inTransaction) await flush(true);
        else if (signal?.aborted) {
          // Stopping inside a transaction whose rest does not come: drop the open batch (none of
          // it is acknowledged, so the source sends it again on the next start).
          log.warn('stopping inside an incomplete source transaction: the open batch is rolled back and will be read again');
          const b = batch as SinkBatch | null;
          batch = null;
          pending = new PendingCheckpoint();
          await b?.rollback();
          break;
        }
        continue;
      }
      switch (m.kind) {
        case 'begin':
          inTransaction = true;
          await open();
          break;
        case 'relation':
          inTransaction = true;
          await (await open()).relation(m.table);
          break;
        case 'insert':
        case 'update':
        case 'delete': {
          inTransaction = true;
          const writing = (batch ?? (await open())).row(m);
          if (writing) await writing;
          metrics?.captured(m.table, m.kind);
          break;
        }
        case 'truncate':
          inTransaction = true;
          await (await open()).truncate(m.tables);
          break;
        case 'dead-letter':
          inTransaction = true;
          await (await open()).deadLetter(m.entry);
          totals.deadLettered++;
          metrics?.deadLetteredTotal.inc();
          break;
        case 'commit': {
          inTransaction = false;
          const b = batch ?? (await open());
          pending.boundaries++;
          pending.transactions += m.transactions;
          pending.messages += m.messages;
          for (const p of m.positions) pending.positions.set(p.partition, p);
          for (const w of m.watermarks) pending.watermarks.set(watermarkKey(w), w);
          if (m.commitTime) metrics?.sourceCommit(m.commitTime);
          if (batchFull(policy, b.changes, openedAt)) await flush(false);
          break;
        }
        case 'idle': {
          if (inTransaction) break;
          await flush(true);
          const moved = m.positions.filter((p) => p.position > (merged.get(p.partition)?.position ?? -1n));
          if (moved.length > 0) {
            await sink.recordPositions(moved);
            for (const p of moved) merged.set(p.partition, p);
            await stream.acknowledge(moved);
          }
          break;
        }
      }
    }
    await flush(true);
  } catch (error) {
    const b = batch as SinkBatch | null;
    if (b) await b.rollback().catch(() => undefined);
    await commits.drain();
    await sink.recordError(error);
    throw error;
  }
  return totals;
}
