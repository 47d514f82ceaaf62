/**
 * The PostgreSQL sink's shared infrastructure (DESIGN.md §4): the management and staging schemas
 * and the bookkeeping tables in {@link MANAGEMENT_SCHEMA}. Per-table objects (final table, staging
 * table, merge procedure) are generated elsewhere from each table's definition.
 */
import { quoteIdent, quoteLiteral, quoteTable } from '../../sql/quote.js';
import { deferredMergeSql } from './deferred-merge.js';
import { MANAGEMENT_SCHEMA, STAGING_SCHEMA } from './naming.js';
import { namingFunctionsSql } from './naming-sql.js';
import { redactFunctionSql } from '../../redact.js';
import { rowPositionFunctionSql, rowPositionPartsFunctionSql, upgradeProcedureSql } from './row-position-sql.js';
import { sourceFieldsSql } from './source-fields-sql.js';
import { sourcePositionSql } from './source-position-sql.js';

/** Quoted `cdc_management.<name>`. */
export function managementTable(name: string): string {
  return quoteTable({ schema: MANAGEMENT_SCHEMA, name });
}

/** One bookkeeping table: its columns (SQL text, fixed) and a comment per column. */
interface TableSpec {
  readonly name: string;
  readonly comment: string;
  /** `[definition, comment]` per column, in order; constraints have an empty comment. */
  readonly columns: readonly (readonly [string, string])[];
  /**
   * Columns added after the first release, `[definition, comment]`: created with the table and,
   * on a database made by an older version, added by `ADD COLUMN IF NOT EXISTS`.
   */
  readonly added?: readonly (readonly [string, string])[];
}

