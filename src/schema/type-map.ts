/**
 * Source column types → PostgreSQL column types, by rules kept as data in `type-maps/*.yaml`
 * (one file per source dialect; the rule format is described at the top of each file).
 *
 * Output types are spelled as PostgreSQL's `format_type()` prints them (`integer`,
 * `character varying(160)`, `timestamp(6) without time zone`, `numeric(10,2)`, `integer[]`), so a
 * mapped column can be compared with a live catalog as a plain string.
 * @see https://www.postgresql.org/docs/current/datatype.html
 * @see https://learn.microsoft.com/sql/t-sql/data-types/data-types-transact-sql
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadYamlFile } from '../config/yaml-file.js';
import { CdcError } from '../errors.js';

/** The dialect a column type is written in. */
export type SourceDialect = 'mssql' | 'postgresql';

/** Result of mapping one source column type. */
export interface MappedType {
  /**
   * PostgreSQL type as `format_type()` prints it, lower case: `character varying(160)`,
   * `timestamp(6) without time zone`, `numeric(19,4)`, `integer`, `text`, `uuid`, `integer[]`.
   */
  readonly type: string;
  /** False when the source type is unknown (or its arguments do not fit its rule) and `text` was used. */
  readonly known: boolean;
  /**
   * One line for the user: why the type fell back to `text`, or what a known mapping loses
   * (a `warn` note of the rule). Names the table and the column.
   */
  readonly warning?: string;
}

/** The data file of each dialect, under `type-maps/` at the package root. */
const FILES: Readonly<Record<SourceDialect, string>> = {
  mssql: 'mssql-postgresql.yaml',
  postgresql: 'postgresql-postgresql.yaml',
};

const DIALECT_NAMES: Readonly<Record<SourceDialect, string>> = { mssql: 'SQL Server', postgresql: 'PostgreSQL' };

const paramName = z.string().regex(/^[a-z]+$/, 'use a lower-case name such as n, p or s');
const numbers = z.record(z.string(), z.number().int());

/** One entry under `types:`; `alias` excludes every other field (checked after parsing). */
const ruleSchema = z
  .object({
    alias: z.string().min(1).optional(),
    to: z.string().min(1).optional(),
    params: z.array(paramName).max(3).optional(),
    defaults: numbers.optional(),
    bare: z.string().min(1).optional(),
    clamp: numbers.optional(),
    max: z.string().min(1).optional(),
    when: z.array(z.object({ upTo: numbers, to: z.string().min(1) }).strict()).optional(),
    warn: z.string().min(1).optional(),
    fixed: z.boolean().optional(),
  })
  .strict();

const fileSchema = z
  .object({
    source: z.enum(['mssql', 'postgresql']),
    types: z.record(z.string(), ruleSchema),
  })
  .strict();

/** A validated rule, aliases resolved. */
interface TypeRule {
  /** The key the rule is written under (an alias points here). */
  readonly key: string;
  readonly to: string;
  readonly params: readonly string[];
  readonly defaults: Readonly<Record<string, number>>;
  readonly bare: string | undefined;
  readonly clamp: Readonly<Record<string, number>>;
  readonly max: string | undefined;
  readonly when: readonly { readonly upTo: Readonly<Record<string, number>>; readonly to: string }[];
  readonly warn: string | undefined;
  readonly fixed: boolean;
}

/** A loaded data file: source type name (normalized, without arguments) → rule. */
interface TypeMap {
  readonly file: string;
  readonly rules: ReadonlyMap<string, TypeRule>;
}

const PLACEHOLDER = /\{([a-z]+)\}/g;

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/**
 * Reads and validates one data file.
 * @throws {CdcError} TYPE_MAP_INVALID, `<file>:<line>: <field>: <problem>`, for a YAML or schema
 *   error, a key not in normalized spelling, an alias to a missing key or to another alias, a
 *   placeholder or a `defaults`/`clamp`/`upTo` name that is not in `params`, `bare`/`max` with
 *   placeholders, or `fixed` outside the PostgreSQL file.
 */
