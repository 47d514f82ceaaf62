/**
 * What `cdc migrations` (src/migrations) needs of a sink dialect that migrates without SQL: a lake
 * sink, whose tables live at one location (a directory or an object-store prefix) rather than in
 * an environment's database. Such a dialect renders a migration file per table from the one
 * schema diff (a converter per change kind: those it has no statement for are errors, never
 * dropped), and opens a location to run those files and keep their history. The migration
 * commands reach it through the registry (`SINK_DIALECTS.<type>.lakeMigrations`), never through
 * a sink's folder.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { SchemaChange } from '../schema/schema-diff.js';
import type { LakeStorageConfig } from './lake/open-lake-storage.js';

/**
 * The part of a project sink's `target:` block every lake kind has: where its tables live and
 * how to reach that place. A kind's own schema adds its table options.
 */
export interface LakeTargetSection {
  /** An absolute directory, a `file://` URL or `s3://bucket/prefix`. */
  readonly location: string;
  /** How to reach an `s3://` location (src/sinks/lake/open-lake-storage.ts). */
  readonly storage?: LakeStorageConfig;
}

/** One row of a lake location's migration history: the newest record of one file. */
export interface LakeHistoryRow {
  /** The file's path relative to `migrations/<sink>/`. */
  readonly name: string;
  /** The file's kind as the manifest lists it. */
  readonly kind: string;
  /** `sha256:<hex>` of the body that was run. */
  readonly checksum: string;
  readonly success: boolean;
  readonly appliedAt: Date;
  /** The error of a failed run (redacted), else null. */
  readonly error: string | null;
  /** The statement that failed (its first line), else null. */
  readonly statement: string | null;
}

/** A location opened for `cdc migrations apply` / `status`. */
export interface LakeMigrationTarget {
  /** The location, for messages (no secrets). */
  readonly description: string;
  /** Where the history is kept, relative to the location (for messages and docs). */
  readonly historyPath: string;
  /**
   * The newest history row of every file, by name; empty when nothing was applied yet.
   * @throws {CdcError} the storage's errors (TARGET_UNWRITABLE, TARGET_NOT_DELTA, …).
   */
  readHistory(): Promise<Map<string, LakeHistoryRow>>;
  /**
   * Runs the statements of one migration file, in order. Every statement is idempotent (it
   * creates what is missing and checks what exists), so a file interrupted half-way runs again.
   * @param body the file's body (after its header); `file` its path, for messages
   * @throws {CdcError} MIGRATIONS_INVALID for a body that is not the kind's statements;
   *   the kind's schema conflicts (a table that exists with another column type); storage errors.
   */
  run(body: string, file: string): Promise<void>;
  /** Appends a history row (applied at the current time). */
  record(row: Omit<LakeHistoryRow, 'appliedAt'>): Promise<void>;
}

/** The context a converter renders one table's migration in. */
export interface LakeMigrationContext {
  /** The sink's `target:` block, as {@link LakeMigrationDialect.targetSchema} parsed it. */
  readonly target: LakeTargetSection;
  /** The table definition's file (relative to the project), for messages. */
  readonly definitionFile: string;
}

/** A lake dialect's migration pieces. */
export interface LakeMigrationDialect {
  /** The schema of a project sink's `target:` block (the kind's cdc.yaml `target:` section without `type`). */
  readonly targetSchema: z.ZodType<LakeTargetSection>;
  /** Extension of its migration files, without the dot (`yaml`: the header is `#` comments). */
  readonly fileExtension: string;
  /**
   * The body of the migration file that makes `changes` (the one diff's changes of one table,
   * TABLE_ADDED for a new table) on the location, ending with a newline; '' when the kind has
   * nothing to do for them (e.g. a NOT NULL dropped: every lake column is nullable).
   * @throws {CdcError} MIGRATION_UNSUPPORTED naming the definition file, the table and the
   *   column, with a remedy, for a change the kind cannot make.
   */
  migrationBody(changes: readonly SchemaChange[], context: LakeMigrationContext): string;
  /**
   * Opens a location to apply migrations to.
   * @throws {CdcError} CONFIG_INVALID for a location the kind cannot use.
   */
  open(where: LakeTargetSection, log: Logger): Promise<LakeMigrationTarget>;
}