const TABLES: readonly TableSpec[] = [
  {
    name: 'offsets',
    comment: 'Highest source position merged, per pipeline and source partition; written in the merge transaction.',
    columns: [
      ['pipeline text NOT NULL', 'Pipeline name.'],
      ["source_partition text NOT NULL DEFAULT ''", "Source partition ('' for PostgreSQL sources)."],
      ['position bigint NOT NULL', 'Highest merged position in the source unit (PostgreSQL: LSN, in bytes).'],
      ['position_text text', 'The same position as text (e.g. 16/B374D848), for people.'],
      ['updated_at timestamptz NOT NULL DEFAULT now()', 'When the position was written.'],
      ['PRIMARY KEY (pipeline, source_partition)', ''],
    ],
  },
  {
    name: 'watermarks',
    comment: 'Highest source position read per pipeline, source partition and origin (Debezium: connector, server, database); written in the merge transaction.',
    columns: [
      ['pipeline text NOT NULL', 'Pipeline name.'],
      ['source_partition text NOT NULL', "Source partition it was read from ('' for a JetStream stream, topic/partition for Kafka)."],
      ['origin text NOT NULL', 'Whose log the position is in: connector|server|database.'],
      ['position bytea NOT NULL', 'The source position as row position bytes (compared bytewise).'],
      ['position_text text', 'The same position for people.'],
      ['updated_at timestamptz NOT NULL DEFAULT now()', 'When it was written.'],
      ['PRIMARY KEY (pipeline, source_partition, origin)', ''],
    ],
  },
  {
    name: 'merge_control',
    comment: 'Merge state per target table (read by v_merge_status and merge workers).',
    columns: [
      ['schema_name text NOT NULL', 'Schema of the final table.'],
      ['table_name text NOT NULL', 'Name of the final table.'],
      ['has_changes boolean NOT NULL DEFAULT false', 'Staging holds rows not merged yet.'],
      ['is_merging boolean NOT NULL DEFAULT false', 'A merge worker has claimed the table.'],
      ['last_change_time timestamptz', 'When rows were last staged.'],
      ['last_merge_time timestamptz', 'When the last merge ran.'],
      ['merge_count bigint NOT NULL DEFAULT 0', 'Merges run so far.'],
      ['last_merge_duration_ms double precision', 'Duration of the last merge, in milliseconds.'],
      ['last_merge_rows bigint', 'Staged rows consumed by the last merge.'],
      ['PRIMARY KEY (schema_name, table_name)', ''],
    ],
    added: [
      ['merge_procedure text', 'The merge procedure, schema-qualified and quoted, for people. Never executed: merges derive it from schema_name and table_name (merge_procedure_name).'],
      ['first_change_time timestamptz', 'First change staged since the last merge (bounds how long a busy table waits).'],
      ['merge_started_at timestamptz', 'When the current merge was claimed (a stale claim is released after a timeout).'],
      ['merged_by text', 'Who claimed the current merge: application name and backend pid.'],
      ['last_error text', 'Error of the last failed merge (cleared by a successful one).'],
      ['last_error_time timestamptz', 'When the last merge failed.'],
    ],
  },
  {
    name: 'merge_log',
    comment: 'One row per deferred merge (trigger_pending_merges, manual_merge, cdc merge-worker).',
    columns: [
      ['id bigserial PRIMARY KEY', 'Sequence.'],
      ['schema_name text NOT NULL', 'Schema of the final table.'],
      ['table_name text NOT NULL', 'Name of the final table.'],
      ['claimed_at timestamptz NOT NULL', 'When the merge was claimed.'],
      ['last_change_time timestamptz', 'The last staged change the claim saw.'],
      ['started_at timestamptz NOT NULL', 'When the merge procedure started.'],
      ['finished_at timestamptz NOT NULL', 'When it finished or failed.'],
      ['rows bigint', 'Staged rows merged.'],
      ['success boolean NOT NULL', 'Whether it merged.'],
      ['error text', 'The error, when it failed.'],
      ['merged_by text', 'Application name and backend pid of the merger.'],
    ],
  },
  {
    name: 'snapshot_progress',
    comment: 'Initial copy of each table, per pipeline.',
    columns: [
      ['pipeline text NOT NULL', 'Pipeline name.'],
      ['schema_name text NOT NULL', 'Source schema.'],
      ['table_name text NOT NULL', 'Source table.'],
      ["state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'copying', 'done'))", 'pending, copying or done.'],
      ['snapshot_lsn bigint', 'Before release 0.2: LSN of the snapshot the copy reads, in bytes (now snapshot_position).'],
      ['rows_copied bigint NOT NULL DEFAULT 0', 'Rows copied so far.'],
      ['started_at timestamptz', 'When copying started.'],
      ['finished_at timestamptz', 'When copying finished.'],
      ['PRIMARY KEY (pipeline, schema_name, table_name)', ''],
    ],
    added: [
      ['snapshot_position bytea', "Row position of the snapshot's rows (PostgreSQL: its consistent point's LSN); changes below it are in the copy."],
      ['source_identity text', "The source's identity of the table copied (PostgreSQL: its OID); another one now means the table was re-created or renamed over."],
    ],
  },
  {
    name: 'table_definitions',
    comment: 'The table definition (TableSchema as JSON) each final table was last built from.',
    columns: [
      ['pipeline text NOT NULL', 'Pipeline name.'],
      ['schema_name text NOT NULL', 'Schema of the table.'],
      ['table_name text NOT NULL', 'Name of the table.'],
      ['definition jsonb NOT NULL', 'The TableSchema applied: id, columns, primaryKey.'],
      ['updated_at timestamptz NOT NULL DEFAULT now()', 'When it was applied.'],
      ['PRIMARY KEY (pipeline, schema_name, table_name)', ''],
    ],
  },
  {
    name: 'source_fields',
    comment: 'Debezium source fields a staging table takes instead of _cdc_position (accept_source_fields); restored when the staging table is re-created.',
    columns: [
      ['schema_name text NOT NULL', 'Schema of the final table.'],
      ['table_name text NOT NULL', 'Name of the final table.'],
      ['fields text[] NOT NULL', 'The fields, without the __ prefix (lsn, sequence, commit_lsn, …).'],
      ['updated_at timestamptz NOT NULL DEFAULT now()', 'When they were last accepted.'],
      ['PRIMARY KEY (schema_name, table_name)', ''],
    ],
  },
  {
    name: 'error_log',
    comment: 'Errors met while landing and merging, newest last.',
    columns: [
      ['id bigserial PRIMARY KEY', 'Sequence.'],
      ['occurred_at timestamptz NOT NULL DEFAULT now()', 'When it happened.'],
      ['pipeline text', 'Pipeline name.'],
      ['schema_name text', 'Schema of the table concerned, if any.'],
      ['table_name text', 'Table concerned, if any.'],
      ['error_code text', 'SQLSTATE or cdc-merge error code.'],
      ['message text NOT NULL', 'Error message.'],
      ['statement text', 'Statement that failed, if any.'],
      ['detail jsonb', 'Anything else (cause chain, positions).'],
    ],
  },
  {
    name: 'dead_letter',
    comment: 'Source messages that could not be decoded, kept with their raw bytes (Debezium sources), and row changes the target rejected (every source kind).',
    columns: [
      ['id bigserial PRIMARY KEY', 'Sequence.'],
      ['received_at timestamptz NOT NULL DEFAULT now()', 'When it was set aside.'],
      ['pipeline text NOT NULL', 'Pipeline name.'],
      ['topic text NOT NULL', 'Topic or subject it came from; a rejected row: schema.table of its target table.'],
      ['broker_position text', 'Partition/offset or stream sequence; a rejected row: row <position elements>/<ordinal>.'],
      ['message_key bytea', 'Raw key bytes.'],
      ['message_value bytea', 'Raw value bytes; a rejected row: its staged line (COPY text, UTF-8).'],
      ['error text NOT NULL', 'Why it could not be decoded (names the field), or why the target rejected the row.'],
    ],
    added: [
      ['schema_name text', 'A rejected row: its target schema.'],
      ['table_name text', 'A rejected row: its target table.'],
      ['row_position bytea', 'A rejected row: its change position ([...source position, ordinal], src/events/position.ts).'],
      ['error_code text', 'A rejected row: the SQLSTATE of the rejection.'],
    ],
  },
  {
    name: 'processing_log',
    comment: 'One row per merged batch.',
    columns: [
      ['id bigserial PRIMARY KEY', 'Sequence.'],
      ['at timestamptz NOT NULL DEFAULT now()', 'When the batch was merged.'],
      ['pipeline text NOT NULL', 'Pipeline name.'],
      ['commit_lsn bigint', "PostgreSQL sources: LSN just past the last transaction in the batch, in bytes (the '' partition's position)."],
      ['transactions integer', 'Source transactions in the batch.'],
      ['changes bigint', 'Row changes in the batch.'],
      ['duration_ms double precision', 'Time to land and merge the batch, in milliseconds.'],
    ],
    added: [
      ['messages bigint', 'Source messages in the batch (broker messages; 0 for PostgreSQL sources).'],
      ['checkpoint text', 'The positions the batch stored, for people (partition: position, …).'],
    ],
  },
  {
    name: 'migration_history',
    comment: 'DDL applied by cdc migrations apply and cdc run, one row per unit.',
    columns: [
      ['id bigserial PRIMARY KEY', 'Sequence.'],
      ['name text NOT NULL UNIQUE', "A table's units: 'table <schema>.<table>' and 'staging <schema>.<table>'; else the migration file path."],
      ["kind text NOT NULL CHECK (kind IN ('table', 'repeatable', 'infrastructure'))", 'table, repeatable or infrastructure.'],
      ['checksum text NOT NULL', 'SHA-256 of the SQL (the file body), sha256:<hex>.'],
      ['applied_at timestamptz NOT NULL DEFAULT now()', 'When it was applied.'],
      ['success boolean NOT NULL', 'Whether it applied.'],
      ['error text', 'Error message when it did not.'],
      ['statement text', 'Statement that failed, if any.'],
    ],
  },
];

