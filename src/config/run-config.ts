/**
 * The shape of cdc.yaml (`cdc run --config`, and the project commands): the fields every kind
 * shares; the `source` and `target` sections come from the kinds (`src/run/config.ts` composes
 * them and loads the file).
 */
import { z } from 'zod';
import { projectSectionsSchema } from './project-config.js';

const schemaAction = z.enum(['apply', 'ignore', 'stop']);

/** The fields of cdc.yaml that every source and target kind shares. */
const sharedFields = {
  name: z.string().regex(/^[a-z0-9_]{1,50}$/, 'use 1 to 50 lower-case letters, digits or underscores').optional(),
  tables: z.array(z.string().min(1)).optional(),
  metrics_port: z.number().int().min(0).max(65535).optional(),
  soft_delete: z.boolean().optional(),
  schema_changes: z.object({ drop: schemaAction.optional(), type_change: schemaAction.optional(), rename: schemaAction.optional() }).strict().optional(),
  batch: z
    .object({
      max_changes: z.number().int().positive().optional(),
      max_age_ms: z.number().int().positive().optional(),
      idle_ms: z.number().int().positive().optional(),
    })
    .strict()
    .optional(),
  snapshot: z.object({ parallelism: z.number().int().min(1).max(64).optional() }).strict().optional(),
  ...projectSectionsSchema,
};

/**
 * The YAML schema of cdc.yaml, given the schemas of the `source` and `target` sections (the
 * registry in `src/run/` composes them from the source and sink kinds) and of sections kept for
 * older files (`legacy`).
 */
export function makeRunConfigSchema<S extends z.ZodType, T extends z.ZodType, L extends Record<string, z.ZodType>>(parts: { source: S; target: T; legacy: L }) {
  return z
    .object({
      ...sharedFields,
      source: parts.source.optional(),
      target: parts.target.optional(),
      ...parts.legacy,
    })
    .strict();
}

/**
 * cdc.yaml as the project commands read it (`cdc migrations`, `cdc schema`): the `source`,
 * `target` and legacy sections are taken as they are (`cdc run` validates them).
 */
export const projectRunConfigSchema = makeRunConfigSchema({ source: z.unknown(), target: z.unknown(), legacy: { debezium: z.unknown().optional() } });

/** The part of cdc.yaml every kind shares, as parsed. */
export type RunConfigFile = Omit<z.infer<typeof projectRunConfigSchema>, 'source' | 'target' | 'debezium'>;


