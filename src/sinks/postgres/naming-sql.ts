/**
 * The naming rule of `naming.ts` in SQL, so that the database can find a table's merge procedure
 * from the table's schema and name alone, without reading a name anyone could have written
 * (issue 11, item 18: the merge once ran whatever `merge_control.merge_procedure` said).
 *
 * - `cdc_management.fit_identifier(name text, discriminator bytea, force_hash boolean) → text`:
 *   `fitIdentifier` of naming.ts. Lengths are UTF-8 bytes (as naming.ts counts them, whatever the
 *   database encoding), the name is cut at a character boundary, and the suffix is `_` plus the
 *   first 8 hex digits of SHA-256 of `discriminator`.
 * - `cdc_management.merge_procedure_name(schema_name text, table_name text) → text`: the unquoted
 *   name, in `cdc_staging`, of the table's merge procedure (`mergeProcedureId`).
 *
 * `naming-sql.pg.test.ts` checks both against naming.ts on hostile names.
 */
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { dollarQuote } from './dollar-quote.js';
import { MANAGEMENT_SCHEMA, MAX_IDENTIFIER_BYTES, MERGE_PROCEDURE_PREFIX } from './naming.js';

const M = quoteIdent(MANAGEMENT_SCHEMA);

function fitIdentifierSql(): string {
  const body = `
DECLARE
  _suffix text;
  _budget integer;
  _kept text := '';
  _bytes integer := 0;
  _size integer;
  _char text;
BEGIN
  IF NOT force_hash AND octet_length(convert_to(name, 'UTF8')) <= ${MAX_IDENTIFIER_BYTES} THEN
    RETURN name;
  END IF;
  _suffix := '_' || left(encode(sha256(discriminator), 'hex'), 8);
  _budget := ${MAX_IDENTIFIER_BYTES} - length(_suffix);
  FOREACH _char IN ARRAY regexp_split_to_array(name, '') LOOP
    _size := octet_length(convert_to(_char, 'UTF8'));
    EXIT WHEN _bytes + _size > _budget;
    _kept := _kept || _char;
    _bytes := _bytes + _size;
  END LOOP;
  RETURN _kept || _suffix;
END
`;
  return `CREATE OR REPLACE FUNCTION ${M}.fit_identifier(name text, discriminator bytea, force_hash boolean) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS ${dollarQuote(body, 'cdc_fn')};
COMMENT ON FUNCTION ${M}.fit_identifier(text, bytea, boolean) IS ${quoteLiteral(
    `A name as cdc-merge fits it into ${MAX_IDENTIFIER_BYTES} bytes: kept when it fits (and force_hash is false), else cut and suffixed with _ and 8 hex digits of sha256(discriminator).`,
  )};`;
}

function mergeProcedureNameSql(): string {
  const prefix = quoteLiteral(MERGE_PROCEDURE_PREFIX);
  const body = `
  SELECT ${M}.fit_identifier(
           ${prefix} || schema_name || '.' || table_name,
           convert_to(${prefix} || schema_name, 'UTF8') || '\\x00'::bytea || convert_to(table_name, 'UTF8'),
           strpos(schema_name, '.') > 0 OR strpos(table_name, '.') > 0)
`;
  return `CREATE OR REPLACE FUNCTION ${M}.merge_procedure_name(schema_name text, table_name text) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS ${dollarQuote(body, 'cdc_fn')};
COMMENT ON FUNCTION ${M}.merge_procedure_name(text, text) IS 'Name (unquoted, in cdc_staging) of the merge procedure of the final table schema_name.table_name.';`;
}

/**
 * `CREATE OR REPLACE` of the functions of the module comment; part of `infrastructureSql()`,
 * before the deferred-merge procedures that call them.
 */
export function namingFunctionsSql(): string {
  return [fitIdentifierSql(), mergeProcedureNameSql()].join('\n\n');
}
