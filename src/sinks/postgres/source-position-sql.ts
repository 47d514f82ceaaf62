/**
 * Debezium source positions in SQL: the sort key of a change from its connector's `source`
 * fields, computed in the database exactly as the TypeScript decoder does
 * (src/events/debezium/position.ts), for writers of staging tables that can copy fields but not
 * compute (the Kafka Connect JDBC sink) or that prefer SQL (Redpanda Connect's `sql_raw`).
 *
 * - `cdc_management.source_sort_key(source jsonb) → numeric[]`: the key, from a source block
 *   (`{"lsn": …, "sequence": …}`; the field names without ExtractNewRecordState's `__` prefix).
 * - `cdc_management.sqlserver_lsn(text) → numeric`: `00000025:00000d98:0002` as one 80-bit number.
 * - `cdc_management.binlog_file_number(text) → numeric`: `mysql-bin.000003` → 3.
 *
 * All three are IMMUTABLE, STRICT and PARALLEL SAFE; a malformed field raises SQLSTATE
 * {@link SOURCE_POSITION_SQLSTATE} naming it. The trigger that fills `_cdc_position` from these
 * is in source-fields-sql.ts.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-create-events
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-create-events
 */
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { dollarQuote } from './dollar-quote.js';
import { MANAGEMENT_SCHEMA } from './naming.js';

const M = quoteIdent(MANAGEMENT_SCHEMA);

/**
 * SQLSTATE raised when a staged row's position cannot be derived from its source fields: none
 * is there, or one is malformed (a SQL Server LSN not of the form `00000025:00000d98:0002`, a
 * binlog file name without a number, a position that is not a non-negative integer).
 */
export const SOURCE_POSITION_SQLSTATE = 'U0002';

const RAISE = `RAISE EXCEPTION USING ERRCODE = ${quoteLiteral(SOURCE_POSITION_SQLSTATE)}`;

/** `json_unsigned(value jsonb, field text)`: a JSON integer or a string of digits as numeric; NULL for JSON null. */
function jsonUnsignedSql(): string {
  const body = `
DECLARE
  t text := value #>> '{}';
BEGIN
  IF jsonb_typeof(value) = 'null' THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(value) IN ('number', 'string') AND t ~ '^[0-9]+$' THEN
    RETURN t::numeric;
  END IF;
  IF jsonb_typeof(value) = 'number' AND t::numeric >= 0 AND t::numeric = trunc(t::numeric) THEN
    RETURN trunc(t::numeric);
  END IF;
  ${RAISE}, MESSAGE = format('cdc: Debezium source field %s is not a non-negative integer: %s', field, value);
END
`;
  return `CREATE OR REPLACE FUNCTION ${M}.json_unsigned(value jsonb, field text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS ${dollarQuote(body, 'cdc_fn')};
COMMENT ON FUNCTION ${M}.json_unsigned(jsonb, text) IS 'A JSON integer, or a string of decimal digits, as numeric (NULL for JSON null); raises for anything else, naming the field.';`;
}

/**
 * `CREATE OR REPLACE FUNCTION cdc_management.sqlserver_lsn(text) RETURNS numeric`: a SQL Server
 * LSN as Debezium writes `commit_lsn` and `change_lsn` (`00000025:00000d98:0002`: virtual log
 * file, block and slot as 8, 8 and 4 hexadecimal digits) as one number, `vlf × 2^48 + block × 2^16
 * + slot`, so numeric order is log order (as `parseSqlServerLsn` in
 * src/events/debezium/position.ts). Raises SQLSTATE {@link SOURCE_POSITION_SQLSTATE} for another
 * form. IMMUTABLE, STRICT.
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 */
export function sqlServerLsnFunctionSql(): string {
  const body = `
DECLARE
  p text[] := regexp_match(lsn, '^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$');
BEGIN
  IF p IS NULL THEN
    ${RAISE}, MESSAGE = format('cdc: expected a SQL Server LSN like 00000025:00000d98:0002, found %L', lsn);
  END IF;
  RETURN ('x' || lpad(p[1], 16, '0'))::bit(64)::bigint::numeric * 281474976710656
       + ('x' || lpad(p[2], 16, '0'))::bit(64)::bigint::numeric * 65536
       + ('x' || lpad(p[3], 16, '0'))::bit(64)::bigint::numeric;
END
`;
  return `CREATE OR REPLACE FUNCTION ${M}.sqlserver_lsn(lsn text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS ${dollarQuote(body, 'cdc_fn')};
COMMENT ON FUNCTION ${M}.sqlserver_lsn(text) IS 'A SQL Server LSN (00000025:00000d98:0002) as one number in log order.';`;
}

