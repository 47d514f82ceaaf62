/**
 * The type-map data files (`type-maps/<dialect>-postgresql.yaml`): reading, validating and
 * caching their rules. The rule format is described at the top of each file; the mapping itself
 * is in type-map.ts.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadYamlFile } from '../config/yaml-file.js';
import { CdcError } from '../errors.js';
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
export interface TypeRule {
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
export interface TypeMap {
  readonly file: string;
  readonly rules: ReadonlyMap<string, TypeRule>;
}

/** A `{name}` placeholder in a rule's type template. */
export const PLACEHOLDER = /\{([a-z]+)\}/g;

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
export function typeMap(dialect: SourceDialect): TypeMap {
  let map = cache.get(dialect);
  if (!map) {
    map = loadTypeMap(dialect);
    cache.set(dialect, map);
  }
  return map;
}

