/**
 * A cdc project directory (DESIGN.md §5): `cdc.yaml`, `schemas/<service>/<schema>/<table>.yaml`
 * and `migrations/<sink>/`. Loading it validates every file; errors name the file, line and field.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CdcError } from '../errors.js';
import { projectRunConfigSchema, type RunConfigFile } from '../config/run-config.js';
import type { SinkConfig } from '../config/project-config.js';
import { sinkSchema } from '../config/project-config.js';
import { loadTableFile } from '../config/table-file.js';
import { loadYamlFile } from '../config/yaml-file.js';
import { matchesPattern, parseTablePatterns } from '../config/table-pattern.js';
import type { TableDefinition } from '../schema/definition.js';

/** Folder of the table definition files, under the project directory. */
export const SCHEMAS_DIR = 'schemas';
/** Folder of the generated migrations, under the project directory (one folder per sink). */
export const MIGRATIONS_DIR = 'migrations';

/** A loaded project. */
export interface Project {
  /** The project directory (the folder of cdc.yaml). */
  readonly dir: string;
  /** Path of cdc.yaml as given. */
  readonly configFile: string;
  /** cdc.yaml, validated (`${VAR}` not substituted: migrations need no secrets). */
  readonly config: RunConfigFile;
  /** Every table definition under `schemas/`, sorted by service, schema, table. */
  readonly definitions: readonly TableDefinition[];
}

/** Code-point order, independent of locale: generated output must not depend on the machine. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function listDir(dir: string): string[] {
  return readdirSync(dir).sort(byCodePoint);
}

/**
 * Loads `configFile` and the table definitions beside it.
 * @throws {CdcError} CONFIG_INVALID for a missing or invalid cdc.yaml; DEFINITION_INVALID for a
 *   table file that is invalid, sits in a folder of a service cdc.yaml does not declare, or is
 *   not at `schemas/<service>/<schema>/<table>.yaml`.
 */
export function loadProject(configFile: string): Project {
  if (!existsSync(configFile)) {
    throw new CdcError('CONFIG_INVALID', `no project config at ${configFile}`, {
      remedy: 'run the command in a project directory, pass --config path/to/cdc.yaml, or create one with cdc init',
      context: { file: configFile },
    });
  }
  const config = loadYamlFile(configFile, projectRunConfigSchema, { what: 'config file' }).data;
  const dir = dirname(configFile);
  const definitions: TableDefinition[] = [];
  const schemasDir = join(dir, SCHEMAS_DIR);
  if (existsSync(schemasDir)) {
    for (const service of listDir(schemasDir)) {
      const serviceDir = join(schemasDir, service);
      if (!statSync(serviceDir).isDirectory()) continue;
      const declared = config.services?.[service];
      if (!declared) {
        throw new CdcError('DEFINITION_INVALID', `${relative(process.cwd(), serviceDir) || serviceDir}: service ${JSON.stringify(service)} is not declared in ${configFile}`, {
          remedy: `add services: { ${service}: { dialect: mssql | postgresql } } to ${configFile}, or remove the folder`,
          context: { file: serviceDir },
        });
      }
      for (const schema of listDir(serviceDir)) {
        const schemaDir = join(serviceDir, schema);
        if (!statSync(schemaDir).isDirectory()) {
          throw new CdcError('DEFINITION_INVALID', `${schemaDir}: expected a folder per source schema (schemas/<service>/<schema>/<table>.yaml)`, {
            remedy: 'move the file into a folder named after its source schema',
            context: { file: schemaDir },
          });
        }
        for (const file of listDir(schemaDir)) {
          if (!/\.ya?ml$/.test(file)) continue;
          const path = join(schemaDir, file);
          definitions.push(loadTableFile(path, service, declared.dialect, { schema, table: file.replace(/\.ya?ml$/, '') }));
        }
      }
    }
  }
  return { dir, configFile, config, definitions };
}

/**
 * The sink named `name`, or the only one when `name` is omitted.
 * @throws {CdcError} CONFIG_INVALID when cdc.yaml has no sinks, has several and none was chosen,
 *   or lacks `name`.
 */
export function projectSink(project: Project, name?: string): { name: string; sink: SinkConfig } {
  const sinks = project.config.sinks ?? {};
  const names = Object.keys(sinks).sort(byCodePoint);
  if (names.length === 0) {
    return { name: name ?? 'postgres', sink: sinkSchema.parse({}) };
  }
  const chosen = name ?? (names.length === 1 ? names[0] : undefined);
  if (chosen === undefined) {
    throw new CdcError('CONFIG_INVALID', `${project.configFile} declares several sinks (${names.join(', ')})`, {
      remedy: 'choose one with --sink NAME',
    });
  }
  const sink = sinks[chosen];
  if (!sink) {
    throw new CdcError('CONFIG_INVALID', `${project.configFile} has no sink ${JSON.stringify(chosen)} (sinks: ${names.join(', ')})`, {
      remedy: 'pass one of those to --sink, or add it under sinks:',
    });
  }
  return { name: chosen, sink };
}

/**
 * The definitions that go to `sink`: those of its `services` (all when unset) matching its
 * `tables` patterns (source `schema.table`; all when unset).
 * @throws {CdcError} CONFIG_INVALID for a malformed pattern.
 */
export function sinkDefinitions(project: Project, sink: SinkConfig): TableDefinition[] {
  let patterns: ReturnType<typeof parseTablePatterns> = [];
  try {
    patterns = parseTablePatterns((sink.tables ?? []).join(','));
  } catch (error) {
    throw new CdcError('CONFIG_INVALID', `${project.configFile}: sinks.*.tables: ${(error as Error).message}`, { cause: error, remedy: 'fix the pattern' });
  }
  return project.definitions.filter(
    (d) =>
      (sink.services === undefined || sink.services.includes(d.service)) &&
      (patterns.length === 0 || patterns.some((p) => matchesPattern(p, { schema: d.schema, name: d.table }))),
  );
}
