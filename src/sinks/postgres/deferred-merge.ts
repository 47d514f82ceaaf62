/**
 * Deferred merge mode (DESIGN.md §4): external writers (Kafka Connect's JDBC sink, Redpanda
 * Connect, loaders) insert into the staging tables; the database merges them by itself.
 *
 * - `cdc_management.mark_staged()`: the statement-level AFTER INSERT trigger function on every
 *   staging table. One firing per INSERT or COPY statement marks the table's `merge_control` row
 *   (has_changes, first/last change time; the row is created on the table's first insert) and
 *   sends `NOTIFY cdc_merge, '<schema>.<table>'`. SECURITY DEFINER: a writer needs INSERT on its
 *   staging table (and USAGE on `cdc_staging`), nothing on `cdc_management`.
 * - `cdc_management.trigger_pending_merges(window_seconds, stuck_after_seconds, max_wait_seconds)`:
 *   a procedure that claims, one at a time, tables with staged changes whose last change is older
 *   than the window (or whose first unmerged change is older than max_wait, so a table written
 *   without pause still merges), with `FOR UPDATE SKIP LOCKED`; commits the claim (is_merging);
 *   merges the table in its own transaction; commits. A claim older than stuck_after is taken
 *   over (its merger died). A table that fails is not tried again in the same call.
 * - `cdc_management.manual_merge(schema, table)`: merges one table now.
 * - `cdc_management.merge_table(schema, table)`: calls the table's merge procedure, whose name it
 *   derives from the table (`merge_procedure_name`, naming-sql.ts); SECURITY DEFINER, so that a
 *   merge worker needs no privilege on the final and staging tables. No stored text is ever
 *   executed (`merge_control.merge_procedure` is for people only).
 * - `cdc_management.run_merge(...)`: one claimed table's merge in a subtransaction: a failure
 *   rolls back only that table, writes `error_log` and `merge_log` (through
 *   `cdc_management.redact`: no row value), and leaves the staged rows.
 * - Views: `v_merge_status`, `v_recent_errors`, `v_replication_lag`, `v_processing_gaps`.
 *
 * Procedures that COMMIT cannot run inside a transaction block: call them with `CALL` in
 * autocommit mode (psql, pg_cron, `cdc merge-worker`).
 * @see https://www.postgresql.org/docs/current/plpgsql-transactions.html
 * @see https://www.postgresql.org/docs/current/sql-createtrigger.html (statement-level triggers)
 */
import type { TableId } from '../../schema/table.js';
import { quoteIdent, quoteLiteral, quoteTable } from '../../sql/quote.js';
import { dollarQuote } from './dollar-quote.js';
import { MANAGEMENT_SCHEMA, STAGING_SCHEMA, fitIdentifier, mergeProcedureId, stagingTableId } from './naming.js';

/** The NOTIFY channel of the staging trigger; the payload is `<schema>.<table>` of the final table. */
export const MERGE_CHANNEL = 'cdc_merge';

/** Default batching window, in seconds: a table merges once no change was staged for this long. */
export const DEFAULT_WINDOW_SECONDS = 5;
/** Default age, in seconds, after which a claim (`is_merging`) counts as abandoned. */
export const DEFAULT_STUCK_AFTER_SECONDS = 300;

const m = (name: string) => quoteTable({ schema: MANAGEMENT_SCHEMA, name });

/** `search_path` of the SECURITY DEFINER routines: nothing a caller can create objects in. */
const DEFINER_SEARCH_PATH = `pg_catalog, ${MANAGEMENT_SCHEMA}, pg_temp`;

/**
 * The marking trigger function (shared by every staging table; its arguments name the table).
 * SECURITY DEFINER, so that a writer needs no privilege on `merge_control`: it runs as the owner
 * of `cdc_management`, with a fixed `search_path`, only as a statement trigger of a table in
 * `cdc_staging` (where writers cannot create tables), and PUBLIC may not use it in a trigger of
 * its own (CREATE TRIGGER needs EXECUTE on the function; firing does not). Its third argument,
 * the merge procedure, is ignored: merges derive it (`merge_procedure_name`).
 */
