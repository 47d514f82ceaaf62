/**
 * `cdc run`: replicate a PostgreSQL source into a PostgreSQL target (DESIGN.md §1).
 * Flags override the config file; the service stops cleanly on SIGINT/SIGTERM (exit 130 on
 * Ctrl-C) and retries retryable failures with capped exponential backoff.
 */
import type { Logger } from 'pino';
import { CdcError, isRetryable } from '../errors.js';
import { parseTablePatterns } from '../config/table-pattern.js';
import { loadRunConfig, type RunConfigFile } from '../config/run-config.js';
import { formatLsn } from '../events/position.js';
import { Metrics } from '../observability/metrics.js';
import { createLogger } from '../observability/logger.js';
import { startHttpServer, type HealthState } from '../observability/http.js';
import { terminalProgress } from '../observability/progress.js';
import { DEFAULT_BATCH_POLICY } from '../pipeline/batch-policy.js';
import { validatePostgresUrl } from '../sql/connect.js';
import { EXIT } from './errors.js';
import { replicate } from './replicate.js';
import { runProject } from './run-project.js';
import { replicateDebezium, type DebeziumBroker } from './replicate-debezium.js';

/** Flags of `cdc run` as commander parses them. */
export interface RunFlags {
  config?: string;
  source?: string;
  target?: string;
  tables?: string;
  name?: string;
  untilCaughtUp?: boolean;
  metricsPort?: string;
  resync?: boolean;
  softDelete?: boolean;
  logLevel?: string;
}

/** Settings after merging file and flags. */
export interface RunSettings {
  readonly name: string;
  readonly sourceUrl: string;
  readonly targetUrl: string;
  readonly tables: string;
  readonly untilCaughtUp: boolean;
  readonly metricsPort: number | undefined;
  readonly resync: boolean;
  readonly file: RunConfigFile;
}

/** The broker of a config file's `debezium` section (validated: exactly one of nats, kafka). */
function debeziumBroker(debezium: NonNullable<RunConfigFile['debezium']>): DebeziumBroker {
  if (debezium.nats) return { kind: 'nats', ...debezium.nats };
  const k = debezium.kafka!;
  return {
    kind: 'kafka',
    brokers: k.brokers,
    ...(k.topics ? { topics: k.topics } : {}),
    ...(k.topic_pattern !== undefined ? { topicPattern: k.topic_pattern } : {}),
    ...(k.group_id !== undefined ? { groupId: k.group_id } : {}),
    ...(k.tls ? { tls: true } : {}),
    ...(k.sasl ? { sasl: k.sasl } : {}),
  };
}

/**
 * Merges the config file (if any) and flags.
 * @throws {CdcError} CONFIG_INVALID for a missing URL, bad port or bad file.
 */
export function resolveRunSettings(flags: RunFlags): RunSettings {
  const file = flags.config ? loadRunConfig(flags.config) : {};
  const sourceUrl = flags.source ?? file.source?.url ?? (file.debezium ? (file.debezium.nats?.url ?? file.debezium.kafka?.brokers.join(',')) : undefined);
  const targetUrl = flags.target ?? file.target?.url;
  if (!sourceUrl) throw new CdcError('CONFIG_INVALID', 'no source given', { remedy: 'pass --source postgres://… or set source.url in the config file' });
  if (!targetUrl) throw new CdcError('CONFIG_INVALID', 'no target given', { remedy: 'pass --target postgres://… or set target.url in the config file' });
  if (!file.debezium || flags.source) validatePostgresUrl(sourceUrl, 'source');
  validatePostgresUrl(targetUrl, 'target');
  let metricsPort: number | undefined = file.metrics_port;
  if (flags.metricsPort !== undefined) {
    metricsPort = Number(flags.metricsPort);
    if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
      throw new CdcError('CONFIG_INVALID', `--metrics-port ${flags.metricsPort} is not a port number`, { remedy: 'give a number from 1 to 65535' });
    }
  }
  return {
    name: flags.name ?? file.name ?? 'cdc',
    sourceUrl,
    targetUrl,
    tables: flags.tables ?? (file.tables ?? []).join(','),
    untilCaughtUp: flags.untilCaughtUp ?? false,
    metricsPort,
    resync: flags.resync ?? false,
    file: { ...file, ...(flags.softDelete ? { soft_delete: true } : {}) },
  };
}

/** Runs `cdc run` and resolves to the process exit code. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const settings = resolveRunSettings(flags);
  const project = flags.config ? runProject(flags.config, settings.file) : undefined;
  const patterns = project && project.patterns.length > 0 && !flags.tables ? [...project.patterns] : parseTablePatterns(settings.tables);
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
  // What both kinds of source share: batching, target tables, schema changes, readiness.
  const common = {
    targetUrl: settings.targetUrl,
    name: settings.name,
    log,
    metrics,
    signal: controller.signal,
    batchPolicy: {
      maxChanges: settings.file.batch?.max_changes ?? DEFAULT_BATCH_POLICY.maxChanges,
      maxAgeMs: settings.file.batch?.max_age_ms ?? DEFAULT_BATCH_POLICY.maxAgeMs,
      idleMs: settings.file.batch?.idle_ms ?? DEFAULT_BATCH_POLICY.idleMs,
    },
    tableOptions: { softDelete: flags.softDelete || (project?.softDelete ?? settings.file.soft_delete ?? false) },
    schemaPolicy: { drop: settings.file.schema_changes?.drop ?? 'ignore', typeChange: settings.file.schema_changes?.type_change ?? 'apply' },
    ...(project ? { tableMapping: project.mapping } : {}),
    onStreaming: () => {
      health.ready = true;
      delete health.lastError;
    },
  } as const;
  // Retryable failures start over: pending migrations first, then the source's run.
  const attempt = <T>(run: () => Promise<T>): Promise<T> =>
    withRetries(
      log,
      settings,
      controller.signal,
      async () => {
        await project?.applyMigrations(settings.targetUrl, log);
        return run();
      },
      health,
      metrics,
    );
  try {
    if (settings.file.debezium && !flags.source) {
      const debezium = settings.file.debezium;
      const result = await attempt(() =>
        replicateDebezium({
          ...common,
          broker: debeziumBroker(debezium),
          ...(debezium.on_invalid ? { onInvalid: debezium.on_invalid } : {}),
          ...(debezium.keys ? { keys: debezium.keys } : {}),
          ...(debezium.routes ? { routes: debezium.routes } : {}),
          ...(project ? { keyOf: project.keyOf, columnTypes: project.columnTypes } : {}),
          ...(debezium.binary_handling_mode ? { binaryHandlingMode: debezium.binary_handling_mode } : {}),
          untilIdle: settings.untilCaughtUp,
        }),
      );
      log.info(
        { messages: result.messages, changes: result.changes, deadLettered: result.deadLettered, replayed: result.replayed, merged: result.merged.toString() },
        settings.untilCaughtUp && !controller.signal.aborted ? 'caught up' : 'stopped',
      );
      return interrupted ? EXIT.interrupted : EXIT.ok;
    }
    const result = await attempt(() =>
      replicate({
        ...common,
        sourceUrl: settings.sourceUrl,
        patterns,
        progress: terminalProgress(),
        untilCaughtUp: settings.untilCaughtUp,
        resync: settings.resync,
        snapshotParallelism: settings.file.snapshot?.parallelism ?? 2,
      }),
    );
    log.info(
      { tables: result.tables.length, snapshotRows: result.snapshotRows, transactions: result.transactions, changes: result.changes, merged: formatLsn(result.mergedLsn) },
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
