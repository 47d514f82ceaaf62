/**
 * cdc.yaml as `cdc run` reads it: the shared fields (`src/config/run-config.ts`) with a `source`
 * and a `target` section whose schemas come from the registered kinds. `type` may be left out
 * (`source: { url }` is a PostgreSQL source, `target: { url }` a PostgreSQL target), and the
 * top-level `debezium:` section of earlier releases is still read as `source: { type: debezium }`.
 * `${VAR}` anywhere in a string value is replaced by the environment variable VAR (an unset
 * variable is an error, so a typo never becomes an empty password). Errors name the file, the
 * line and the field.
 */
import { z } from 'zod';
import { makeRunConfigSchema } from '../config/run-config.js';
import { loadYamlFile } from '../config/yaml-file.js';
import { SOURCE_KINDS, targetSchemas } from './registry.js';

/** Adds `type: fallback` to an object section that has none. */
function defaultType(fallback: string) {
  return (value: unknown) => (value && typeof value === 'object' && !Array.isArray(value) && !('type' in value) ? { type: fallback, ...value } : value);
}

/** The YAML schema of cdc.yaml as `cdc run` reads it. */
export const runConfigSchema = makeRunConfigSchema({
  source: z.preprocess(defaultType('postgres'), z.discriminatedUnion('type', [SOURCE_KINDS.postgres.configSchema, SOURCE_KINDS.debezium.configSchema])),
  target: z.preprocess(defaultType('postgresql'), z.discriminatedUnion('type', targetSchemas() as [ReturnType<typeof targetSchemas>[number]])),
  legacy: { debezium: SOURCE_KINDS.debezium.legacySectionSchema.optional() },
}).refine((c) => !(c.debezium && c.source), { message: 'give the Debezium settings either as source: { type: debezium, … } or as the older debezium: section, not both', path: ['debezium'] });

/** cdc.yaml as parsed. */
export type RunConfig = z.infer<typeof runConfigSchema>;

/**
 * Reads and validates a config file; `${VAR}` is replaced from the environment.
 * @throws {CdcError} CONFIG_INVALID naming file, line and field: unreadable file, YAML syntax
 *   error, unknown or mistyped field, unset `${VAR}`.
 */
export function loadRunConfig(file: string): RunConfig {
  return loadYamlFile(file, runConfigSchema, { what: 'config file', substituteEnv: true, remedy: 'fix that field; the README lists every field of cdc.yaml' }).data;
}