function createTableSql(spec: TableSpec): string {
  const columns = [...spec.columns, ...(spec.added ?? [])];
  const body = columns.map(([definition]) => `  ${definition}`).join(',\n');
  const table = managementTable(spec.name);
  const upgrades = (spec.added ?? []).map(([definition]) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${definition};`);
  const comments = [`COMMENT ON TABLE ${table} IS ${quoteLiteral(spec.comment)};`];
  for (const [definition, comment] of columns) {
    if (comment === '') continue;
    const column = definition.slice(0, definition.indexOf(' '));
    comments.push(`COMMENT ON COLUMN ${table}.${quoteIdent(column)} IS ${quoteLiteral(comment)};`);
  }
  return [`CREATE TABLE IF NOT EXISTS ${table} (\n${body}\n);`, ...upgrades, ...comments].join('\n');
}

/**
 * SQL that creates the sink's schemas ({@link MANAGEMENT_SCHEMA}, {@link STAGING_SCHEMA}) and its
 * bookkeeping tables, with comments: `offsets`, `watermarks`, `merge_control`, `merge_log`,
 * `snapshot_progress`, `table_definitions`, `source_fields`, `error_log`, `processing_log`,
 * `migration_history`; then the row position functions (`row_position`, `row_position_parts`,
 * `upgrade_row_position`), the naming functions (`namingFunctionsSql`: `merge_procedure_name`),
 * `redact(text)` (`redactFunctionSql`: what error texts keep),
 * the deferred-merge functions, procedures and views (`deferredMergeSql`), and the Debezium source-field functions and staging trigger
 * (`sourcePositionSql`, `sourceFieldsSql`). Idempotent (IF
 * NOT EXISTS, ADD COLUMN IF NOT EXISTS, CREATE OR REPLACE), so it may run before every start. Several statements
 * separated by `;`: run it as a simple query (no parameters). Deterministic text.
 *
 * It does not alter tables created by an older version; changes to these tables go through
 * migrations.
 */
export function infrastructureSql(): string {
  const schemas = [MANAGEMENT_SCHEMA, STAGING_SCHEMA].map((s) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)};`);
  const errorIndex =
    `CREATE INDEX IF NOT EXISTS ${quoteIdent('error_log_occurred_at_idx')} ` + `ON ${managementTable('error_log')} (occurred_at);`;
  const mergeLogIndex = `CREATE INDEX IF NOT EXISTS ${quoteIdent('merge_log_table_idx')} ON ${managementTable('merge_log')} (schema_name, table_name, id);`;
  return [...schemas, ...TABLES.map(createTableSql), errorIndex, mergeLogIndex, rowPositionFunctionSql(), rowPositionPartsFunctionSql(), upgradeProcedureSql(), namingFunctionsSql(), redactFunctionSql(quoteIdent(MANAGEMENT_SCHEMA)), deferredMergeSql(), sourcePositionSql(), sourceFieldsSql()].join('\n\n') + '\n';
}
