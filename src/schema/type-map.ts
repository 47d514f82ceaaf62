/**
 * Source column types → PostgreSQL column types and logical types, by rules kept as data in
 * `type-maps/*.yaml` (one file per source dialect; the rule format is described at the top of
 * each file).
 *
 * Output types are spelled as PostgreSQL's `format_type()` prints them (`integer`,
 * `character varying(160)`, `timestamp(6) without time zone`, `numeric(10,2)`, `integer[]`), so a
 * mapped column can be compared with a live catalog as a plain string.
 * @see https://www.postgresql.org/docs/current/datatype.html
 * @see https://learn.microsoft.com/sql/t-sql/data-types/data-types-transact-sql
 */
import { CdcError } from '../errors.js';
import { parseLogicalType, type LogicalType } from './logical-type.js';
import { normalizeSourceType, type SourceDialect } from './source-type-spelling.js';
import { DIALECT_NAMES, FILES, PLACEHOLDER, typeMap, type TypeRule, type TypeTarget } from './type-map-file.js';

export { normalizeSourceType, type SourceDialect } from './source-type-spelling.js';

/** Result of mapping one source column type. */
export interface MappedType {
  /**
   * PostgreSQL type as `format_type()` prints it, lower case: `character varying(160)`,
   * `timestamp(6) without time zone`, `numeric(19,4)`, `integer`, `text`, `uuid`, `integer[]`.
   */
  readonly type: string;
  /**
   * The logical type of the column's values (field `logical` of the rule): `int32`,
   * `decimal(10,2)`, `timestamptz`, `array<text>`, … `text` when `known` is false.
   */
  readonly logical: LogicalType;
  /** False when the source type is unknown (or its arguments do not fit its rule) and `text` was used. */
  readonly known: boolean;
  /**
   * One line for the user: why the type fell back to `text`, or what a known mapping loses
   * (a `warn` note of the rule). Names the table and the column.
   */
  readonly warning?: string;
}

/** A normalized type cut into its name (arguments removed), its arguments and whether it is an array. */
interface ParsedType {
  readonly name: string;
  readonly args: readonly string[] | undefined;
  readonly array: boolean;
}

/** Splits a normalized type; undefined when it has more than one argument list. */
function parseType(dialect: SourceDialect, normalized: string): ParsedType | undefined {
  let base = normalized;
  let array = false;
  if (dialect === 'postgresql') {
    const m = /^(.+?)(?:(?:\[-?\d*\])+| array(?:\[-?\d*\])?)$/.exec(base);
    if (m) {
      base = m[1]!;
      array = true;
    }
  }
  const m = /^([^()]*)(?:\(([^()]*)\)([^()]*))?$/.exec(base);
  if (!m) return undefined;
  const name = `${m[1]!} ${m[3] ?? ''}`.replace(/\s+/g, ' ').trim();
  return { name, args: m[2] === undefined ? undefined : m[2].split(','), array };
}

/** The target of a rule, its placeholders filled. */
interface Applied {
  readonly type: string;
  readonly logical: LogicalType;
}

/** Fills a target's placeholders; a logical type the values make invalid (`decimal(2000,0)`) is a problem. */
function fill(target: TypeTarget, values: Readonly<Record<string, number>>): Applied | { problem: string } {
  const put = (template: string) => template.replace(PLACEHOLDER, (_, name: string) => String(values[name]));
  const logicalText = put(target.logical);
  try {
    return { type: put(target.to), logical: parseLogicalType(logicalText) };
  } catch (error) {
    if (!(error instanceof CdcError)) throw error;
    return { problem: `its logical type ${logicalText} is invalid: ${error.message}` };
  }
}

/** The target of `rule` for `args`, or the reason it does not apply. */
function applyRule(rule: TypeRule, args: readonly string[] | undefined): Applied | { problem: string } {
  if (args === undefined && rule.bare !== undefined) return fill(rule.bare, {});
  const given = args ?? [];
  if (given.length === 1 && given[0] === 'max') {
    return rule.max === undefined ? { problem: `${rule.key} does not take max` } : fill(rule.max, {});
  }
  if (given.length > rule.params.length) {
    return { problem: rule.params.length === 0 ? `${rule.key} takes no arguments` : `${rule.key} takes at most ${rule.params.length} argument(s)` };
  }
  const values: Record<string, number> = {};
  for (const [i, name] of rule.params.entries()) {
    const arg = given[i];
    if (arg !== undefined && !/^-?\d+$/.test(arg)) return { problem: `argument ${JSON.stringify(arg)} is not a whole number` };
    const value = arg === undefined ? rule.defaults[name] : Number(arg);
    if (value === undefined) return { problem: `${rule.key} needs its ${name} argument` };
    values[name] = value;
  }
  const chosen = rule.when.find((w) => Object.entries(w.upTo).every(([name, limit]) => values[name]! <= limit));
  for (const [name, limit] of Object.entries(rule.clamp)) values[name] = Math.min(values[name]!, limit);
  return fill(chosen?.target ?? rule.target, values);
}

const TEXT: LogicalType = { kind: 'text' };

/** The logical type of an array of a type with `rule`: `array<T>`, or text when its literals are not comma-separated. */
function arrayOf(rule: TypeRule, element: LogicalType): LogicalType {
  return rule.delimiter === undefined ? { kind: 'array', element } : TEXT;
}

