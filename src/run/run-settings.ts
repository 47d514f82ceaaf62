/**
 * What `cdc run` runs: the config file (if any) and the flags resolved into the settings of one
 * source, one target and the pipeline. Flags override the file.
 */
import { CdcError } from '../errors.js';
import { parseTablePatterns, type TablePattern } from '../config/table-pattern.js';
import type { RunConfigFile } from '../config/run-config.js';
import { DEFAULT_BATCH_POLICY, type BatchPolicy } from '../pipeline/batch-policy.js';
import type { TableMapping } from '../pipeline/mapped-sink.js';
import { validatePostgresUrl } from '../sql/connect.js';
import { loadRunConfig } from './config.js';
import { resolveLakeTarget, SOURCE_KINDS, type SourceConfig, type TargetConfig } from './registry.js';
import { runProject, type RunProject } from './run-project.js';

/** Flags of `cdc run` as commander parses them. */
export interface RunFlags {
  config?: string;
  source?: string;
  target?: string;
  tables?: string;
  name?: string;
  untilCaughtUp?: boolean;
  metricsPort?: string;
  metricsHost?: string;
  resync?: boolean;
  softDelete?: boolean;
  onRejectedRow?: string;
  logLevel?: string;
}

/** Settings after merging file and flags. */
export interface RunSettings {
  /** Pipeline name. */
  readonly name: string;
  readonly source: SourceConfig;
  readonly target: TargetConfig;
  readonly untilCaughtUp: boolean;
  readonly metricsPort: number | undefined;
  /** Where the metrics server binds (`--metrics-host`, `metrics_host`; default 127.0.0.1). */
  readonly metricsHost: string;
  readonly resync: boolean;
  readonly batchPolicy: BatchPolicy;
  /** A row the target rejects: set aside in the dead-letter table (default), or stop. */
  readonly onRejectedRow: 'dead_letter' | 'stop';
  /** The project's contribution (cdc.yaml with `sinks:`), if any. */
  readonly project: RunProject | undefined;
  readonly tableMapping: TableMapping | undefined;
  /** The shared part of the config file (empty without one). */
  readonly file: RunConfigFile;
}

/**
 * Merges the config file (if any) and flags.
 * @throws {CdcError} CONFIG_INVALID for a missing URL, bad port or bad file.
 */
export function resolveRunSettings(flags: RunFlags): RunSettings {
  const config = flags.config ? loadRunConfig(flags.config) : {};
  const { source: fileSource, target: fileTarget, debezium: legacyDebezium, ...file } = config as Partial<ReturnType<typeof loadRunConfig>>;
  const project = flags.config ? runProject(flags.config, file) : undefined;
  const name = flags.name ?? file.name ?? 'cdc';

  const patterns: readonly TablePattern[] =
    project && project.patterns.length > 0 && !flags.tables ? project.patterns : parseTablePatterns(flags.tables ?? (file.tables ?? []).join(','));
  const parallelism = file.snapshot?.parallelism ?? 2;
  let source: SourceConfig;
  const debezium = fileSource?.type === 'debezium' ? fileSource : legacyDebezium;
  if (flags.source !== undefined || !debezium) {
    const url = flags.source ?? (fileSource?.type === 'postgres' ? fileSource.url : undefined);
    if (!url) throw new CdcError('CONFIG_INVALID', 'no source given', { remedy: 'pass --source postgres://… or set source.url in the config file' });
    validatePostgresUrl(url, 'source');
    source = { type: 'postgres', url, patterns, snapshotParallelism: parallelism };
  } else {
    const resolved = SOURCE_KINDS.debezium.fromYaml(debezium);
    source = { ...resolved, ...(project ? { keyOf: project.keyOf, columnTypes: project.columnTypes } : {}) };
  }

  // A project's lake sink names its location in sinks.<name>.target: the run writes there unless told otherwise.
  const schemaPolicy = { drop: file.schema_changes?.drop ?? 'ignore', typeChange: file.schema_changes?.type_change ?? 'apply', rename: file.schema_changes?.rename ?? 'apply' } as const;
  // A lake sink has its own defaults for what cdc.yaml leaves out.
  const schemaChanges = {
    ...(file.schema_changes?.drop ? { drop: file.schema_changes.drop } : {}),
    ...(file.schema_changes?.type_change ? { typeChange: file.schema_changes.type_change } : {}),
    ...(file.schema_changes?.rename ? { rename: file.schema_changes.rename } : {}),
  };
  const lake = resolveLakeTarget(flags.target, fileTarget ?? project?.target, { softDelete: flags.softDelete || (file.soft_delete ?? project?.softDelete ?? false), schemaChanges });
  const targetUrl = flags.target ?? (fileTarget?.type === 'postgresql' ? fileTarget.url : undefined);
  if (!lake && !targetUrl) throw new CdcError('CONFIG_INVALID', 'no target given', { remedy: 'pass --target postgres://… or set target.url in the config file' });
  if (!lake) validatePostgresUrl(targetUrl!, 'target');
  const target: TargetConfig = lake ?? {
    type: 'postgresql',
    url: targetUrl!,
    snapshotConnections: parallelism,
    tableOptions: { softDelete: flags.softDelete || (file.soft_delete ?? project?.softDelete ?? false) },
    schemaPolicy,
  };

  const onRejectedRow = flags.onRejectedRow ?? file.on_rejected_row ?? 'dead_letter';
  if (onRejectedRow !== 'dead_letter' && onRejectedRow !== 'stop') {
    throw new CdcError('CONFIG_INVALID', `--on-rejected-row ${onRejectedRow} is neither dead_letter nor stop`, { remedy: 'give dead_letter (set rejected rows aside) or stop' });
  }

  let metricsPort: number | undefined = file.metrics_port;
  if (flags.metricsPort !== undefined) {
    metricsPort = Number(flags.metricsPort);
    if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
      throw new CdcError('CONFIG_INVALID', `--metrics-port ${flags.metricsPort} is not a port number`, { remedy: 'give a number from 1 to 65535' });
    }
  }
  const metricsHost = flags.metricsHost ?? file.metrics_host ?? '127.0.0.1';
  if (metricsHost.trim() === '') throw new CdcError('CONFIG_INVALID', '--metrics-host is empty', { remedy: 'give an address to bind, e.g. 127.0.0.1, 0.0.0.0 or ::' });
  return {
    name,
    source,
    target,
    untilCaughtUp: flags.untilCaughtUp ?? false,
    metricsPort,
    metricsHost,
    resync: flags.resync ?? false,
    onRejectedRow,
    batchPolicy: {
      maxChanges: file.batch?.max_changes ?? DEFAULT_BATCH_POLICY.maxChanges,
      maxAgeMs: file.batch?.max_age_ms ?? DEFAULT_BATCH_POLICY.maxAgeMs,
      idleMs: file.batch?.idle_ms ?? DEFAULT_BATCH_POLICY.idleMs,
    },
    project,
    tableMapping: project?.mapping,
    file,
  };
}
