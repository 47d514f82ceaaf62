/**
 * `cdc run`: capture a source (PostgreSQL slot, Debezium events) into a target (DESIGN.md §1).
 * Flags override the config file; the service stops cleanly on SIGINT/SIGTERM (exit 130 on
 * Ctrl-C) and retries retryable failures with capped exponential backoff.
 */
import type { Logger } from 'pino';
import { CdcError, isRetryable } from '../errors.js';
import { Metrics } from '../observability/metrics.js';
import { createLogger } from '../observability/logger.js';
import { startHttpServer, type HealthState } from '../observability/http.js';
import { terminalProgress } from '../observability/progress.js';
import { replicate } from '../run/replicate.js';
import { resolveRunSettings, type RunFlags, type RunSettings } from '../run/run-settings.js';
import { EXIT } from './errors.js';

export type { RunFlags } from '../run/run-settings.js';

/** Runs `cdc run` and resolves to the process exit code. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const settings = resolveRunSettings(flags);
  const log = createLogger(flags.logLevel ? { level: flags.logLevel } : {});
  const metrics = new Metrics();
  const health: HealthState = { ready: false };
  const server = settings.metricsPort !== undefined ? await startHttpServer({ port: settings.metricsPort, registry: metrics.registry, health }) : undefined;
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
    // Retryable failures start over: pending migrations first, then the run.
    const result = await withRetries(
      log,
      settings,
      controller.signal,
      async () => {
        await settings.project?.applyMigrations(settings.target.url, log);
        return replicate({
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
          ...(settings.tableMapping ? { tableMapping: settings.tableMapping } : {}),
          onStreaming: () => {
            health.ready = true;
            delete health.lastError;
          },
        });
      },
      health,
      metrics,
    );
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

async function withRetries<T>(
  log: Logger,
  settings: RunSettings,
  signal: AbortSignal,
  attempt: () => Promise<T>,
  health: HealthState,
  metrics: Metrics,
): Promise<T> {
  const maxAttempts = settings.untilCaughtUp ? 5 : Infinity;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const code = error instanceof CdcError ? error.code : 'UNEXPECTED';
      metrics.errorsTotal.inc({ code });
      health.ready = false;
      health.lastError = error instanceof Error ? error.message : String(error);
      if (!isRetryable(error) || n >= maxAttempts || signal.aborted) throw error;
      // Capped exponential backoff: 1 s, 2 s, 4 s … 30 s.
      const delayMs = Math.min(30_000, 1000 * 2 ** (n - 1));
      log.warn({ code, error: health.lastError, retryInMs: delayMs, attempt: n }, 'retryable failure');
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
