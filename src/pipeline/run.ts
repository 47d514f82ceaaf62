/**
 * The pipeline service: source → batches of complete transactions → sink, acknowledging the
 * source only after the sink committed (DESIGN.md §3.2).
 *
 * Start-up: select tables, prepare the publication and the target, then make sure every table
 * has a finished snapshot (a new slot's exported snapshot for a first run; a temporary slot's
 * snapshot for tables added later or interrupted), then stream from the merged position.
 */
import type { Logger } from 'pino';
import { CdcError } from '../errors.js';
import type { ChangeMessage } from '../events/change.js';
import { formatLsn } from '../events/position.js';
import { formatTableId, tableKey, type TableSchema } from '../schema/table.js';
import type { PostgresSource } from '../sources/postgres/source.js';
import type { PgoutputChangeStream } from '../sources/postgres/change-stream.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProgressReporter } from '../observability/progress.js';
import { batchFull, DEFAULT_BATCH_POLICY, type BatchPolicy } from './batch-policy.js';
import { CommitSlot } from './commit-slot.js';
import { copyTables } from './snapshot.js';
import type { ChangeSink, SinkBatch } from './sink.js';

/** Options for {@link runPipeline}. */
export interface RunOptions {
  readonly source: PostgresSource;
  readonly sink: ChangeSink;
  readonly log: Logger;
  /** Stop with success once everything committed on the source before the start is merged. */
  readonly untilCaughtUp?: boolean;
  /** Drop the slot and copy everything again. */
  readonly resync?: boolean;
  readonly batchPolicy?: BatchPolicy;
  readonly snapshotParallelism?: number;
  readonly heartbeatIntervalMs?: number;
  readonly metrics?: Metrics;
  readonly progress?: ProgressReporter;
  /** Aborting stops the pipeline cleanly: the open batch is merged, then it returns. */
  readonly signal?: AbortSignal;
  /** Called once streaming has started (tests, readiness). */
  readonly onStreaming?: () => void;
}

/** What a finished run did. */
export interface RunResult {
  readonly tables: readonly TableSchema[];
  readonly snapshotRows: number;
  readonly transactions: number;
  readonly changes: number;
  /** Merged position at the end (bytes of WAL). */
  readonly mergedLsn: bigint;
}