/**
 * `CREATE OR REPLACE FUNCTION cdc_management.binlog_file_number(text) RETURNS numeric`: the
 * sequence number of a MySQL or MariaDB binlog file as Debezium writes `source.file`
 * (`mysql-bin.000003` → 3, as `binlogFileNumber` in src/events/debezium/position.ts). Raises
 * SQLSTATE {@link SOURCE_POSITION_SQLSTATE} for a name that does not end in `.<digits>`.
 * IMMUTABLE, STRICT.
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-create-events
 */
export function binlogFileNumberFunctionSql(): string {
  const body = `
DECLARE
  n text := (regexp_match(file, '\\.([0-9]+)$'))[1];
BEGIN
  IF n IS NULL THEN
    ${RAISE}, MESSAGE = format('cdc: expected a binlog file name ending in a number (mysql-bin.000003), found %L', file);
  END IF;
  RETURN n::numeric;
END
`;
  return `CREATE OR REPLACE FUNCTION ${M}.binlog_file_number(file text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS ${dollarQuote(body, 'cdc_fn')};
COMMENT ON FUNCTION ${M}.binlog_file_number(text) IS 'The sequence number of a binlog file name (mysql-bin.000003 -> 3).';`;
}

/**
 * `CREATE OR REPLACE FUNCTION cdc_management.source_sort_key(source jsonb) RETURNS numeric[]`:
 * the sort key of a Debezium change from the fields of its `source` block, element for element
 * what `decodeDebeziumRecord(…).position.sortKey` is for the same event (see
 * src/events/debezium/position.ts):
 * - PostgreSQL (`connector` `postgresql`, else a `lsn` or `sequence` field): with `sequence`
 *   (`["<last commit LSN>","<LSN>"]`, a JSON string or array) `[last commit LSN or 0, lsn]`,
 *   else `[lsn]`; `lsn` is the `lsn` field, else the sequence's second LSN;
 * - SQL Server (`sqlserver`, else `commit_lsn` or `change_lsn`): `[commit_lsn, change_lsn or 0,
 *   event_serial_no or 0]`, LSNs read by `sqlserver_lsn`;
 * - MySQL and MariaDB (`mysql`, `mariadb`, else `file` and `pos`): `[binlog file number, pos,
 *   row or 0]`.
 * NULL when the fields hold no position (no LSN; no `commit_lsn`; an empty `file`, as Flink CDC's
 * snapshot rows have; another connector), where the decoder falls back to the broker's
 * partition and offset. Integers may be JSON numbers or strings of digits. Raises SQLSTATE
 * {@link SOURCE_POSITION_SQLSTATE} for a malformed field (and for a binlog position without
 * `pos`). IMMUTABLE, STRICT.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-create-events
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-create-events
 */
