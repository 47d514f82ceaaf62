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
import { watermarkKey, type Checkpoint, type PartitionPosition, type Watermark } from '../events/checkpoint.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProgressReporter } from '../observability/progress.js';
import { formatTableId, tableKey, type TableSchema } from '../schema/table.js';
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
  /**
   * A row change the target rejects (`ROW_REJECTED`: a value out of range, a NUL byte, a
   * constraint): `dead_letter` (default) sets it aside in the sink's dead-letter table and goes
   * on, `stop` stops the pipeline with the error.
   */
  readonly onRejectedRow?: 'dead_letter' | 'stop';
  /**
   * Kept by the caller across retries of the pipeline: where to merge row by row. With
   * `onRejectedRow: dead_letter`, a batch failing with `ROW_REJECTED` ends the run with a
   * retryable error after noting here how far it read; the next run merges every row under its
   * own savepoint from the merged position up to and including the first transaction past that,
   * setting rejected rows aside, then batches as usual. Without it, the error is not retryable.
   */
  readonly rowIsolation?: RowIsolation;
}

/**
 * Where a pipeline merges row by row (see {@link RunOptions.rowIsolation}): per source
 * partition, the last commit position that the run whose batch was rejected had read.
 */
export class RowIsolation {
  /** Undefined: no rejected batch to get past. */
  until: ReadonlyMap<string, bigint> | undefined;
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
  let started: Started;
  try {
    started = await startPipeline(options);
  } catch (error) {
    // Start-up errors (a missing table, a slot taken, a target behind) go to the sink's error
    // log too, as streaming errors do; a sink that has no log yet skips it.
    if (!options.signal?.aborted) await options.sink.recordError(error);
    throw error;
  }
  const { tables, checkpoint, stream, snapshotRows } = started;
  options.onStreaming?.();
  const merged = new Map(checkpoint.positions);
  try {
    const counts = await streamLoop(stream, options.sink, merged, options);
    return { tables, snapshotRows, ...counts, positions: merged };
  } catch (error) {
    // The open batch is rolled back; what the source cannot express as row changes is copied
    // again at the next start (its changes up to here stay merged).
    if (error instanceof CdcError) {
      for (const id of error.recopy) {
        const table = tables.find((t) => tableKey(t.id) === tableKey(id));
        if (table) await options.sink.forgetTableSnapshot(table);
        options.log.warn({ table: formatTableId(id), code: error.code }, 'the table will be copied again');
      }
    }
    throw error;
  } finally {
    await stream.stop();
  }
}

/** What {@link startPipeline} leaves for the stream loop. */
interface Started {
  readonly tables: readonly TableSchema[];
  readonly checkpoint: Checkpoint;
  readonly stream: ChangeStream;
  readonly snapshotRows: number;
}

/** Opens the source, prepares the sink, resyncs if asked, and starts the source from the sink's checkpoint. */
async function startPipeline(options: RunOptions): Promise<Started> {
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
  return { tables, checkpoint, stream: started.stream, snapshotRows: started.snapshotRows };
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
  const isolation = options.rowIsolation;
  /** Merging row by row, to get past a rejected batch (see {@link RowIsolation}). */
  let isolating = isolation?.until !== undefined;
  if (isolating) log.warn({ until: [...isolation!.until!].map(([partition, position]) => ({ partition, position: position.toString() })) }, 'merging row by row past a rejected row');
  /** Per partition, the highest commit position read in this run. */
  const read = new Map<string, bigint>();

  const open = async (): Promise<SinkBatch> => {
    if (!batch) {
      batch = await sink.openBatch(isolating ? { isolateRows: true } : undefined);
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
          if (stats.rejectedRows) {
            totals.deadLettered += stats.rejectedRows;
            metrics?.deadLetteredTotal.inc(stats.rejectedRows);
            log.warn({ rows: stats.rejectedRows }, 'rows the target rejected set aside in the dead-letter table');
          }
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
          for (const p of m.positions) {
            pending.positions.set(p.partition, p);
            if (p.position > (read.get(p.partition) ?? -1n)) read.set(p.partition, p.position);
          }
          for (const w of m.watermarks) pending.watermarks.set(watermarkKey(w), w);
          if (m.commitTime) metrics?.sourceCommit(m.commitTime);
          const until = isolation?.until;
          if (isolating && until && m.positions.length > 0 && m.positions.every((p) => p.position > (until.get(p.partition) ?? -1n))) {
            // The first transaction past what the rejected run read: that run's open
            // transaction, if it had one, is merged too. Back to batches.
            isolating = false;
            isolation.until = undefined;
            await flush(false);
            log.info('past the rejected rows: merging in batches again');
          } else if (batchFull(policy, b.changes, openedAt)) await flush(false);
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
    if (error instanceof CdcError && error.code === 'ROW_REJECTED' && !isolating && (options.onRejectedRow ?? 'dead_letter') === 'dead_letter' && isolation) {
      isolation.until = new Map(read);
      throw new CdcError('ROW_REJECTED', `${error.message}; merging row by row from the merged position to set it aside`, {
        cause: error,
        retryable: true,
        context: error.context,
      });
    }
    throw error;
  }
  return totals;
}
