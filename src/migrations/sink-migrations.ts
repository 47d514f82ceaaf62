/**
 * How `cdc migrations` migrates a project sink, by its kind's dialect (the registry): with SQL
 * files on an environment's database (a dialect with `migrations`: PostgreSQL), or with schema
 * files on the sink's own location (a dialect with `lakeMigrations`). The commands ask this
 * module which one; no code here names a kind.
 */
import { CdcError } from '../errors.js';
import { substituteEnvironment } from '../config/yaml-file.js';
import type { SinkConfig } from '../config/project-config.js';
import type { Project } from '../project/project.js';
import { SINK_DIALECTS } from '../run/registry.js';
import type { LakeMigrationDialect, LakeTargetSection } from '../sinks/lake-migrations.js';
import type { SinkDialect } from '../sinks/sink-dialect.js';

/** A sink migrated with schema files on its own location. */
export interface LakeSinkMigrations {
  readonly mode: 'lake';
  readonly dialect: LakeMigrationDialect;
  /** `sinks.<name>.target`, validated by the kind (`${VAR}` not substituted yet: see {@link lakeTargetWithEnvironment}). */
  readonly target: LakeTargetSection;
}

/** How a sink is migrated: `sql` (the PostgreSQL path of src/migrations) or `lake`. */
export type SinkMigrations = { readonly mode: 'sql' } | LakeSinkMigrations;

const dialects = SINK_DIALECTS as unknown as Readonly<Record<string, SinkDialect<{ type: string; url: string }> | undefined>>;

/**
 * The migration mode of sink `name`.
 * @throws {CdcError} CONFIG_INVALID naming cdc.yaml and the field: an unknown `type`, a kind
 *   that has no migrations, a lake sink without a valid `target:` block, or a `target:` block on
 *   a sink migrated with SQL (which takes its database from `environments`).
 */
export function sinkMigrations(project: Project, name: string, sink: SinkConfig): SinkMigrations {
  const field = `${project.configFile}: sinks.${name}`;
  const dialect = dialects[sink.type];
  const migratable = Object.entries(dialects)
    .filter(([, d]) => d?.migrations || d?.lakeMigrations)
    .map(([type]) => type);
  if (!dialect || (!dialect.migrations && !dialect.lakeMigrations)) {
    throw new CdcError('CONFIG_INVALID', `${field}.type: ${JSON.stringify(sink.type)} is not a sink kind that cdc migrations can migrate`, {
      remedy: `use one of ${migratable.join(', ')}`,
      context: { file: project.configFile, field: `sinks.${name}.type` },
    });
  }
  if (dialect.lakeMigrations) {
    if (sink.target === undefined) {
      throw new CdcError('CONFIG_INVALID', `${field}: a ${sink.type} sink needs a target: block (where its tables live)`, {
        remedy: `add sinks.${name}.target: { location: /absolute/dir or s3://bucket/prefix } (the settings of cdc.yaml's target: section for ${sink.type}, without type)`,
        context: { file: project.configFile, field: `sinks.${name}.target` },
      });
    }
    const parsed = dialect.lakeMigrations.targetSchema.safeParse(sink.target);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const at = ['target', ...issue.path.map(String)].join('.');
      throw new CdcError('CONFIG_INVALID', `${field}.${at}: ${issue.message}`, {
        remedy: `give the settings of cdc.yaml's target: section for ${sink.type} (without type); the README lists them`,
        context: { file: project.configFile, field: `sinks.${name}.${at}` },
      });
    }
    return { mode: 'lake', dialect: dialect.lakeMigrations, target: parsed.data };
  }
  if (sink.target !== undefined) {
    throw new CdcError('CONFIG_INVALID', `${field}.target: a ${sink.type} sink takes no target: block; its database comes from environments:`, {
      remedy: `remove sinks.${name}.target, and apply with --env ENV (environments.<env>.database and PG_<ENV>_HOST, …)`,
      context: { file: project.configFile, field: `sinks.${name}.target` },
    });
  }
  return { mode: 'sql' };
}

/**
 * A lake sink's `target:` block with `${VAR}` replaced from the environment (storage keys), for
 * commands that open the location.
 * @throws {CdcError} CONFIG_INVALID naming the field whose variable is not set.
 */
export function lakeTargetWithEnvironment(project: Project, name: string, lake: LakeSinkMigrations): LakeTargetSection {
  return substituteEnvironment(lake.target, `${project.configFile}: sinks.${name}.target`);
}

/**
 * Checks that sink `name` is migrated with SQL (the functions of generate.ts and apply.ts).
 * @throws {CdcError} as {@link sinkMigrations}; CONFIG_INVALID for a lake sink (whose commands
 *   are those of sink-commands.ts).
 */
export function assertSqlSink(project: Project, name: string, sink: SinkConfig): void {
  if (sinkMigrations(project, name, sink).mode !== 'sql') {
    throw new CdcError('CONFIG_INVALID', `sink ${name} (${sink.type}) is migrated on its own location, not with SQL files`, {
      remedy: 'call generateSinkMigrations / applySinkMigrations (src/migrations/sink-commands.ts), as cdc migrations does',
    });
  }
}
