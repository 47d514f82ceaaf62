/**
 * Prometheus metrics of `cdc merge-worker` (deferred merge mode), on their own registry.
 */
import client from 'prom-client';

/** The merge worker's metrics. */
export class MergeWorkerMetrics {
  /** The registry to expose on /metrics. */
  readonly registry = new client.Registry();
  /** Merges run by this worker, by table and result (`ok` or `error`). */
  readonly mergesTotal = new client.Counter({
    name: 'cdc_deferred_merges_total',
    help: 'Deferred merges run by this worker, by table and result.',
    labelNames: ['table', 'result'] as const,
    registers: [this.registry],
  });
  /** Staged rows merged, by table. */
  readonly rowsTotal = new client.Counter({
    name: 'cdc_deferred_merged_rows_total',
    help: 'Staged rows merged by this worker, by table.',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  /** Duration of one table's merge, in seconds. */
  readonly mergeSeconds = new client.Histogram({
    name: 'cdc_deferred_merge_seconds',
    help: 'Duration of one deferred merge, in seconds.',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300],
    registers: [this.registry],
  });
  /** Seconds from a table's last staged change to the start of its merge. */
  readonly delaySeconds = new client.Histogram({
    name: 'cdc_deferred_merge_delay_seconds',
    help: 'Seconds from the last staged change a merge saw to the start of that merge.',
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  /** Wake-ups, by cause (`notify` or `poll`). */
  readonly wakeupsTotal = new client.Counter({
    name: 'cdc_deferred_wakeups_total',
    help: 'Times the worker looked for pending merges, by cause.',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  /** Errors by code (connection losses included). */
  readonly errorsTotal = new client.Counter({
    name: 'cdc_errors_total',
    help: 'Errors by code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
}
