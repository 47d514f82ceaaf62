/**
 * Prometheus metrics (prom-client) for a pipeline: changes captured and merged by table and
 * operation, batch sizes, merge duration, lag.
 */
import client from 'prom-client';
import type { TableId } from '../schema/table.js';
import { formatTableId } from '../schema/table.js';
import type { BatchStats } from '../sinks/change-sink.js';

/** The pipeline's metrics, registered on their own registry. */
export class Metrics {
  /** The registry to expose on /metrics. */
  readonly registry = new client.Registry();
  private readonly capturedTotal = new client.Counter({
    name: 'cdc_changes_captured_total',
    help: 'Row changes received from the source, by table and operation.',
    labelNames: ['table', 'op'] as const,
    registers: [this.registry],
  });
  private readonly mergedTotal = new client.Counter({
    name: 'cdc_changes_merged_total',
    help: 'Row changes merged into the target.',
    registers: [this.registry],
  });
  private readonly transactionsTotal = new client.Counter({
    name: 'cdc_transactions_merged_total',
    help: 'Source transactions merged into the target.',
    registers: [this.registry],
  });
  private readonly batchChanges = new client.Histogram({
    name: 'cdc_batch_changes',
    help: 'Row changes per merged batch.',
    buckets: [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000],
    registers: [this.registry],
  });
  private readonly batchSeconds = new client.Histogram({
    name: 'cdc_batch_merge_seconds',
    help: 'Time to land and merge one batch, in seconds.',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
    registers: [this.registry],
  });
  private readonly lagSeconds = new client.Gauge({
    name: 'cdc_lag_seconds',
    help: 'Seconds between the source commit of the last transaction received and now.',
    registers: [this.registry],
  });
  readonly errorsTotal = new client.Counter({
    name: 'cdc_errors_total',
    help: 'Errors by code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  /** Message sources: messages set aside in the dead-letter table. */
  readonly deadLetteredTotal = new client.Counter({
    name: 'cdc_messages_dead_lettered_total',
    help: 'Broker messages that could not be decoded and went to cdc_management.dead_letter.',
    registers: [this.registry],
  });
  /** Message sources: change events skipped as copies a connector sent again. */
  readonly replayedTotal = new client.Counter({
    name: 'cdc_changes_replayed_total',
    help: 'Debezium change events skipped because their source position was already merged (resent by a restarted connector).',
    registers: [this.registry],
  });

  private readonly capturedByTable = new WeakMap<TableId, Map<string, client.Counter.Internal>>();

  /** Counts one captured row change (hot path: label children are cached per table object). */
  captured(table: TableId, op: string): void {
    let byOp = this.capturedByTable.get(table);
    if (!byOp) this.capturedByTable.set(table, (byOp = new Map<string, client.Counter.Internal>()));
    let counter = byOp.get(op);
    if (!counter) byOp.set(op, (counter = this.capturedTotal.labels({ table: formatTableId(table), op })));
    counter.inc();
  }

  /** Records a merged batch. */
  batchMerged(stats: BatchStats): void {
    this.mergedTotal.inc(stats.changes);
    this.transactionsTotal.inc(stats.transactions);
    this.batchChanges.observe(stats.changes);
    this.batchSeconds.observe(stats.durationMs / 1000);
  }

  /** Updates lag from a source commit time. */
  sourceCommit(commitTime: Date): void {
    this.lagSeconds.set(Math.max(0, (Date.now() - commitTime.getTime()) / 1000));
  }
}