/**
 * Runs until aborted, until caught up (with `untilCaughtUp`), or until an unrecoverable error.
 * @throws {CdcError} SLOT_INVALIDATED, PERMISSION_DENIED, … (see docs/errors.md).
 */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { source, sink, log } = options;
  const policy = options.batchPolicy ?? DEFAULT_BATCH_POLICY;
  const tables = await source.selectTables();
  const prepared = await source.preparePublication();
  if (prepared.replicaIdentityFull.length) log.warn({ tables: prepared.replicaIdentityFull }, 'set REPLICA IDENTITY FULL on tables without a primary key');
  if (prepared.publication.created) log.info({ publication: source.name }, 'created publication');
  else if (prepared.publication.added.length) log.info({ added: prepared.publication.added.map(formatTableId) }, 'added tables to publication');
  await sink.prepare(tables);

  if (options.resync) {
    log.warn({ slot: source.name }, 'resync: dropping the slot and copying every table again');
    await source.dropSlot();
    await sink.reset();
  }

  // Until-caught-up target: everything committed before now.
  const targetLsn = options.untilCaughtUp ? await source.currentLsn() : null;

  let slot = await source.slot();
  if (slot?.walStatus === 'lost') {
    throw new CdcError('SLOT_INVALIDATED', `replication slot "${source.name}" was invalidated: the WAL it needed is gone`, {
      remedy: 'copy everything again with: cdc run --resync (same source, target and --name)',
    });
  }
  let snapshotRows = 0;
  const snapshotLsns = new Map<string, bigint>();
  for (const s of await sink.snapshotStates()) if (s.state === 'done' && s.snapshotLsn !== null) snapshotLsns.set(tableKey(s.table), s.snapshotLsn);
  const toCopy = tables.filter((t) => !snapshotLsns.has(tableKey(t.id)));
  if (!slot || toCopy.length > 0) {
    const held = await source.holdSnapshot(slot !== null);
    try {
      log.info({ slot: held.name, consistentPoint: formatLsn(held.consistentPoint), tables: toCopy.length }, 'snapshot: exported');
      const totals = await copyTables({
        source,
        sink,
        tables: toCopy,
        snapshotName: held.snapshotName,
        snapshotLsn: held.consistentPoint,
        log,
        ...(options.snapshotParallelism ? { parallelism: options.snapshotParallelism } : {}),
        ...(options.progress ? { progress: options.progress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for (const n of totals.values()) snapshotRows += n;
      for (const t of toCopy) snapshotLsns.set(tableKey(t.id), held.consistentPoint);
    } finally {
      await held.release();
    }
    slot = await source.slot();
  }
  const merged = (await sink.mergedPosition()) ?? 0n;
  const startLsn = merged > (slot?.confirmedFlushLsn ?? 0n) ? merged : (slot?.confirmedFlushLsn ?? 0n);
  log.info({ from: formatLsn(startLsn), merged: formatLsn(merged) }, 'streaming');
  const stream = await source.startStream(startLsn, tables, {
    ...(options.heartbeatIntervalMs ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
  });
  options.onStreaming?.();
  try {
    // Everything before the start position is merged or inside a snapshot, so an idle stream
    // is caught up as soon as the server reports no newer WAL.
    const counts = await streamLoop({ stream, sink, log, policy, merged: startLsn, snapshotLsns, targetLsn, options });
    return { tables, snapshotRows, ...counts };
  } finally {
    await stream.stop();
  }
}

interface LoopState {
  stream: PgoutputChangeStream;
  sink: ChangeSink;
  log: Logger;
  policy: BatchPolicy;
  merged: bigint;
  snapshotLsns: Map<string, bigint>;
  targetLsn: bigint | null;
  options: RunOptions;
}

async function streamLoop(s: LoopState): Promise<{ transactions: number; changes: number; mergedLsn: bigint }> {
  const { stream, sink, log, policy, options } = s;
  let merged = s.merged;
  let batch: SinkBatch | null = null;
  let batchOpenedAt = 0;
  let batchTxns = 0;
  let lastEnd = merged;
  let inTxn = false;
  let skipTxn = false;
  let commitLsn = 0n;
  let commitTime = new Date(0);
  let transactions = 0;
  let changes = 0;

  const caughtUp = () => s.targetLsn !== null && merged >= s.targetLsn;
  // At most one batch commits at a time; the next one fills meanwhile (its target work waits
  // for the previous batch inside the sink). A failed commit stops the loop at once.
  const commits = new CommitSlot();
  /** Hands the open batch to the sink to commit; with `wait`, also waits for every commit. */
  const flush = async (wait: boolean) => {
    if (batch) {
      const b = batch;
      const txns = batchTxns;
      const end = lastEnd;
      batch = null;
      batchTxns = 0;
      await commits.settle();
      if (txns === 0) await b.rollback();
      else {
        commits.start(b.commit(end, txns), (stats) => {
          merged = end;
          stream.acknowledge(end);
          transactions += stats.transactions;
          changes += stats.changes;
          options.metrics?.batchMerged(stats);
          log.debug({ lsn: formatLsn(end), ...stats }, 'batch merged');
        });
      }
    }
    if (wait) await commits.settle();
  };
  // Changes a table's snapshot already holds are skipped; once past every snapshot position
  // (the usual case) nothing needs checking.
  const lastSnapshotLsn = [...s.snapshotLsns.values()].reduce((a, b) => (a > b ? a : b), 0n);
  let checkSnapshots = false;
  const skipRow = (m: ChangeMessage & { table: { schema: string; name: string } }) => {
    if (!checkSnapshots) return false;
    const snap = s.snapshotLsns.get(tableKey(m.table));
    return snap !== undefined && commitLsn < snap;
  };

  try {
    for (;;) {
      commits.check();
      if (options.signal?.aborted && !inTxn) break;
      if (!inTxn && caughtUp()) break;
      const m = stream.poll() ?? (await stream.next(batch && !inTxn ? policy.idleMs : 1000));
      if (m === 'end') throw new CdcError('REPLICATION_FAILED', 'the source ended the replication stream', { retryable: true });
      if (m === 'timeout') {
        // Nothing is arriving: waiting for the commits costs nothing and tells at once whether
        // the run is caught up.
        if (!inTxn) await flush(true);
        if (s.targetLsn !== null) stream.requestKeepalive();
        continue;
      }
      switch (m.kind) {
        case 'begin':
          inTxn = true;
          commitLsn = m.commitLsn;
          commitTime = m.commitTime;
          skipTxn = m.commitLsn < s.merged;
          checkSnapshots = m.commitLsn < lastSnapshotLsn;
          if (!skipTxn && !batch) {
            batch = await sink.openBatch();
            batchOpenedAt = Date.now();
          }
          break;
        case 'relation':
          if (!skipTxn && batch) await batch.relation(m.table);
          break;
        case 'insert':
        case 'update':
        case 'delete':
          if (!skipTxn && !skipRow(m)) {
            const writing = batch!.row(m, commitLsn, commitTime);
            if (writing) await writing;
            options.metrics?.captured(m.table, m.kind);
          }
          break;
        case 'truncate': {
          if (skipTxn) break;
          const affected = m.tables.filter((t) => {
            const snap = s.snapshotLsns.get(tableKey(t));
            return snap === undefined || commitLsn >= snap;
          });
          if (affected.length) await batch!.truncate(affected);
          break;
        }
        case 'commit':
          inTxn = false;
          if (m.endLsn > lastEnd) lastEnd = m.endLsn;
          if (!skipTxn) {
            batchTxns++;
            if (batch && batchFull(policy, batch.changes, batchOpenedAt)) await flush(false);
          }
          options.metrics?.sourceCommit(m.commitTime);
          break;
        case 'idle':
          if (!inTxn) {
            await flush(true);
            if (m.lsn > merged) {
              merged = m.lsn;
              lastEnd = m.lsn;
              stream.acknowledge(m.lsn);
              await sink.recordIdlePosition(m.lsn);
            }
          }
          break;
      }
    }
    await flush(true);
  } catch (error) {
    if (batch) await batch.rollback().catch(() => undefined);
    await commits.drain();
    await sink.recordError(error);
    throw error;
  }
  return { transactions, changes, mergedLsn: merged };
}