function loadTypeMap(dialect: SourceDialect): TypeMap {
  const file = fileURLToPath(new URL(`../../type-maps/${FILES[dialect]}`, import.meta.url));
  const remedy = 'fix that entry; the rule format is described in the comment at the top of the file';
  const loaded = loadYamlFile(file, fileSchema, { code: 'TYPE_MAP_INVALID', what: 'type map', remedy });
  const fail = (path: string, message: string): never => {
    const line = loaded.lineOf(path) ?? 1;
    throw new CdcError('TYPE_MAP_INVALID', `${file}:${line}: ${path}: ${message}`, { remedy, context: { file, line, field: path } });
  };
  const { source, types } = loaded.data;
  if (source !== dialect) fail('source', `is ${source} but this file holds the ${dialect} rules`);
  const rules = new Map<string, TypeRule>();
  for (const [key, entry] of Object.entries(types)) {
    const at = `types.${key}`;
    if (key.includes('(') || normalizeSourceType(dialect, key) !== key) {
      fail(at, `write the type name as normalizeSourceType() does, without arguments: ${JSON.stringify(normalizeSourceType(dialect, key).replace(/\(.*?\)/g, ''))}`);
    }
    if (entry.alias !== undefined) {
      if (Object.keys(entry).length > 1) fail(at, 'an alias has no other fields');
      continue;
    }
    if (entry.to === undefined) fail(at, 'needs `to` (or `alias`)');
    const params = entry.params ?? [];
    const known = (names: Iterable<string>, field: string) => {
      for (const n of names) if (!params.includes(n)) fail(`${at}.${field}`, `${n} is not one of params [${params.join(', ')}]`);
    };
    known(placeholders(entry.to!), 'to');
    known(Object.keys(entry.defaults ?? {}), 'defaults');
    known(Object.keys(entry.clamp ?? {}), 'clamp');
    (entry.when ?? []).forEach((w, i) => {
      known(Object.keys(w.upTo), `when[${i}].upTo`);
      known(placeholders(w.to), `when[${i}].to`);
    });
    if (entry.bare !== undefined && placeholders(entry.bare).length > 0) fail(`${at}.bare`, 'is used without arguments, so it cannot have placeholders');
    if (entry.max !== undefined && placeholders(entry.max).length > 0) fail(`${at}.max`, 'cannot have placeholders');
    if (entry.fixed !== undefined && dialect !== 'postgresql') fail(`${at}.fixed`, 'only means something for PostgreSQL types (postgresql-postgresql.yaml)');
    rules.set(key, {
      key,
      to: entry.to!,
      params,
      defaults: entry.defaults ?? {},
      bare: entry.bare,
      clamp: entry.clamp ?? {},
      max: entry.max,
      when: entry.when ?? [],
      warn: entry.warn,
      fixed: entry.fixed ?? false,
    });
  }
  for (const [key, entry] of Object.entries(types)) {
    if (entry.alias === undefined) continue;
    const target = rules.get(entry.alias);
    if (!target) {
      fail(`types.${key}.alias`, types[entry.alias] ? `${entry.alias} is itself an alias; point to the rule it names` : `there is no type ${JSON.stringify(entry.alias)} in this file`);
    }
    rules.set(key, target!);
  }
  return { file, rules };
}

const cache = new Map<SourceDialect, TypeMap>();

/** The rules of `dialect`, read once per process. */
function typeMap(dialect: SourceDialect): TypeMap {
  let map = cache.get(dialect);
  if (!map) {
    map = loadTypeMap(dialect);
    cache.set(dialect, map);
  }
  return map;
}

/** Tokens of a type spelling: quoted names, words and numbers, punctuation. */
const TOKEN = {
  mssql: /\s*(?:\[((?:[^\]]|\]\])*)\]|("(?:[^"]|"")*")|([^\s()[\],."]+)|([(),.]))/y,
  postgresql: /\s*(?:("(?:[^"]|"")*")|([^\s()[\],."]+)|([()[\],.]))/y,
};

/**
 * The canonical spelling of a source type, used in table files and as the key of the data files:
 * lower case, single spaces between words, no spaces around `(`, `)`, `,`, `.`, `[`, `]`, one
 * space after `)` when a word follows. `NVARCHAR(MAX)` → `nvarchar(max)`, `NUMERIC(10, 2)` →
 * `numeric(10,2)`, `TIMESTAMP (3) WITH TIME ZONE` → `timestamp(3) with time zone`,
 * `INTEGER [ ]` → `integer[]`.
 *
 * SQL Server: `[bracketed]` and `"quoted"` names lose their quotes (`[nvarchar](10)` →
 * `nvarchar(10)`); type names are case-insensitive there. PostgreSQL: `"quoted"` names are kept
 * as written (`"char"`), and `[` `]` are array brackets. Aliases are not resolved
 * (`int4` stays `int4`): that is {@link mapColumnType}'s job. Never throws; text that is not a
 * type spelling is only lower-cased with its spaces collapsed.
 */
export function normalizeSourceType(dialect: SourceDialect, sourceType: string): string {
  const re = TOKEN[dialect];
  re.lastIndex = 0;
  const text = sourceType.trim();
  let out = '';
  let previous: 'word' | 'punct' | ')' | undefined;
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) return text.toLowerCase().replace(/\s+/g, ' ');
    // Same group layout for both dialects: [bracketed] (SQL Server only), "quoted", word, punctuation.
    const [, bracketed, quoted, word, punct] = dialect === 'mssql' ? m : [m[0], undefined, m[1], m[2], m[3]];
    let piece: string;
    if (punct !== undefined) piece = punct;
    else if (dialect === 'postgresql') piece = quoted ?? word!.toLowerCase();
    else piece = (bracketed?.replaceAll(']]', ']') ?? quoted?.slice(1, -1).replaceAll('""', '"') ?? word!).toLowerCase();
    const kind = punct === undefined ? 'word' : punct === ')' ? ')' : 'punct';
    if (kind === 'word' && (previous === 'word' || previous === ')')) out += ' ';
    out += piece;
    previous = kind;
  }
  return out;
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

/** The target type of `rule` for `args`, or the reason it does not apply. */
function applyRule(rule: TypeRule, args: readonly string[] | undefined): { type: string } | { problem: string } {
  if (args === undefined && rule.bare !== undefined) return { type: rule.bare };
  const given = args ?? [];
  if (given.length === 1 && given[0] === 'max') {
    return rule.max === undefined ? { problem: `${rule.key} does not take max` } : { type: rule.max };
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
  return { type: (chosen?.to ?? rule.to).replace(PLACEHOLDER, (_, name: string) => String(values[name])) };
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
    return { type: 'text', known: false, warning: `unknown ${what}: mapped to text; add it to ${file}` };
  }
  const result = applyRule(rule, parsed.args);
  if ('problem' in result) {
    return { type: 'text', known: false, warning: `cannot map ${what} (${result.problem}): mapped to text; fix the column type or add a rule to ${file}` };
  }
  const type = parsed.array ? `${result.type}[]` : result.type;
  return rule.warn === undefined ? { type, known: true } : { type, known: true, warning: `${what} → ${type}: ${rule.warn}` };
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