function markStagedSql(): string {
  const body = `
BEGIN
  IF TG_LEVEL <> 'STATEMENT' OR TG_TABLE_SCHEMA <> ${quoteLiteral(STAGING_SCHEMA)} THEN
    RAISE EXCEPTION 'cdc: mark_staged() marks statements on tables of ${STAGING_SCHEMA} only, not on %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME;
  END IF;
  INSERT INTO ${m('merge_control')} AS mc
    (schema_name, table_name, merge_procedure, has_changes, first_change_time, last_change_time)
  VALUES (TG_ARGV[0], TG_ARGV[1], ${quoteLiteral(quoteIdent(STAGING_SCHEMA) + '.')} || '"' || replace(${m('merge_procedure_name')}(TG_ARGV[0], TG_ARGV[1]), '"', '""') || '"',
          true, clock_timestamp(), clock_timestamp())
  ON CONFLICT (schema_name, table_name) DO UPDATE
  SET has_changes = true,
      first_change_time = CASE WHEN mc.has_changes AND mc.first_change_time IS NOT NULL THEN mc.first_change_time ELSE EXCLUDED.first_change_time END,
      last_change_time = EXCLUDED.last_change_time;
  PERFORM pg_notify(${quoteLiteral(MERGE_CHANNEL)}, TG_ARGV[0] || '.' || TG_ARGV[1]);
  RETURN NULL;
END;
`;
  return [
    `CREATE OR REPLACE FUNCTION ${m('mark_staged')}() RETURNS trigger`,
    'LANGUAGE plpgsql SECURITY DEFINER',
    `SET search_path = ${DEFINER_SEARCH_PATH}`,
    `AS ${dollarQuote(body, 'cdc_mark')};`,
    `REVOKE ALL ON FUNCTION ${m('mark_staged')}() FROM PUBLIC;`,
  ].join('\n');
}

/**
 * `merge_table(schema, table)`: calls the merge procedure of one final table, found by name
 * from the table (`merge_procedure_name`), never from a stored text. SECURITY DEFINER with a
 * fixed `search_path`, so that a merge worker role needs EXECUTE on it and no privilege on the
 * final and staging tables; PUBLIC may not execute it. It does not commit (the caller does).
 */
function mergeTableSql(): string {
  const body = `
DECLARE
  _procedure text := ${m('merge_procedure_name')}(p_schema, p_table);
BEGIN
  IF to_regprocedure(format('%I.%I()', ${quoteLiteral(STAGING_SCHEMA)}, _procedure)) IS NULL THEN
    RAISE EXCEPTION 'cdc: %.% has no merge procedure %.%', p_schema, p_table, ${quoteLiteral(STAGING_SCHEMA)}, _procedure
      USING ERRCODE = 'undefined_function', HINT = 'create the table first: cdc migrations apply, or cdc run';
  END IF;
  EXECUTE format('CALL %I.%I()', ${quoteLiteral(STAGING_SCHEMA)}, _procedure);
END;
`;
  return [
    `CREATE OR REPLACE PROCEDURE ${m('merge_table')}(p_schema text, p_table text)`,
    'LANGUAGE plpgsql SECURITY DEFINER',
    `SET search_path = ${DEFINER_SEARCH_PATH}`,
    `AS ${dollarQuote(body, 'cdc_merge_table')};`,
    `REVOKE ALL ON PROCEDURE ${m('merge_table')}(text, text) FROM PUBLIC;`,
  ].join('\n');
}

