/**
 * The type-map data files (`type-maps/<dialect>-postgresql.yaml`): reading, validating and
 * caching their rules. The rule format is described at the top of each file; the mapping itself
 * is in type-map.ts.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadYamlFile } from '../config/yaml-file.js';
import { CdcError } from '../errors.js';
import { parseLogicalType } from './logical-type.js';
import { normalizeSourceType, type SourceDialect } from './source-type-spelling.js';

/** The data file of each dialect, under `type-maps/` at the package root. */
export const FILES: Readonly<Record<SourceDialect, string>> = {
  mssql: 'mssql-postgresql.yaml',
  postgresql: 'postgresql-postgresql.yaml',
};

/** The dialects' names, for messages. */
export const DIALECT_NAMES: Readonly<Record<SourceDialect, string>> = { mssql: 'SQL Server', postgresql: 'PostgreSQL' };

const paramName = z.string().regex(/^[a-z]+$/, 'use a lower-case name such as n, p or s');
const numbers = z.record(z.string(), z.number().int());

/** `bare` and `max`: a PostgreSQL type, or a PostgreSQL type with its own logical type. */
const alternative = z.union([z.string().min(1), z.object({ to: z.string().min(1), logical: z.string().min(1) }).strict()]);

/** One entry under `types:`; `alias` excludes every other field (checked after parsing). */
const ruleSchema = z
  .object({
    alias: z.string().min(1).optional(),
    to: z.string().min(1).optional(),
    logical: z.string().min(1).optional(),
    params: z.array(paramName).max(3).optional(),
    defaults: numbers.optional(),
    bare: alternative.optional(),
    clamp: numbers.optional(),
    max: alternative.optional(),
    when: z.array(z.object({ upTo: numbers, to: z.string().min(1), logical: z.string().min(1).optional() }).strict()).optional(),
    warn: z.string().min(1).optional(),
    fixed: z.boolean().optional(),
    delimiter: z.string().length(1).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    source: z.enum(['mssql', 'postgresql']),
    types: z.record(z.string(), ruleSchema),
  })
  .strict();

/**
 * What a source type maps to: a PostgreSQL type and a logical type, both templates whose
 * `{name}` placeholders are the rule's params (`numeric({p},{s})`, `decimal({p},{s})`).
 */
export interface TypeTarget {
  /** The PostgreSQL type, as `format_type()` prints it. */
  readonly to: string;
  /** The logical type's text form (see logical-type.ts). */
  readonly logical: string;
}

/** A validated rule, aliases resolved. */
export interface TypeRule {
  /** The key the rule is written under (an alias points here). */
  readonly key: string;
  /** `to` and `logical` of the rule. */
  readonly target: TypeTarget;
  readonly params: readonly string[];
  readonly defaults: Readonly<Record<string, number>>;
  readonly bare: TypeTarget | undefined;
  readonly clamp: Readonly<Record<string, number>>;
  readonly max: TypeTarget | undefined;
  readonly when: readonly { readonly upTo: Readonly<Record<string, number>>; readonly target: TypeTarget }[];
  readonly warn: string | undefined;
  readonly fixed: boolean;
  /** pg_type.typdelim when it is not a comma (box: `;`). */
  readonly delimiter: string | undefined;
}

/** A loaded data file: source type name (normalized, without arguments) → rule. */
export interface TypeMap {
  readonly file: string;
  readonly rules: ReadonlyMap<string, TypeRule>;
}

/** A `{name}` placeholder in a rule's type template. */
export const PLACEHOLDER = /\{([a-z]+)\}/g;

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** The logical type's problem when its placeholders are filled with a plausible value, or undefined. */
function logicalProblem(template: string): string | undefined {
  try {
    parseLogicalType(template.replace(PLACEHOLDER, '1'));
    return undefined;
  } catch (error) {
    return error instanceof CdcError ? error.message : String(error);
  }
}

/**
 * Reads and validates one data file.
 * @throws {CdcError} TYPE_MAP_INVALID, `<file>:<line>: <field>: <problem>`, for a YAML or schema
 *   error, a key not in normalized spelling, an alias to a missing key or to another alias, a
 *   placeholder or a `defaults`/`clamp`/`upTo` name that is not in `params`, `bare`/`max` with
 *   placeholders, a missing or malformed `logical`, or `fixed`/`delimiter` outside the PostgreSQL
 *   file.
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
    const checkLogical = (template: string, field: string) => {
      known(placeholders(template), field);
      const problem = logicalProblem(template);
      if (problem !== undefined) fail(`${at}.${field}`, problem);
    };
    known(placeholders(entry.to!), 'to');
    if (entry.logical === undefined) fail(at, 'needs `logical`, the logical type of its values (text when none fits)');
    const target: TypeTarget = { to: entry.to!, logical: entry.logical! };
    checkLogical(target.logical, 'logical');
    known(Object.keys(entry.defaults ?? {}), 'defaults');
    known(Object.keys(entry.clamp ?? {}), 'clamp');
    const when = (entry.when ?? []).map((w, i) => {
      known(Object.keys(w.upTo), `when[${i}].upTo`);
      known(placeholders(w.to), `when[${i}].to`);
      if (w.logical !== undefined) checkLogical(w.logical, `when[${i}].logical`);
      return { upTo: w.upTo, target: { to: w.to, logical: w.logical ?? target.logical } };
    });
    /** `bare` or `max`: used without numeric arguments, so neither half may have placeholders. */
    const alternativeTarget = (value: z.infer<typeof alternative> | undefined, field: 'bare' | 'max'): TypeTarget | undefined => {
      if (value === undefined) return undefined;
      const alt = typeof value === 'string' ? { to: value, logical: target.logical } : value;
      if (placeholders(alt.to).length > 0) fail(`${at}.${field}`, field === 'bare' ? 'is used without arguments, so it cannot have placeholders' : 'cannot have placeholders');
      if (placeholders(alt.logical).length > 0) {
        fail(`${at}.${field}`, typeof value === 'string' ? `needs its own logical type ({ to: ${value}, logical: … }): the rule's has placeholders` : 'logical cannot have placeholders');
      }
      if (typeof value !== 'string') checkLogical(alt.logical, `${field}.logical`);
      return alt;
    };
    const bare = alternativeTarget(entry.bare, 'bare');
    const max = alternativeTarget(entry.max, 'max');
    if (entry.fixed !== undefined && dialect !== 'postgresql') fail(`${at}.fixed`, 'only means something for PostgreSQL types (postgresql-postgresql.yaml)');
    if (entry.delimiter !== undefined && dialect !== 'postgresql') fail(`${at}.delimiter`, 'only means something for PostgreSQL types (postgresql-postgresql.yaml)');
    if (entry.delimiter === ',') fail(`${at}.delimiter`, 'a comma is the default; leave it out');
    rules.set(key, {
      key,
      target,
      params,
      defaults: entry.defaults ?? {},
      bare,
      clamp: entry.clamp ?? {},
      max,
      when,
      warn: entry.warn,
      fixed: entry.fixed ?? false,
      delimiter: entry.delimiter,
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
export function typeMap(dialect: SourceDialect): TypeMap {
  let map = cache.get(dialect);
  if (!map) {
    map = loadTypeMap(dialect);
    cache.set(dialect, map);
  }
  return map;
}