export function sourceSortKeyFunctionSql(): string {
  const body = `
DECLARE
  _connector text := nullif(source ->> 'connector', '');
  _lsn numeric;
  _sequence jsonb;
  _plain text[];
  _last_commit numeric;
  _current numeric;
  _file text;
  _pos numeric;
BEGIN
  IF _connector IS NULL THEN
    _connector := CASE
      WHEN source ? 'lsn' OR source ? 'sequence' THEN 'postgresql'
      WHEN source ? 'commit_lsn' OR source ? 'change_lsn' THEN 'sqlserver'
      WHEN source ? 'file' AND source ? 'pos' THEN 'mysql'
    END;
  END IF;
  IF _connector = 'postgresql' THEN
    _lsn := ${M}.json_unsigned(source -> 'lsn', 'lsn');
    _sequence := nullif(source -> 'sequence', 'null'::jsonb);
    IF _sequence IS NULL THEN
      RETURN CASE WHEN _lsn IS NULL THEN NULL ELSE ARRAY[_lsn] END;
    END IF;
    -- The form every event has, read without parsing JSON (as the decoder does).
    _plain := regexp_match(_sequence #>> '{}', '^\\[(?:"([0-9]+)"|null),(?:"([0-9]+)"|null)\\]$');
    IF jsonb_typeof(_sequence) = 'string' AND _plain IS NOT NULL THEN
      _last_commit := _plain[1]::numeric;
      _current := _plain[2]::numeric;
    ELSE
      IF jsonb_typeof(_sequence) = 'string' THEN
        BEGIN
          _sequence := (_sequence #>> '{}')::jsonb;
        EXCEPTION WHEN invalid_text_representation THEN
          ${RAISE}, MESSAGE = format('cdc: Debezium source field sequence is not a JSON array of two LSNs: %s', source -> 'sequence');
        END;
      END IF;
      IF jsonb_typeof(_sequence) <> 'array' OR jsonb_array_length(_sequence) <> 2 THEN
        ${RAISE}, MESSAGE = format('cdc: Debezium source field sequence is not a JSON array of two LSNs: %s', source -> 'sequence');
      END IF;
      _last_commit := ${M}.json_unsigned(_sequence -> 0, 'sequence[0]');
      _current := ${M}.json_unsigned(_sequence -> 1, 'sequence[1]');
    END IF;
    _current := coalesce(_lsn, _current);
    RETURN CASE WHEN _current IS NULL THEN NULL ELSE ARRAY[coalesce(_last_commit, 0), _current] END;
  ELSIF _connector = 'sqlserver' THEN
    IF source ->> 'commit_lsn' IS NULL THEN
      RETURN NULL;
    END IF;
    RETURN ARRAY[${M}.sqlserver_lsn(source ->> 'commit_lsn'),
                 coalesce(${M}.sqlserver_lsn(source ->> 'change_lsn'), 0),
                 coalesce(${M}.json_unsigned(source -> 'event_serial_no', 'event_serial_no'), 0)];
  ELSIF _connector IN ('mysql', 'mariadb') THEN
    _file := source ->> 'file';
    IF _file IS NULL OR _file = '' THEN
      RETURN NULL;
    END IF;
    _pos := ${M}.json_unsigned(source -> 'pos', 'pos');
    IF _pos IS NULL THEN
      ${RAISE}, MESSAGE = format('cdc: a binlog position needs pos (file %s)', _file);
    END IF;
    RETURN ARRAY[${M}.binlog_file_number(_file), _pos, coalesce(${M}.json_unsigned(source -> 'row', 'row'), 0)];
  END IF;
  RETURN NULL;
END
`;
  return `CREATE OR REPLACE FUNCTION ${M}.source_sort_key(source jsonb) RETURNS numeric[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS ${dollarQuote(body, 'cdc_fn')};
COMMENT ON FUNCTION ${M}.source_sort_key(jsonb) IS 'The sort key of a Debezium change from its source fields (PostgreSQL [last commit LSN, LSN] or [LSN]; SQL Server [commit_lsn, change_lsn, event_serial_no]; MySQL [binlog file number, pos, row]), as cdc-merge''s decoder computes it; NULL without a position.';`;
}

/** Every function of this module, in creation order (each uses only those before it). */
export function sourcePositionSql(): string {
  return [jsonUnsignedSql(), sqlServerLsnFunctionSql(), binlogFileNumberFunctionSql(), sourceSortKeyFunctionSql()].join('\n\n');
}