/** One claimed table's merge, in a subtransaction, logged either way. */
function runMergeSql(): string {
  const body = `
DECLARE
  _started timestamptz := clock_timestamp();
  _rows bigint;
  _message text;
  _state text;
  _context text;
  _detail text;
  _hint text;
BEGIN
  BEGIN
    CALL ${m('merge_table')}(p_schema, p_table);
    SELECT last_merge_rows INTO _rows FROM ${m('merge_control')} WHERE schema_name = p_schema AND table_name = p_table;
    INSERT INTO ${m('merge_log')} (schema_name, table_name, claimed_at, last_change_time, started_at, finished_at, rows, success, merged_by)
    VALUES (p_schema, p_table, p_claimed_at, p_last_change, _started, clock_timestamp(), _rows, true, p_merged_by);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS _message = MESSAGE_TEXT, _state = RETURNED_SQLSTATE, _context = PG_EXCEPTION_CONTEXT,
                            _detail = PG_EXCEPTION_DETAIL, _hint = PG_EXCEPTION_HINT;
    -- No row value is kept (a NOT NULL violation's detail is the failing row).
    _message := ${m('redact')}(_message);
    _context := ${m('redact')}(_context);
    _detail := ${m('redact')}(_detail);
    _hint := ${m('redact')}(_hint);
    UPDATE ${m('merge_control')}
       SET is_merging = false, merge_started_at = NULL, merged_by = NULL, last_error = _message, last_error_time = clock_timestamp()
     WHERE schema_name = p_schema AND table_name = p_table;
    INSERT INTO ${m('error_log')} (pipeline, schema_name, table_name, error_code, message, statement, detail)
    VALUES ('deferred-merge', p_schema, p_table, _state, _message, _context,
            jsonb_build_object('detail', _detail, 'hint', _hint, 'procedure', ${m('merge_procedure_name')}(p_schema, p_table), 'merged_by', p_merged_by));
    INSERT INTO ${m('merge_log')} (schema_name, table_name, claimed_at, last_change_time, started_at, finished_at, rows, success, error, merged_by)
    VALUES (p_schema, p_table, p_claimed_at, p_last_change, _started, clock_timestamp(), NULL, false, _message, p_merged_by);
  END;
END;
`;
  return [
    // Before issue 11 it took the procedure to run as text: gone, not left callable.
    `DROP PROCEDURE IF EXISTS ${m('run_merge')}(text, text, text, timestamptz, timestamptz, text);`,
    `CREATE OR REPLACE PROCEDURE ${m('run_merge')}(p_schema text, p_table text, p_claimed_at timestamptz, p_last_change timestamptz, p_merged_by text)`,
    'LANGUAGE plpgsql',
    `AS ${dollarQuote(body, 'cdc_run')};`,
  ].join('\n');
}

/** The claim loop. */
function triggerPendingMergesSql(): string {
  const body = `
DECLARE
  _t record;
  _claimed_at timestamptz;
  _call_started timestamptz := clock_timestamp();
  _me text := coalesce(nullif(current_setting('application_name', true), ''), 'session') || ' pid ' || pg_backend_pid();
BEGIN
  LOOP
    SELECT schema_name, table_name, last_change_time INTO _t
      FROM ${m('merge_control')}
     WHERE has_changes
       AND (last_error_time IS NULL OR last_error_time < _call_started)
       AND (NOT is_merging OR merge_started_at IS NULL OR merge_started_at < clock_timestamp() - make_interval(secs => stuck_after_seconds))
       AND (last_change_time <= clock_timestamp() - make_interval(secs => window_seconds)
            OR first_change_time <= clock_timestamp() - make_interval(secs => coalesce(max_wait_seconds, 10 * window_seconds)))
     ORDER BY last_change_time
     LIMIT 1
     FOR UPDATE SKIP LOCKED;
    EXIT WHEN NOT FOUND;
    _claimed_at := clock_timestamp();
    UPDATE ${m('merge_control')} SET is_merging = true, merge_started_at = _claimed_at, merged_by = _me
     WHERE schema_name = _t.schema_name AND table_name = _t.table_name;
    COMMIT;
    CALL ${m('run_merge')}(_t.schema_name, _t.table_name, _claimed_at, _t.last_change_time, _me);
    COMMIT;
  END LOOP;
END;
`;
  return [
    `CREATE OR REPLACE PROCEDURE ${m('trigger_pending_merges')}(`,
    `  window_seconds double precision DEFAULT ${DEFAULT_WINDOW_SECONDS},`,
    `  stuck_after_seconds double precision DEFAULT ${DEFAULT_STUCK_AFTER_SECONDS},`,
    '  max_wait_seconds double precision DEFAULT NULL)',
    'LANGUAGE plpgsql',
    `AS ${dollarQuote(body, 'cdc_pending')};`,
  ].join('\n');
}

