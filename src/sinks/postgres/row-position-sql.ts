/**
 * Row positions in SQL (src/events/position.ts has the encoding and the elements per source):
 * `cdc_management.row_position(VARIADIC numeric[])` encodes a position as the sink stores it in
 * `_cdc_position`, for external writers of staging tables and for the upgrade below; and
 * `cdc_management.upgrade_row_position(schema, table)` converts one table created before release
 * 0.2 (`_cdc_lsn bigint`, `_cdc_ordinal integer`) and its staging table in place.
 */
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { LEGACY_LSN_COLUMN, LEGACY_ORDINAL_COLUMN, MANAGEMENT_SCHEMA, POSITION_COLUMN, STAGING_SCHEMA, stagingTableId } from './naming.js';
import type { TableId } from '../../schema/table.js';

const M = quoteIdent(MANAGEMENT_SCHEMA);

/**
 * `CREATE OR REPLACE FUNCTION cdc_management.row_position(VARIADIC numeric[]) RETURNS bytea`:
 * each element, a non-negative integer, becomes one length byte and its big-endian bytes without
 * leading zeros (`row_position(0)` = `\x00`, `row_position(256, 1)` = `\x020100 0101`), so
 * bytewise order is element-wise order. Raises for a negative or fractional element. IMMUTABLE.
 */
export function rowPositionFunctionSql(): string {
  return `CREATE OR REPLACE FUNCTION ${M}.row_position(VARIADIC parts numeric[]) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  encoded bytea := '\\x';
  part numeric;
  v numeric;
  magnitude bytea;
BEGIN
  FOREACH part IN ARRAY parts LOOP
    IF part < 0 OR part <> trunc(part) THEN
      RAISE EXCEPTION 'row_position: % is not a non-negative integer', part;
    END IF;
    magnitude := '\\x';
    v := part;
    WHILE v > 0 LOOP
      magnitude := set_byte('\\x00'::bytea, 0, mod(v, 256)::int) || magnitude;
      v := div(v, 256);
    END LOOP;
    encoded := encoded || set_byte('\\x00'::bytea, 0, length(magnitude)) || magnitude;
  END LOOP;
  RETURN encoded;
END
$fn$;
COMMENT ON FUNCTION ${M}.row_position(numeric[]) IS 'Encodes a row position (non-negative integers) as the bytes _cdc_position holds: bytewise order is element-wise order.';`;
}

/**
 * `CREATE OR REPLACE FUNCTION cdc_management.row_position_parts(bytea) RETURNS numeric[]`: the
 * integers a row position encodes (for people reading `_cdc_position`). Raises for bytes that are
 * not an encoding. IMMUTABLE.
 */
export function rowPositionPartsFunctionSql(): string {
  return `CREATE OR REPLACE FUNCTION ${M}.row_position_parts(encoded bytea) RETURNS numeric[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  parts numeric[] := '{}';
  i int := 0;
  n int;
  v numeric;
BEGIN
  WHILE i < length(encoded) LOOP
    n := get_byte(encoded, i);
    IF i + 1 + n > length(encoded) THEN
      RAISE EXCEPTION 'row_position_parts: element at byte % runs past the end', i;
    END IF;
    v := 0;
    FOR j IN 1 .. n LOOP
      v := v * 256 + get_byte(encoded, i + j);
    END LOOP;
    parts := parts || v;
    i := i + 1 + n;
  END LOOP;
  RETURN parts;
END
$fn$;
COMMENT ON FUNCTION ${M}.row_position_parts(bytea) IS 'The integers a row position (_cdc_position) encodes.';`;
}

/**
 * `CREATE OR REPLACE PROCEDURE cdc_management.upgrade_row_position(schema_name, table_name, staging_name text)`:
 * when the final table still has `_cdc_lsn` and `_cdc_ordinal`, adds `_cdc_position`, fills it
 * and drops the two; the same for its staging table (rows an external writer staged keep their
 * order). A final row's position becomes `[lsn, ordinal]` (`[lsn]` for a snapshot row at ordinal
 * -1, empty for a row written by other means: lsn 0, ordinal -1), except for tables of pipelines
 * that read a broker (their `_cdc_lsn` was a broker sequence, not comparable with source
 * positions): empty, so every change read after the upgrade wins, as every such change is newer.
 * A no-op on an upgraded table; safe to call on every start.
 */
export function upgradeProcedureSql(): string {
  const pos = quoteIdent(POSITION_COLUMN);
  const lsn = quoteIdent(LEGACY_LSN_COLUMN);
  const ord = quoteIdent(LEGACY_ORDINAL_COLUMN);
  return `CREATE OR REPLACE PROCEDURE ${M}.upgrade_row_position(schema_name text, table_name text, staging_name text)
LANGUAGE plpgsql AS $proc$
DECLARE
  final regclass := to_regclass(format('%I.%I', schema_name, table_name));
  staging regclass := to_regclass(format('%I.%I', ${quoteLiteral(STAGING_SCHEMA)}, staging_name));
  from_broker boolean;
BEGIN
  IF final IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = final AND attname = ${quoteLiteral(LEGACY_LSN_COLUMN)} AND NOT attisdropped) THEN
    SELECT bool_or(o.source_partition <> '' OR coalesce(o.position_text, '') !~ '^[0-9A-F]+/[0-9A-F]+$')
      INTO from_broker
      FROM ${M}.table_definitions d JOIN ${M}.offsets o ON o.pipeline = d.pipeline
     WHERE d.schema_name = upgrade_row_position.schema_name AND d.table_name = upgrade_row_position.table_name;
    EXECUTE format('ALTER TABLE %s ADD COLUMN ${pos} bytea', final);
    IF coalesce(from_broker, false) THEN
      EXECUTE format('UPDATE %s SET ${pos} = ''\\x''::bytea', final);
    ELSE
      EXECUTE format('UPDATE %s SET ${pos} = CASE WHEN ${lsn} = 0 AND ${ord} < 0 THEN ''\\x''::bytea'
        ' WHEN ${ord} < 0 THEN ${M}.row_position(${lsn}) ELSE ${M}.row_position(${lsn}, ${ord}) END', final);
    END IF;
    EXECUTE format('ALTER TABLE %s ALTER COLUMN ${pos} SET NOT NULL, ALTER COLUMN ${pos} SET DEFAULT ''\\x''::bytea, DROP COLUMN ${lsn}, DROP COLUMN ${ord}', final);
  END IF;
  IF staging IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = staging AND attname = ${quoteLiteral(LEGACY_LSN_COLUMN)} AND NOT attisdropped) THEN
    EXECUTE format('ALTER TABLE %s ADD COLUMN ${pos} bytea', staging);
    EXECUTE format('UPDATE %s SET ${pos} = ${M}.row_position(${lsn}, greatest(${ord}, 0))', staging);
    EXECUTE format('ALTER TABLE %s ALTER COLUMN ${pos} SET NOT NULL, DROP COLUMN ${lsn}, DROP COLUMN ${ord}', staging);
  END IF;
END
$proc$;
COMMENT ON PROCEDURE ${M}.upgrade_row_position(text, text, text) IS 'Converts a table made before release 0.2 (_cdc_lsn, _cdc_ordinal) and its staging table to _cdc_position, in place.';`;
}

/** `CALL cdc_management.upgrade_row_position('s', 't', '<staging name>');` for one final table. */
export function upgradeCallSql(table: TableId): string {
  return `CALL ${M}.upgrade_row_position(${quoteLiteral(table.schema)}, ${quoteLiteral(table.name)}, ${quoteLiteral(stagingTableId(table).name)});`;
}
