/**
 * What `cdc run --config cdc.yaml` takes from a project (DESIGN.md §5) when the file declares
 * sinks: the tables of the PostgreSQL services' definitions (unless `tables` is set), the sink's
 * naming and schema map for target tables, each defined table's options (soft delete) and the
 * sink's default, primary keys from the definitions (for Debezium events that carry no record
 * key), and its generated migrations, applied to the target before the pipeline starts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { exactPattern, type TablePattern } from '../config/table-pattern.js';
import type { RunConfigFile } from '../config/run-config.js';
import { CdcError } from '../errors.js';
import { migrationsDir, readManifestIfAny } from '../migrations/generate.js';
import { applySinkMigrations } from '../migrations/sink-commands.js';
import { sinkMigrations } from '../migrations/sink-migrations.js';
import type { LakeStorageConfig } from '../sinks/lake/open-lake-storage.js';
import { MANIFEST_FILE } from '../migrations/manifest.js';
import type { TableMapping } from '../pipeline/mapped-sink.js';
import { loadProject, projectSink, sinkDefinitions } from '../project/project.js';
import { tableKey, type TableSchemaOptions } from '../schema/table.js';
import { assertRunnableSink, mapSourceTable, mapTableId, targetTables } from '../schema/target-table.js';
import { mapColumnType } from '../schema/type-map.js';

/** The project's contribution to a run. */
export interface RunProject {
  /** Exact patterns of the defined tables; empty when the config has `tables` or no definitions. */
  readonly patterns: readonly TablePattern[];
  /**
   * Source → target tables; a defined table's target also carries its options (`options`, e.g.
   * soft delete), as its migrations built it, so that the sink never rebuilds its objects with
   * other semantics. Tables without a definition carry none (the sink's defaults apply).
   */
  readonly mapping: TableMapping;
  /** The sink's soft-delete default (the run's `soft_delete`, else the sink's): for tables without a definition. */
  readonly softDelete: boolean;
  /**
   * Column types of the defined tables, by source name, mapped to PostgreSQL types through the
   * type maps: how Debezium events without an embedded schema are read.
   */
  readonly columnTypes: readonly { id: { schema: string; name: string }; columns: { name: string; type: string }[] }[];
  /** Primary-key columns of a source table from its YAML definition (any dialect), if defined. */
  readonly keyOf: (table: { schema: string; name: string }) => readonly string[] | undefined;
  /**
   * The sink's `target:` block with its `type` (lake sinks: `sinks.<name>.target`, `${VAR}`
   * substituted), for a run whose cdc.yaml has no `target:` section; undefined otherwise.
   */
  readonly target: { readonly type: string } | undefined;
  /**
   * Applies pending migrations to the run's target (no-op without generated migrations): a SQL
   * sink's to the target database `target.url`; a lake sink's to the location `target.url`
   * (reached with `target.storage`).
   * @throws {CdcError} CONFIG_INVALID when a lake sink's kind is not the target's; the errors of
   *   `applySinkMigrations`.
   */
  applyMigrations(target: RunTarget, log: Logger): Promise<void>;
}

/** What {@link RunProject.applyMigrations} needs of the run's target. */
export interface RunTarget {
  readonly type: string;
  /** The database URL, or the lake location as given. */
  readonly url: string;
  /** How to reach an `s3://` lake location. */
  readonly storage?: LakeStorageConfig;
}

/**
 * The project settings for `cdc run`, or undefined when cdc.yaml declares no sinks.
 * @throws {CdcError} as `loadProject`, `projectSink` and `assertRunnableSink`.
 */
export function runProject(configFile: string, file: RunConfigFile): RunProject | undefined {
  if (!file.sinks) return undefined;
  const project = loadProject(configFile);
  const { name, sink } = projectSink(project);
  assertRunnableSink(sink, name);
  const mode = sinkMigrations(project, name, sink);
  // The run's file has `${VAR}` substituted; the project's does not.
  const runTarget = file.sinks?.[name]?.target;
  const definitions = sinkDefinitions(project, sink).filter((d) => d.dialect === 'postgresql');
  const manifest = join(migrationsDir(project, name), MANIFEST_FILE);
  const keys = new Map(sinkDefinitions(project, sink).map((d) => [`${d.schema}\u0000${d.table}`, d.primaryKey]));
  const options = tableOptions(sinkDefinitions(project, sink), sink, readManifestIfAny(migrationsDir(project, name))?.tables ?? []);
  return {
    patterns: file.tables ? [] : definitions.map((d) => exactPattern({ schema: d.schema, name: d.table })),
    mapping: {
      table: (t) => {
        const target = mapSourceTable(t, sink);
        const own = options.get(tableKey(t.id));
        return own ? { ...target, options: own } : target;
      },
      id: (i) => mapTableId(i, sink),
    },
    softDelete: file.soft_delete ?? sink.soft_delete,
    columnTypes: sinkDefinitions(project, sink).map((d) => ({
      id: { schema: d.schema, name: d.table },
      columns: d.columns.map((c) => ({ name: c.name, type: mapColumnType(d.dialect, c.type, { table: `${d.schema}.${d.table}`, column: c.name }).type })),
    })),
    keyOf: (t) => {
      const key = keys.get(`${t.schema}\u0000${t.name}`);
      return key && key.length > 0 ? key : undefined;
    },
    target: mode.mode === 'lake' && runTarget ? { ...runTarget, type: sink.type } : undefined,
    async applyMigrations(target, log) {
      if (!existsSync(manifest)) return;
      const lines = (line: string) => log.info(line);
      if (mode.mode === 'lake' && target.type !== sink.type) {
        throw new CdcError('CONFIG_INVALID', `${configFile}: sink ${name} is a ${sink.type} sink, but cdc run writes to a ${target.type} target`, {
          remedy: `leave out target: (cdc run then writes to sinks.${name}.target), or give a ${sink.type} target`,
        });
      }
      const result =
        mode.mode === 'lake'
          ? await applySinkMigrations({ project, sink: name, where: { location: target.url, ...(target.storage ? { storage: target.storage } : {}) }, log: lines })
          : await applySinkMigrations({ project, sink: name, url: target.url, log: lines });
      const ran = result.decisions.filter((d) => d.action !== 'skip').length;
      log.info({ sink: name, ran, files: result.decisions.length }, 'target migrations checked');
    },
  };
}

/**
 * Per source table (`tableKey` of its source id), the options its target objects are built with:
 * those of its migrated state in the manifest (what `apply` created), else its definition's
 * (`options.soft_delete`, else the sink's `soft_delete`, as `generate` would write them).
 */
function tableOptions(
  definitions: Parameters<typeof targetTables>[0],
  sink: Parameters<typeof targetTables>[1],
  states: readonly { schema: string; name: string; soft_delete: boolean }[],
): Map<string, TableSchemaOptions> {
  const migrated = new Map(states.map((s) => [tableKey(s), s.soft_delete]));
  return new Map(
    targetTables(definitions, sink).map((t) => [
      tableKey({ schema: t.definition.schema, name: t.definition.table }),
      { softDelete: migrated.get(tableKey(t.table.id)) ?? t.softDelete, staging: sink.staging },
    ]),
  );
}