/** Merge one table now. */
function manualMergeSql(): string {
  const body = `
DECLARE
  _t record;
  _claimed_at timestamptz := clock_timestamp();
  _me text := coalesce(nullif(current_setting('application_name', true), ''), 'session') || ' pid ' || pg_backend_pid();
BEGIN
  SELECT schema_name, table_name, last_change_time, is_merging, merge_started_at, merged_by INTO _t
    FROM ${m('merge_control')}
   WHERE schema_name = p_schema AND table_name = p_table
   FOR UPDATE;
  IF NOT FOUND THEN
    RAISE NOTICE 'cdc: %.% has never had rows staged; nothing to merge', p_schema, p_table;
    RETURN;
  END IF;
  IF _t.is_merging AND _t.merge_started_at >= clock_timestamp() - make_interval(secs => stuck_after_seconds) THEN
    RAISE EXCEPTION 'cdc: %.% is being merged by % since %', p_schema, p_table, _t.merged_by, _t.merge_started_at
      USING HINT = 'wait for that merge, or pass a smaller stuck_after_seconds if its merger died';
  END IF;
  UPDATE ${m('merge_control')} SET is_merging = true, merge_started_at = _claimed_at, merged_by = _me
   WHERE schema_name = p_schema AND table_name = p_table;
  COMMIT;
  CALL ${m('run_merge')}(p_schema, p_table, _claimed_at, _t.last_change_time, _me);
  COMMIT;
END;
`;
  return [
    `CREATE OR REPLACE PROCEDURE ${m('manual_merge')}(p_schema text, p_table text, stuck_after_seconds double precision DEFAULT ${DEFAULT_STUCK_AFTER_SECONDS})`,
    'LANGUAGE plpgsql',
    `AS ${dollarQuote(body, 'cdc_manual')};`,
  ].join('\n');
}

/** The monitoring views. */
function viewsSql(): string {
  const window = `make_interval(secs => coalesce(nullif(current_setting('cdc.merge_window_seconds', true), '')::double precision, ${DEFAULT_WINDOW_SECONDS}))`;
  return [
    `CREATE OR REPLACE VIEW ${m('v_merge_status')} AS
SELECT schema_name, table_name, has_changes, is_merging,
       round(extract(epoch FROM clock_timestamp() - last_change_time)::numeric, 3) AS seconds_since_change,
       merge_count, last_merge_time, last_merge_duration_ms, last_merge_rows, merged_by, last_error, last_error_time,
       CASE WHEN is_merging THEN 'MERGING'
            WHEN has_changes AND last_change_time <= clock_timestamp() - ${window} THEN 'PENDING'
            WHEN has_changes THEN 'BATCHING'
            ELSE 'IDLE' END AS status
  FROM ${m('merge_control')};`,
    `COMMENT ON VIEW ${m('v_merge_status')} IS ${quoteLiteral(
      'Merge state per table. status: MERGING (claimed), PENDING (changes older than the window cdc.merge_window_seconds, default 5), BATCHING (changes within the window), IDLE.',
    )};`,
    `CREATE OR REPLACE VIEW ${m('v_recent_errors')} AS
SELECT id, occurred_at, pipeline, schema_name, table_name, error_code, message, statement, detail
  FROM ${m('error_log')}
 WHERE occurred_at > now() - interval '24 hours'
 ORDER BY id DESC;`,
    `COMMENT ON VIEW ${m('v_recent_errors')} IS 'Errors of the last 24 hours, newest first.';`,
    `CREATE OR REPLACE VIEW ${m('v_replication_lag')} AS
SELECT o.pipeline, o.source_partition, o.position_text AS merged_position, o.updated_at,
       round(extract(epoch FROM clock_timestamp() - o.updated_at)::numeric, 3) AS seconds_since_update,
       p.last_batch_at, p.batches_last_hour, p.changes_last_hour
  FROM ${m('offsets')} o
  LEFT JOIN LATERAL (
    SELECT max(at) AS last_batch_at,
           count(*) FILTER (WHERE at > now() - interval '1 hour') AS batches_last_hour,
           coalesce(sum(changes) FILTER (WHERE at > now() - interval '1 hour'), 0) AS changes_last_hour
      FROM ${m('processing_log')} l WHERE l.pipeline = o.pipeline) p ON true;`,
    `COMMENT ON VIEW ${m('v_replication_lag')} IS 'Per pipeline: merged position, how long ago it moved, batches and changes in the last hour.';`,
    `CREATE OR REPLACE VIEW ${m('v_processing_gaps')} AS
SELECT pipeline, previous_at AS gap_start, at AS gap_end, round(extract(epoch FROM at - previous_at)::numeric, 3) AS gap_seconds
  FROM (SELECT pipeline, at, lag(at) OVER (PARTITION BY pipeline ORDER BY id) AS previous_at FROM ${m('processing_log')}) g
 WHERE at - previous_at > interval '60 seconds';`,
    `COMMENT ON VIEW ${m('v_processing_gaps')} IS 'Pauses of more than 60 seconds between merged batches, per pipeline.';`,
  ].join('\n');
}

