/**
 * The configuration of `cdc run`: from a YAML file (`--config cdc.yaml`), overridden by flags.
 * `${VAR}` anywhere in a string value is replaced by the environment variable VAR (an unset
 * variable is an error, so a typo never becomes an empty password). Errors name the file, the
 * line and the field.
 */
import { z } from 'zod';
import { projectSectionsSchema } from './project-config.js';
import { loadYamlFile } from './yaml-file.js';

const schemaAction = z.enum(['apply', 'ignore', 'stop']);

/** The YAML schema of cdc.yaml as `cdc run` reads it. */
export const runConfigSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_]{1,50}$/, 'use 1 to 50 lower-case letters, digits or underscores').optional(),
    source: z.object({ url: z.string().min(1) }).strict().optional(),
    target: z.object({ url: z.string().min(1) }).strict().optional(),
    tables: z.array(z.string().min(1)).optional(),
    metrics_port: z.number().int().min(0).max(65535).optional(),
    soft_delete: z.boolean().optional(),
    schema_changes: z.object({ drop: schemaAction.optional(), type_change: schemaAction.optional() }).strict().optional(),
    batch: z
      .object({
        max_changes: z.number().int().positive().optional(),
        max_age_ms: z.number().int().positive().optional(),
        idle_ms: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    snapshot: z.object({ parallelism: z.number().int().min(1).max(64).optional() }).strict().optional(),
    /** A Debezium source instead of `source`: events on NATS JetStream or Kafka (exactly one). */
    debezium: z
      .object({
        nats: z.object({ url: z.string().min(1), stream: z.string().min(1), subjects: z.array(z.string().min(1)).optional() }).strict().optional(),
        kafka: z
          .object({
            /** Bootstrap brokers, `host:port`. */
            brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1),
            /** Topics to read; and/or `topic_pattern`. */
            topics: z.array(z.string().min(1)).optional(),
            /** Regular expression over topic names, matched at start. */
            topic_pattern: z
              .string()
              .min(1)
              .refine(isRegExp, { message: 'not a regular expression (JavaScript syntax, e.g. ^dbserver1\\.inventory\\.)' })
              .optional(),
            /** Consumer group (default: the pipeline name). */
            group_id: z.string().min(1).optional(),
            tls: z.boolean().optional(),
            sasl: z.object({ mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']), username: z.string(), password: z.string() }).strict().optional(),
          })
          .strict()
          .refine((k) => k.topics !== undefined || k.topic_pattern !== undefined, { message: 'give topics or topic_pattern' })
          .optional(),
        /** `dead_letter` (default): set undecodable events aside in cdc_management.dead_letter; `stop`. */
        on_invalid: z.enum(['dead_letter', 'stop']).optional(),
        /** Subject pattern (NATS wildcards) → target `schema.table` ({schema}, {table} placeholders). */
        routes: z.record(z.string().min(1), z.string().min(3)).optional(),
        /** Primary keys by `schema.table`, for transports that carry no record key (NATS). */
        keys: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional(),
        /** How the connector wrote bytes (`binary.handling.mode`). */
        binary_handling_mode: z.enum(['bytes', 'base64', 'base64-url-safe', 'hex']).optional(),
      })
      .strict()
      .refine((d) => (d.nats === undefined) !== (d.kafka === undefined), { message: 'give exactly one of nats and kafka' })
      .optional(),
    ...projectSectionsSchema,
  })
  .strict();

function isRegExp(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}

/** cdc.yaml as parsed. */
export type RunConfigFile = z.infer<typeof runConfigSchema>;

/**
 * Reads and validates a config file; `${VAR}` is replaced from the environment.
 * @throws {CdcError} CONFIG_INVALID naming file, line and field: unreadable file, YAML syntax
 *   error, unknown or mistyped field, unset `${VAR}`.
 */
export function loadRunConfig(file: string): RunConfigFile {
  return loadYamlFile(file, runConfigSchema, { what: 'config file', substituteEnv: true, remedy: 'fix that field; the README lists every field of cdc.yaml' }).data;
}