/**
 * Maps one source column type to the PostgreSQL type a target column gets, by the rules in
 * `type-maps/<dialect>-postgresql.yaml` (read on first use, then cached).
 *
 * `sourceType` may be in any spelling {@link normalizeSourceType} accepts. For PostgreSQL,
 * aliases and typmods are resolved (`int4` → `integer`, `varchar(10)` → `character varying(10)`,
 * `timestamptz(3)` → `timestamp(3) with time zone`) and arrays map element by element
 * (`int4[]` → `integer[]`). A type without a rule, or whose arguments do not fit its rule
 * (`int(4)`, `char(max)`), maps to `text` with `known: false` and a warning naming `where`.
 * A known type whose rule has a `warn` note (SQL Server geography, sql_variant, …) comes back
 * with `known: true` and that note as `warning`.
 *
 * @param where the table (as the caller names it, e.g. `dbo.Invoice`) and column, for the warning
 * @throws {CdcError} TYPE_MAP_INVALID when the data file is missing or malformed (file:line in the message)
 */
export function mapColumnType(dialect: SourceDialect, sourceType: string, where: { table: string; column: string }): MappedType {
  const map = typeMap(dialect);
  const normalized = normalizeSourceType(dialect, sourceType);
  const parsed = parseType(dialect, normalized);
  const rule = parsed && map.rules.get(parsed.name);
  const file = `type-maps/${FILES[dialect]}`;
  const what = `${DIALECT_NAMES[dialect]} type ${JSON.stringify(normalized)} for column ${JSON.stringify(where.column)} of table ${JSON.stringify(where.table)}`;
  if (!parsed || !rule) {
    return { type: 'text', logical: TEXT, known: false, warning: `unknown ${what}: mapped to text; add it to ${file}` };
  }
  const result = applyRule(rule, parsed.args);
  if ('problem' in result) {
    return { type: 'text', logical: TEXT, known: false, warning: `cannot map ${what} (${result.problem}): mapped to text; fix the column type or add a rule to ${file}` };
  }
  const type = parsed.array ? `${result.type}[]` : result.type;
  const logical = parsed.array ? arrayOf(rule, result.logical) : result.logical;
  return rule.warn === undefined ? { type, logical, known: true } : { type, logical, known: true, warning: `${what} → ${type}: ${rule.warn}` };
}

const logicalCache = new Map<string, LogicalType>();

/**
 * The logical type of a PostgreSQL column type, by the `logical` fields of
 * `type-maps/postgresql-postgresql.yaml`. `postgresType` is written as `format_type()` prints it
 * (any spelling {@link normalizeSourceType} accepts works too):
 * `integer` → int32, `character varying(40)` → text, `numeric(10,2)` → decimal(10,2),
 * `numeric` → decimal (no precision), `timestamp(3) with time zone` → timestamptz,
 * `text[]` → array<text>, `integer[]` → array<int32> (whatever the number of dimensions),
 * `inet` → text (its text form; the data file says which types have no faithful logical type).
 * An unknown type (an enum, a domain, an extension type) or one whose arguments do not fit its
 * rule is `text`. Results are cached per spelling.
 * @see https://www.postgresql.org/docs/current/datatype.html
 * @throws {CdcError} TYPE_MAP_INVALID when the PostgreSQL data file is missing or malformed
 */
export function logicalTypeOf(postgresType: string): LogicalType {
  let logical = logicalCache.get(postgresType);
  if (logical === undefined) {
    const parsed = parseType('postgresql', normalizeSourceType('postgresql', postgresType));
    const rule = parsed && typeMap('postgresql').rules.get(parsed.name);
    const result = rule && applyRule(rule, parsed.args);
    if (!rule || !result || 'problem' in result) logical = TEXT;
    else logical = parsed.array ? arrayOf(rule, result.logical) : result.logical;
    logicalCache.set(postgresType, logical);
  }
  return logical;
}

/**
 * True when values of the PostgreSQL type `pgType` are variable-length (typlen -1) and so may be
 * stored out of line (TOAST) and arrive as "unchanged" in a pgoutput update: text, character
 * varying, character, numeric, bytea, json, jsonb, xml, inet, bit strings, ranges, every array.
 * False for the fixed-width types marked `fixed: true` in `type-maps/postgresql-postgresql.yaml`
 * (smallint, integer, bigint, real, double precision, boolean, date, time…, timestamp…, interval,
 * uuid, money, oid, …).
 *
 * Any spelling is accepted (`int4`, `timestamp(3) with time zone`, `integer[]`). A type the file
 * does not know (an enum, a domain, an extension type) counts as toastable: treating a
 * fixed-width type as toastable only costs a check that never fires, the reverse would lose data.
 * @see https://www.postgresql.org/docs/current/storage-toast.html
 * @throws {CdcError} TYPE_MAP_INVALID when the PostgreSQL data file is missing or malformed
 */
export function isToastable(pgType: string): boolean {
  const parsed = parseType('postgresql', normalizeSourceType('postgresql', pgType));
  if (!parsed || parsed.array) return true;
  return !(typeMap('postgresql').rules.get(parsed.name)?.fixed ?? false);
}