/**
 * The deferred-merge objects of `cdc_management` (see the module comment), CREATE OR REPLACE
 * throughout. Part of `infrastructureSql()`.
 */
export function deferredMergeSql(): string {
  return [markStagedSql(), mergeTableSql(), runMergeSql(), triggerPendingMergesSql(), manualMergeSql(), viewsSql()].join('\n\n');
}

/** Name of the marking trigger on a staging table (fits 63 bytes). */
export function markingTriggerName(id: TableId): string {
  return fitIdentifier(`cdc_mark_${id.schema}.${id.name}`, `cdc_mark\u0000${id.schema}\u0000${id.name}`);
}

/**
 * The marking trigger on the staging table of `id`: AFTER INSERT FOR EACH STATEMENT, calling
 * `mark_staged(schema, table, merge procedure)`. Dropped and created (not CREATE OR REPLACE
 * TRIGGER, which needs PostgreSQL 14), so re-running it is harmless.
 */
export function markingTriggerSql(id: TableId): string {
  const args = [id.schema, id.name, quoteTable(mergeProcedureId(id))].map(quoteLiteral).join(', ');
  const name = quoteIdent(markingTriggerName(id));
  const staging = quoteTable(stagingTableId(id));
  return (
    `DROP TRIGGER IF EXISTS ${name} ON ${staging};\n` +
    `CREATE TRIGGER ${name}\nAFTER INSERT ON ${staging}\n` +
    `FOR EACH STATEMENT EXECUTE FUNCTION ${m('mark_staged')}(${args});`
  );
}

/** The pg_cron job name for a sink's merges. */
export function pgCronJobName(sink: string): string {
  return `cdc-merge ${sink}`;
}

/**
 * Schedules `trigger_pending_merges` with pg_cron (https://github.com/citusdata/pg_cron):
 * `CREATE EXTENSION IF NOT EXISTS pg_cron` (allowed only in the database named by
 * `cron.database_name`, with pg_cron in `shared_preload_libraries`), then `cron.schedule`, which
 * replaces a job of the same name. `schedule` is cron syntax (minute resolution) or
 * `N seconds`, which needs pg_cron 1.5 or later.
 */
export function pgCronScheduleSql(sink: string, schedule: string, windowSeconds: number, stuckAfterSeconds: number): string {
  const command = `CALL ${m('trigger_pending_merges')}(${windowSeconds}, ${stuckAfterSeconds})`;
  return [
    '-- pg_cron must be in shared_preload_libraries, and this must be the database named by cron.database_name.',
    "-- Schedules in seconds ('5 seconds') need pg_cron >= 1.5; older versions take cron syntax (one minute at best).",
    'CREATE EXTENSION IF NOT EXISTS pg_cron;',
    `SELECT cron.schedule(${quoteLiteral(pgCronJobName(sink))}, ${quoteLiteral(schedule.trim())}, ${quoteLiteral(command)});`,
    '',
  ].join('\n');
}
