/**
 * Staging tables that take a Debezium connector's source fields instead of `_cdc_position`, for
 * writers that can copy fields but not compute a position: the Kafka Connect JDBC sink behind
 * Debezium's ExtractNewRecordState transform, whose `add.fields` option copies source fields into
 * the flattened row as `__lsn`, `__sequence`, `__commit_lsn`, … (docs/deferred-merge.md).
 *
 * - `cdc_management.position_from_source_fields()`: a BEFORE INSERT FOR EACH ROW trigger
 *   function. When the row's `_cdc_position` is NULL it reads the `__<field>` columns of the row
 *   (`to_jsonb(NEW)`, so any staging table will do), derives the connector's sort key with
 *   `cdc_management.source_sort_key` (source-position-sql.ts) and sets
 *   `_cdc_position = row_position(sort key…, [__kafka_offset,] staged ordinal)`, the staged ordinal
 *   being 0 for a delete and 1 otherwise, as `RowEncoder` stages a Debezium change. Without a
 *   position it raises SQLSTATE {@link SOURCE_POSITION_SQLSTATE} naming the table and what to add.
 * - `cdc_management.staging_table(schema, table) → regclass`: the staging table of a final table
 *   (the one whose marking trigger names it), NULL when there is none.
 * - `CALL cdc_management.accept_source_fields(schema, table, fields)`: adds the nullable
 *   `__<field>` columns to the table's staging table, creates the trigger on it, and records the
 *   fields in `cdc_management.source_fields`, so that a staging table re-created by a schema
 *   change gets them back (`restore_source_fields`, called by the rebuild of `tableChangeDdl`).
 *
 * The merge procedures read staging columns by name, so the extra columns change nothing there;
 * `cdc run` COPYs named columns with a position, which the trigger leaves alone.
 * @see https://debezium.io/documentation/reference/stable/transformations/event-flattening.html (add.fields)
 */
import type { TableId } from '../../schema/table.js';
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { dollarQuote } from './dollar-quote.js';
import { MANAGEMENT_SCHEMA, OP_COLUMN, POSITION_COLUMN } from './naming.js';
import { SOURCE_POSITION_SQLSTATE } from './source-position-sql.js';
import { STAGED_OP } from './table-ddl.js';

const M = quoteIdent(MANAGEMENT_SCHEMA);

/** The prefix ExtractNewRecordState gives the fields `add.fields` copies (its `add.fields.prefix` default). */
export const SOURCE_FIELD_PREFIX = '__';

/**
 * The source fields a staging table can take, each as the column `__<field>` of this type (the
 * type the JDBC sink writes the field's Kafka Connect schema type into):
 * - PostgreSQL connector: `lsn` (int64) and `sequence` (a string holding
 *   `["<last commit LSN>","<LSN>"]`);
 * - SQL Server connector: `commit_lsn`, `change_lsn` (strings `00000025:00000d98:0002`) and
 *   `event_serial_no` (int64);
 * - MySQL and MariaDB connectors: `file` (binlog file name), `pos` (int64) and `row` (int32);
 * - `kafka_offset`: the record's Kafka offset (Kafka Connect's `InsertField` transform with
 *   `offset.field=__kafka_offset`), an optional tie-break after the sort key.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-create-events
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-create-events
 * @see https://kafka.apache.org/documentation/#org.apache.kafka.connect.transforms.InsertField
 */
export const SOURCE_FIELD_TYPES = {
  lsn: 'bigint',
  sequence: 'text',
  commit_lsn: 'text',
  change_lsn: 'text',
  event_serial_no: 'bigint',
  file: 'text',
  pos: 'bigint',
  row: 'integer',
  kafka_offset: 'bigint',
} as const;

/** One of {@link SOURCE_FIELD_TYPES}' names (without the `__` prefix). */
export type SourceFieldName = keyof typeof SOURCE_FIELD_TYPES;

/** The fields each connector's position needs (the trigger also works with a subset: see `source_sort_key`). */
export const CONNECTOR_SOURCE_FIELDS = {
  postgresql: ['lsn', 'sequence'],
  sqlserver: ['commit_lsn', 'change_lsn', 'event_serial_no'],
  mysql: ['file', 'pos', 'row'],
} as const satisfies Record<string, readonly SourceFieldName[]>;

/** Name of the row trigger on a staging table. */
export const SOURCE_FIELDS_TRIGGER = 'cdc_position_from_source_fields';

const OFFSET_FIELD: SourceFieldName = 'kafka_offset';
const HINT_FIELDS = Object.entries(CONNECTOR_SOURCE_FIELDS)
  .map(([connector, fields]) => `${connector}: ${fields.map((f) => SOURCE_FIELD_PREFIX + f).join(', ')}`)
  .join('; ');

