/**
 * The project sections of cdc.yaml (DESIGN.md §5): `services` (source systems whose tables are
 * defined under `schemas/<service>/`), `sinks` (targets that migrations are generated for, with
 * their naming rules) and `environments` (a database name per environment).
 */
import { z } from 'zod';

/** How a sink spells identifiers taken from the source (as pgloader offers). */
export const identifierCase = z.enum(['preserve', 'lower', 'snake_case']);

const name = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, 'use letters, digits, _, . or - (at most 63)');

/** `services.<name>`: one source system. */
export const serviceSchema = z
  .object({
    /** Dialect of the types in this service's table files. */
    dialect: z.enum(['mssql', 'postgresql']),
    /** Source database name (SQL Server: the database `cdc mssql` works on). */
    database: z.string().min(1).optional(),
    /** Source URL for `cdc schema inspect` (PostgreSQL). */
    url: z.string().min(1).optional(),
  })
  .strict();

/** A column every target table of a sink gets after the source columns. */
export const columnTemplateSchema = z
  .object({
    name: z.string().min(1).max(63),
    type: z.string().min(1),
    nullable: z.boolean().default(true),
  })
  .strict();

/** `sinks.<name>.tenancy`. */
export const tenancySchema = z
  .object({
    /**
     * `db-per-tenant`: each tenant has its own source database and the target holds them all, so
     * every target table gets `column` (leading, NOT NULL, part of the primary key).
     * `db-shared`: the source tables already carry `column`; tables without it are reported.
     */
    mode: z.enum(['db-per-tenant', 'db-shared']),
    column: z.string().min(1).max(63),
    /** Target type of the tenant column (db-per-tenant), e.g. `uuid`. */
    type: z.string().min(1).default('uuid'),
  })
  .strict();

/** `sinks.<name>.merge`: deferred merge mode settings (DESIGN.md §4). */
export const mergeSettingsSchema = z
  .object({
    /**
     * pg_cron schedule for `trigger_pending_merges`, emitted by `cdc migrations generate` as
     * `03-schedule/001-pg-cron.sql`: cron syntax (`* * * * *`), or `N seconds` (pg_cron ≥ 1.5).
     */
    schedule: z
      .string()
      .regex(/^(\s*\S+){5}\s*$|^\s*([1-9]|[1-5][0-9]) seconds\s*$/, 'use cron syntax (5 fields, e.g. "* * * * *") or "N seconds" with N from 1 to 59')
      .optional(),
    /** Batching window, in seconds: a table merges once no change was staged for this long. */
    window_seconds: z.number().min(0).default(5),
    /** A claim older than this, in seconds, belongs to a dead merger and is taken over. */
    stuck_after_seconds: z.number().positive().default(300),
  })
  .strict();

/**
 * `sinks.<name>`: one target that migrations are generated for (`migrations/<name>/`).
 * `type` names a sink kind of the registry (`src/run/registry.ts`; default `postgresql`); the
 * migration commands check it, and validate `target` with the kind's own schema, when they pick
 * the sink (`src/migrations/sink-migrations.ts`).
 */
export const sinkSchema = z
  .object({
    type: z.string().regex(/^[a-z][a-z0-9_-]{0,30}$/, 'name a sink kind, e.g. postgresql').default('postgresql'),
    /**
     * Where the tables live, for kinds whose migrations go to one location rather than to an
     * environment's database (lake sinks): the same settings as cdc.yaml's `target:` section of
     * that kind, without `type` (e.g. `location`, `storage`, per-table `tables` options).
     * Validated by the kind; `${VAR}` is read from the environment when migrations are applied.
     */
    target: z.record(z.string(), z.unknown()).optional(),
    /** Identifier naming: `preserve` (default), `lower` or `snake_case`. */
    naming: identifierCase.default('preserve'),
    /** Source schema → target schema, e.g. `{ dbo: public }`; unmapped schemas keep their name. */
    schemas: z.record(z.string(), z.string().min(1).max(63)).default({}),
    /** Services whose tables go to this sink (default: all). */
    services: z.array(z.string()).optional(),
    /** Table patterns (`schema.table`, `*` wildcards, source names) to include (default: all). */
    tables: z.array(z.string().min(1)).optional(),
    /** Columns appended to every target table after the source columns. */
    columns: z.array(columnTemplateSchema).default([]),
    tenancy: tenancySchema.optional(),
    /** Soft delete for every table (a table file's `options.soft_delete` overrides it). */
    soft_delete: z.boolean().default(false),
    /**
     * Persistence of the staging tables: `logged` (default) keeps what external writers staged
     * through a target crash or failover; `unlogged` is faster and loses staged rows on a crash
     * (fine when only `cdc run` writes them: it stages and merges in one transaction).
     */
    staging: z.enum(['logged', 'unlogged']).default('logged'),
    /** Deferred merge mode: pg_cron schedule and its window. */
    merge: mergeSettingsSchema.optional(),
  })
  .strict();

/** `environments.<name>`. */
export const environmentSchema = z
  .object({
    /** Target database of every sink in this environment (`PG_<ENV>_*` give host, port, user, password). */
    database: z.string().min(1),
  })
  .strict();

/** The project sections of cdc.yaml. */
export const projectSectionsSchema = {
  services: z.record(name, serviceSchema).optional(),
  sinks: z.record(name, sinkSchema).optional(),
  environments: z.record(z.string().regex(/^[A-Za-z0-9_]{1,30}$/, 'use letters, digits or _'), environmentSchema).optional(),
};

/** A sink's settings after defaults. */
export type SinkConfig = z.infer<typeof sinkSchema>;
/** A service's settings. */
export type ServiceConfig = z.infer<typeof serviceSchema>;
