/**
 * `cdc run`: capture a source (PostgreSQL slot, Debezium events) into a target (DESIGN.md §1).
 * Flags override the config file; the service stops cleanly on SIGINT/SIGTERM (exit 130 on
 * Ctrl-C) and retries retryable failures with capped exponential backoff.
 */
import { CdcError, explainLostConnection } from '../errors.js';
import { Metrics } from '../observability/metrics.js';
import { createLogger } from '../observability/logger.js';
import { startHttpServer, type HealthState } from '../observability/http.js';
import { terminalProgress } from '../observability/progress.js';
import { RowIsolation } from '../pipeline/run.js';
import { retryWithBackoff } from '../run/backoff.js';
import { replicate } from '../run/replicate.js';
import { resolveRunSettings, type RunFlags } from '../run/run-settings.js';
import { EXIT } from './errors.js';

export type { RunFlags } from '../run/run-settings.js';

/** Runs `cdc run` and resolves to the process exit code. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const settings = resolveRunSettings(flags);
  const log = createLogger(flags.logLevel ? { level: flags.logLevel } : {});
  const metrics = new Metrics();
  const health: HealthState = { ready: false };
  const server = settings.metricsPort !== undefined ? await startHttpServer({ port: settings.metricsPort, host: settings.metricsHost, registry: metrics.registry, health }) : undefined;
  if (server) log.info({ address: server.address() }, 'metrics and health endpoints listening');

  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.warn('second signal: exiting now');
      process.exit(EXIT.interrupted);
    }
    interrupted = signal === 'SIGINT';
    log.info({ signal }, 'stopping: merging the open batch, then exiting');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Retryable failures start over (pending migrations first, then the run) after a capped,
    // abortable backoff that starts again from 1 s once a run has reached streaming.
    let result;
    // Kept across attempts: a batch the target rejected is merged row by row on the next one.
    const rowIsolation = new RowIsolation();
    try {
      result = await retryWithBackoff(
        async ({ healthy }) => {
          try {
            await settings.project?.applyMigrations(settings.target, log);
            return await replicate({
              name: settings.name,
              source: settings.source,
              target: settings.target,
              log,
              metrics,
              signal: controller.signal,
              batchPolicy: settings.batchPolicy,
              progress: terminalProgress(),
              untilCaughtUp: settings.untilCaughtUp,
              resync: settings.resync,
              onRejectedRow: settings.onRejectedRow,
              rowIsolation,
              ...(settings.tableMapping ? { tableMapping: settings.tableMapping } : {}),
              onStreaming: () => {
                healthy();
                health.ready = true;
                delete health.lastError;
              },
            });
          } catch (caught) {
            // A lost connection that no connection wrapper named (a COPY stream, a pool): still
            // CONNECTION_LOST, and retried.
            const error = explainLostConnection(caught, 'the source or the target');
            metrics.errorsTotal.inc({ code: error instanceof CdcError ? error.code : 'UNEXPECTED' });
            health.ready = false;
            health.lastError = error instanceof Error ? error.message : String(error);
            throw error;
          }
        },
        {
          signal: controller.signal,
          // A one-off catch-up gives up after 5 failures in a row; a service keeps trying.
          ...(settings.untilCaughtUp ? { maxConsecutiveFailures: 5 } : {}),
          onRetry: ({ error, attempt, delayMs }) =>
            log.warn({ code: error instanceof CdcError ? error.code : 'UNEXPECTED', error: health.lastError, retryInMs: delayMs, attempt }, 'retryable failure'),
        },
      );
    } catch (error) {
      // Stopped while waiting to retry: nothing is open, so this is a clean stop.
      if (controller.signal.aborted && error === controller.signal.reason) {
        log.info('stopped while waiting to retry');
        return interrupted ? EXIT.interrupted : EXIT.ok;
      }
      throw error;
    }
    log.info(
      {
        tables: result.tables.length,
        snapshotRows: result.snapshotRows,
        transactions: result.transactions,
        messages: result.messages,
        changes: result.changes,
        deadLettered: result.deadLettered,
        merged: [...result.positions.values()].map((p) => p.text),
      },
      settings.untilCaughtUp && !controller.signal.aborted ? 'caught up' : 'stopped',
    );
    return interrupted ? EXIT.interrupted : EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    server?.close();
  }
}