/** The trigger function. */
function triggerFunctionSql(): string {
  const fields = (Object.keys(SOURCE_FIELD_TYPES) as SourceFieldName[]).map((f) => `${quoteLiteral(f)}, _row -> ${quoteLiteral(SOURCE_FIELD_PREFIX + f)}`).join(',\n    ');
  const pos = quoteIdent(POSITION_COLUMN);
  const op = quoteIdent(OP_COLUMN);
  const deletes = [STAGED_OP.delete, 'd'].map(quoteLiteral).join(', ');
  const hint =
    `write ${POSITION_COLUMN} (cdc_management.row_position(...)), or copy the connector's source fields into the staging columns (${HINT_FIELDS}; ` +
    `Debezium's ExtractNewRecordState add.fields) after adding them with CALL cdc_management.accept_source_fields(schema, table, fields)`;
  const body = `
DECLARE
  _row jsonb;
  _fields jsonb;
  _key numeric[];
  _offset numeric;
BEGIN
  IF NEW.${pos} IS NOT NULL THEN
    RETURN NEW;
  END IF;
  _row := to_jsonb(NEW);
  _fields := jsonb_strip_nulls(jsonb_build_object(
    ${fields}));
  _key := ${M}.source_sort_key(_fields - ${quoteLiteral(OFFSET_FIELD)});
  IF _key IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = ${quoteLiteral(SOURCE_POSITION_SQLSTATE)},
      MESSAGE = format('cdc: no row position for a change staged into %I.%I (final table %I.%I): ${POSITION_COLUMN} is NULL and the source fields hold no position (%s)',
                       TG_TABLE_SCHEMA, TG_TABLE_NAME, coalesce(TG_ARGV[0], '?'), coalesce(TG_ARGV[1], '?'),
                       coalesce(nullif(array_to_string(ARRAY(SELECT '${SOURCE_FIELD_PREFIX}' || k || ' = ' || v FROM jsonb_each_text(_fields) AS e(k, v)), ', '), ''), 'none set')),
      HINT = ${quoteLiteral(hint)};
  END IF;
  _offset := ${M}.json_unsigned(_fields -> ${quoteLiteral(OFFSET_FIELD)}, ${quoteLiteral(SOURCE_FIELD_PREFIX + OFFSET_FIELD)});
  IF _offset IS NOT NULL THEN
    _key := _key || _offset;
  END IF;
  NEW.${pos} := ${M}.row_position(VARIADIC _key || CASE WHEN NEW.${op} IN (${deletes}) THEN 0 ELSE 1 END::numeric);
  RETURN NEW;
END
`;
  return `CREATE OR REPLACE FUNCTION ${M}.position_from_source_fields() RETURNS trigger
LANGUAGE plpgsql AS ${dollarQuote(body, 'cdc_fn')};
COMMENT ON FUNCTION ${M}.position_from_source_fields() IS 'BEFORE INSERT row trigger of a staging table: fills a NULL _cdc_position from the Debezium source fields (__lsn, __sequence, __commit_lsn, __change_lsn, __event_serial_no, __file, __pos, __row; optional __kafka_offset). Created by accept_source_fields.';`;
}

/** `staging_table(schema_name, table_name)`. */
function stagingTableFunctionSql(): string {
  const body = `
DECLARE
  _encoding name := getdatabaseencoding();
  _args bytea := convert_to(schema_name, _encoding) || '\\x00'::bytea || convert_to(table_name, _encoding) || '\\x00'::bytea;
BEGIN
  RETURN (SELECT t.tgrelid::regclass
            FROM pg_trigger AS t
           WHERE t.tgfoid = to_regprocedure('${MANAGEMENT_SCHEMA}.mark_staged()')
             AND position(_args IN t.tgargs) = 1
           LIMIT 1);
END
`;
  return `CREATE OR REPLACE FUNCTION ${M}.staging_table(schema_name text, table_name text) RETURNS regclass
LANGUAGE plpgsql STABLE STRICT AS ${dollarQuote(body, 'cdc_fn')};
COMMENT ON FUNCTION ${M}.staging_table(text, text) IS 'The staging table of a final table (the one whose marking trigger names it); NULL when there is none.';`;
}

