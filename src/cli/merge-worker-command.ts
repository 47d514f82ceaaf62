/**
 * `cdc merge-worker`: merges staging tables written by external writers (deferred mode,
 * DESIGN.md §4) until SIGTERM/SIGINT; running merges finish first (exit 0, or 130 after Ctrl-C).
 * Retryable start-up failures (the target down) are retried with capped exponential backoff.
 */
import type { Command } from 'commander';
import { CdcError } from '../errors.js';
import { parseDuration } from '../config/duration.js';
import { createLogger } from '../observability/logger.js';
import { startHttpServer, type HealthState } from '../observability/http.js';
import { MergeWorkerMetrics } from '../observability/merge-metrics.js';
import { retryWithBackoff } from '../run/backoff.js';
import { SINK_DIALECTS } from '../run/registry.js';
import { validatePostgresUrl } from '../sql/connect.js';
import { EXIT } from './errors.js';

interface MergeWorkerFlags {
  target: string;
  window: string;
  concurrency: string;
  stuckAfter: string;
  maxWait?: string;
  poll?: string;
  metricsPort?: string;
  metricsHost: string;
  logLevel?: string;
}

/** The dialect whose deferred merge `cdc merge-worker` runs (the only one that merges deferred today). */
const deferred = SINK_DIALECTS.postgresql.deferredMerge;

/** Registers `cdc merge-worker` on `program`. */
export function registerMergeWorkerCommand(program: Command): void {
  program
    .command('merge-worker')
    .description('merge staging tables filled by external writers (Kafka Connect, Redpanda Connect, …) after a batching window')
    .requiredOption('--target <url>', 'target PostgreSQL URL (with the cdc_management schema)')
    .option('--window <duration>', 'merge a table once no change was staged for this long', `${deferred.defaultWindowSeconds}s`)
    .option('--concurrency <n>', 'tables merged at once', '1')
    .option('--stuck-after <duration>', 'take over a claim this old (its merger died)', `${deferred.defaultStuckAfterSeconds}s`)
    .option('--max-wait <duration>', 'merge a busy table at the latest this long after its first unmerged change (default 10 × window)')
    .option('--poll <duration>', 'look for pending merges this often even without notifications (default: the window, at least 1s)')
    .option('--metrics-port <port>', 'serve /metrics and /health on this port')
    .option('--metrics-host <host>', 'address the metrics server binds (0.0.0.0 or :: for every interface)', '127.0.0.1')
    .option('--log-level <level>', 'debug, info, warn or error (default info)')
    .action(async (flags: MergeWorkerFlags) => {
      validatePostgresUrl(flags.target, 'target');
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new CdcError('CONFIG_INVALID', `--concurrency ${flags.concurrency} is not a number from 1 to 64`, { remedy: 'give the number of tables to merge at once' });
      }
      let metricsPort: number | undefined;
      if (flags.metricsPort !== undefined) {
        metricsPort = Number(flags.metricsPort);
        if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
          throw new CdcError('CONFIG_INVALID', `--metrics-port ${flags.metricsPort} is not a port number`, { remedy: 'give a number from 1 to 65535' });
        }
      }
      const windowMs = parseDuration(flags.window, '--window');
      const stuckAfterMs = parseDuration(flags.stuckAfter, '--stuck-after');
      const maxWaitMs = flags.maxWait === undefined ? undefined : parseDuration(flags.maxWait, '--max-wait');
      const pollMs = flags.poll === undefined ? undefined : parseDuration(flags.poll, '--poll');
      const log = createLogger(flags.logLevel ? { level: flags.logLevel } : {});
      const metrics = new MergeWorkerMetrics();
      const health: HealthState = { ready: false };
      const server = metricsPort !== undefined ? await startHttpServer({ port: metricsPort, host: flags.metricsHost, registry: metrics.registry, health }) : undefined;
      const controller = new AbortController();
      let interrupted = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) process.exit(EXIT.interrupted);
        interrupted = signal === 'SIGINT';
        log.info({ signal }, 'stopping: finishing running merges');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        // Once running, the worker rides out lost connections itself; a target that is down or
        // drops the connection while the worker starts is retried with the same abortable
        // backoff as `cdc run` (a signal during the wait stops at once).
        await retryWithBackoff(
          ({ healthy }) =>
            deferred.runWorker({
              url: flags.target,
              windowMs,
              concurrency,
              stuckAfterMs,
              ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
              ...(pollMs === undefined ? {} : { pollMs }),
              log,
              metrics,
              signal: controller.signal,
              onReady: () => {
                healthy();
                health.ready = true;
              },
            }),
          {
            signal: controller.signal,
            onRetry: ({ error, attempt, delayMs }) => {
              const code = error instanceof CdcError ? error.code : 'UNEXPECTED';
              metrics.errorsTotal.inc({ code });
              health.ready = false;
              log.warn({ code, error: error instanceof Error ? error.message : String(error), retryInMs: delayMs, attempt }, 'retryable failure');
            },
          },
        ).catch((error: unknown) => {
          if (controller.signal.aborted && error === controller.signal.reason) log.info('stopped while waiting to retry');
          else throw error;
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        server?.close();
      }
      process.exitCode = interrupted ? EXIT.interrupted : EXIT.ok;
    });
}
