/**
 * How the CLI reports errors and picks exit codes (the only place that does):
 * 0 success · 1 runtime failure · 2 bad input (flags, config, URL, missing table) · 130 interrupted.
 */
import { CdcError } from '../errors.js';
import { redactText } from '../redact.js';

/** Exit codes of every `cdc` command. */
export const EXIT = { ok: 0, failure: 1, badInput: 2, interrupted: 130 } as const;

const BAD_INPUT = new Set([
  'SOURCE_NOT_READY',
  'CONFIG_INVALID',
  'TABLE_PATTERN_INVALID',
  'TABLE_NOT_FOUND',
  'NO_TABLES',
  'TABLE_UNSUPPORTED',
  'NO_COLUMNS',
  'RESERVED_COLUMN_NAME',
  'DUPLICATE_COLUMN',
  'UNKNOWN_KEY_COLUMN',
  'DATABASE_NOT_FOUND',
  'DEFINITION_INVALID',
  'SCHEMA_IMPORT_INVALID',
  'MIGRATIONS_INVALID',
  'MIGRATION_TABLE_CHANGED',
  'MIGRATION_UNSUPPORTED',
  'RESYNC_UNSUPPORTED',
  'SINK_UNSUPPORTED',
  'SLOT_NAME_TAKEN',
  'REPLICA_IDENTITY_NOTHING',
  'BROKER_RETENTION_GAP',
  'BROKER_TARGET_AHEAD',
  'KAFKA_GROUP_AHEAD',
  'TARGET_NOT_DELTA',
  'DELTA_SCHEMA_CONFLICT',
  'DELTA_PARTITION_INVALID',
  'DELTA_PROPERTY_INVALID',
]);

/** The exit code for an error. */
export function exitCodeFor(error: unknown): number {
  const code = error instanceof CdcError || (error && typeof error === 'object' && 'code' in error) ? String((error as { code: unknown }).code) : '';
  if (code === 'INTERRUPTED') return EXIT.interrupted;
  return BAD_INPUT.has(code) ? EXIT.badInput : EXIT.failure;
}

/**
 * Renders an error for a person: `error [CODE]: message`, then `  what to do: remedy`; message
 * and remedy without passwords, tokens or row values (`redactText`).
 */
export function formatError(error: unknown): string {
  if (error instanceof CdcError) {
    const lines = [`error [${error.code}]: ${redactText(error.message)}`];
    if (error.remedy) lines.push(`  what to do: ${redactText(error.remedy)}`);
    return lines.join('\n');
  }
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? ` [${error.code}]` : '';
    return `error${code}: ${redactText(error.message)}`;
  }
  return `error: ${redactText(String(error))}`;
}