/** `accept_source_fields(schema_name, table_name, fields)`. */
function acceptProcedureSql(): string {
  const types = Object.entries(SOURCE_FIELD_TYPES)
    .map(([f, t]) => `WHEN ${quoteLiteral(f)} THEN ${quoteLiteral(t)}`)
    .join(' ');
  const known = Object.keys(SOURCE_FIELD_TYPES).join(', ');
  const body = `
DECLARE
  _staging regclass := ${M}.staging_table(schema_name, table_name);
  _final regclass := to_regclass(format('%I.%I', schema_name, table_name));
  _field text;
  _fields text[] := '{}';
  _type text;
BEGIN
  IF _staging IS NULL THEN
    RAISE EXCEPTION 'cdc: %.% has no staging table', schema_name, table_name
      USING HINT = 'create the table first: cdc migrations apply, or cdc run';
  END IF;
  FOREACH _field IN ARRAY coalesce(fields, '{}') LOOP
    _field := regexp_replace(_field, '^${SOURCE_FIELD_PREFIX}', '');
    _type := CASE _field ${types} END;
    IF _type IS NULL THEN
      RAISE EXCEPTION 'cdc: % is not a source field a staging table can take', quote_literal(_field)
        USING HINT = 'fields (with or without the ${SOURCE_FIELD_PREFIX} prefix): ${known}';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = _final AND attname = '${SOURCE_FIELD_PREFIX}' || _field AND attnum > 0 AND NOT attisdropped) THEN
      RAISE EXCEPTION 'cdc: %.% has a column named %: its staging table cannot take the source field %', schema_name, table_name, '${SOURCE_FIELD_PREFIX}' || _field, _field
        USING HINT = 'rename the field on its way (Kafka Connect ReplaceField) and write _cdc_position yourself';
    END IF;
    IF NOT _field = ANY (_fields) THEN
      _fields := _fields || _field;
    END IF;
  END LOOP;
  IF NOT (_fields && ARRAY['lsn', 'sequence', 'commit_lsn'] OR _fields @> ARRAY['file', 'pos']) THEN
    RAISE EXCEPTION 'cdc: the fields {%} hold no source position', array_to_string(_fields, ', ')
      USING HINT = 'name the connector''s position fields: ${HINT_FIELDS.replaceAll(SOURCE_FIELD_PREFIX, '')}; optionally kafka_offset';
  END IF;
  FOREACH _field IN ARRAY _fields LOOP
    EXECUTE format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS %I %s', _staging, '${SOURCE_FIELD_PREFIX}' || _field, CASE _field ${types} END);
  END LOOP;
  EXECUTE format('DROP TRIGGER IF EXISTS ${SOURCE_FIELDS_TRIGGER} ON %s', _staging);
  EXECUTE format('CREATE TRIGGER ${SOURCE_FIELDS_TRIGGER} BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION ${M}.position_from_source_fields(%L, %L)',
                 _staging, schema_name, table_name);
  INSERT INTO ${M}.source_fields AS f (schema_name, table_name, fields)
  VALUES (accept_source_fields.schema_name, accept_source_fields.table_name, _fields)
  ON CONFLICT ON CONSTRAINT source_fields_pkey DO UPDATE
  SET fields = ARRAY(SELECT DISTINCT unnest(f.fields || EXCLUDED.fields) ORDER BY 1), updated_at = now();
END
`;
  return `CREATE OR REPLACE PROCEDURE ${M}.accept_source_fields(schema_name text, table_name text, fields text[])
LANGUAGE plpgsql AS ${dollarQuote(body, 'cdc_proc')};
COMMENT ON PROCEDURE ${M}.accept_source_fields(text, text, text[]) IS 'Lets the staging table of a final table take Debezium source fields (__lsn, __sequence, …) instead of _cdc_position: adds the columns, creates the position_from_source_fields trigger, records the fields.';`;
}

/** `restore_source_fields(schema_name, table_name)`. */
function restoreProcedureSql(): string {
  const body = `
DECLARE
  _fields text[];
BEGIN
  SELECT f.fields INTO _fields FROM ${M}.source_fields AS f
   WHERE f.schema_name = restore_source_fields.schema_name AND f.table_name = restore_source_fields.table_name;
  IF FOUND THEN
    CALL ${M}.accept_source_fields(schema_name, table_name, _fields);
  END IF;
END
`;
  return `CREATE OR REPLACE PROCEDURE ${M}.restore_source_fields(schema_name text, table_name text)
LANGUAGE plpgsql AS ${dollarQuote(body, 'cdc_proc')};
COMMENT ON PROCEDURE ${M}.restore_source_fields(text, text) IS 'Gives a re-created staging table the source fields accept_source_fields recorded for it (a no-op when none).';`;
}

/**
 * The functions and procedures of the module comment, CREATE OR REPLACE throughout; part of
 * `infrastructureSql()`, after the table `cdc_management.source_fields`, `row_position`,
 * `mark_staged` and the functions of `sourcePositionSql()`.
 */
export function sourceFieldsSql(): string {
  return [triggerFunctionSql(), stagingTableFunctionSql(), acceptProcedureSql(), restoreProcedureSql()].join('\n\n');
}

/**
 * `CALL cdc_management.accept_source_fields('s', 't', ARRAY['lsn', 'sequence']);`: lets the
 * staging table of `table` take `fields` (see the module comment). The table's staging table must
 * exist. Raises (in the database) for an unknown field, a field that names a column of the final
 * table, or fields that hold no position.
 */
export function acceptSourceFieldsCallSql(table: TableId, fields: readonly SourceFieldName[]): string {
  const list = fields.map(quoteLiteral).join(', ');
  return `CALL ${M}.accept_source_fields(${quoteLiteral(table.schema)}, ${quoteLiteral(table.name)}, ARRAY[${list}]::text[]);`;
}

/**
 * `CALL cdc_management.restore_source_fields('s', 't');`: after the staging table of `table` was
 * re-created, gives it back the source fields recorded for it (nothing when none were).
 */
export function restoreSourceFieldsCallSql(table: TableId): string {
  return `CALL ${M}.restore_source_fields(${quoteLiteral(table.schema)}, ${quoteLiteral(table.name)});`;
}
