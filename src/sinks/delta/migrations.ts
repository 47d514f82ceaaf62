/**
 * The Delta sink's `cdc migrations` pieces (`LakeMigrationDialect`, src/sinks/lake-migrations.ts):
 * its project `target:` block, its migration files' statements (migration-statements.ts) and
 * applying them with their history under `<location>/_cdc/` (migration-target.ts).
 */
import type { LakeMigrationDialect } from '../lake-migrations.js';
import { deltaMigrationBody } from './migration-statements.js';
import { openDeltaMigrationTarget } from './migration-target.js';
import { deltaProjectTargetSchema } from './target-schema.js';

/** How `cdc migrations` migrates a Delta sink. */
export const deltaMigrations: LakeMigrationDialect = {
  targetSchema: deltaProjectTargetSchema,
  fileExtension: 'yaml',
  migrationBody: deltaMigrationBody,
  open: openDeltaMigrationTarget,
};
