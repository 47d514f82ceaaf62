/**
 * The Kafka Connect → PostgreSQL type table, kept as data in `type-maps/debezium-connect.yaml`
 * (its format is described at the top of the file): for each physical type and each logical
 * name, the PostgreSQL column type and the reader of its JSON values. Read on first use, then
 * cached for the life of the process.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-data-types
 * @see https://kafka.apache.org/documentation/#connect_schemas
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadYamlFile } from '../../config/yaml-file.js';
import { CdcError } from '../../errors.js';
import { integerParameter, type ConnectSchema, type ConnectType } from './connect-schema.js';
import type { JsonPath } from './errors.js';

/** The readers a logical name can use; each is implemented in logical-types.ts. */
export const CONNECT_READERS = [
  'decimal',
  'variable-scale-decimal',
  'days',
  'time-ms',
  'time-us',
  'time-ns',
  'timestamp-ms',
  'timestamp-us',
  'timestamp-ns',
  'zoned-timestamp',
  'zoned-time',
  'year',
  'duration-us',
  'string',
  'bits',
  'geometry',
  'geography',
  'point',
] as const;

/** How the JSON value of a logical name reads (see the data file's header). */
export type ConnectReader = (typeof CONNECT_READERS)[number];

/** The physical types that are scalars, and so have a PostgreSQL type of their own. */
export type ScalarConnectType = Exclude<ConnectType, 'array' | 'map' | 'struct'>;

const SCALAR_TYPES = ['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string', 'bytes'] as const satisfies readonly ScalarConnectType[];
const ALL_TYPES = [...SCALAR_TYPES, 'array', 'map', 'struct'] as const satisfies readonly ConnectType[];

const placeholder = z.string().regex(/^[a-z]+$/, 'use a lower-case name such as n, p or s');
const bound = z.union([z.number().int(), placeholder]);

const entrySchema = z
  .object({
    name: z.string().min(1),
    reader: z.enum(CONNECT_READERS),
    to: z.string().min(1),
    params: z.record(placeholder, z.string().min(1)).optional(),
    range: z.record(placeholder, z.tuple([bound, bound])).optional(),
    otherwise: z.string().min(1).optional(),
    physical: z.array(z.enum(ALL_TYPES)).min(1).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    physical: z.object(Object.fromEntries(SCALAR_TYPES.map((t) => [t, z.string().min(1)])) as Record<ScalarConnectType, z.ZodString>).strict(),
    logical: z.array(entrySchema),
  })
  .strict();

/** One logical name's entry, validated. */
export interface ConnectLogicalType {
  readonly name: string;
  readonly reader: ConnectReader;
  /** The PostgreSQL type, with `{x}` placeholders when `params` is not empty. */
  readonly to: string;
  /** Placeholder → schema parameter name, in file order. */
  readonly params: readonly (readonly [placeholder: string, parameter: string])[];
  /** Placeholder → inclusive bounds (numbers, or other placeholders). */
  readonly range: ReadonlyMap<string, readonly [number | string, number | string]>;
  /** The PostgreSQL type when a parameter is absent or out of range. */
  readonly otherwise: string | undefined;
  /** The physical types the name applies to; undefined for any. */
  readonly physical: ReadonlySet<ConnectType> | undefined;
}

/** The loaded file. */
export interface ConnectTypes {
  readonly physical: Readonly<Record<ScalarConnectType, string>>;
  /** Logical name → entry. */
  readonly logical: ReadonlyMap<string, ConnectLogicalType>;
}

const PLACEHOLDER = /\{([a-z]+)\}/g;

/**
 * Reads and validates the data file.
 * @throws {CdcError} TYPE_MAP_INVALID, `<file>:<line>: <field>: <problem>`, for a YAML or schema
 *   error, a name listed twice, a placeholder, `range` or bound that is not in `params`, or
 *   `params` without `otherwise`.
 */
function loadConnectTypes(): ConnectTypes {
  const file = fileURLToPath(new URL('../../../type-maps/debezium-connect.yaml', import.meta.url));
  const remedy = 'fix that entry; the format is described in the comment at the top of the file';
  const loaded = loadYamlFile(file, fileSchema, { code: 'TYPE_MAP_INVALID', what: 'type map', remedy });
  const problem = (path: string, message: string): never => {
    const line = loaded.lineOf(path) ?? 1;
    throw new CdcError('TYPE_MAP_INVALID', `${file}:${line}: ${path}: ${message}`, { remedy, context: { file, line, field: path } });
  };
  const logical = new Map<string, ConnectLogicalType>();
  loaded.data.logical.forEach((entry, i) => {
    const at = `logical[${i}]`;
    if (logical.has(entry.name)) problem(`${at}.name`, `${entry.name} is listed twice`);
    const params = Object.entries(entry.params ?? {});
    const names = new Set(params.map(([p]) => p));
    const known = (name: string, field: string) => {
      if (!names.has(name)) problem(`${at}.${field}`, `${name} is not one of params [${[...names].join(', ')}]`);
    };
    for (const m of entry.to.matchAll(PLACEHOLDER)) known(m[1]!, 'to');
    for (const [name, bounds] of Object.entries(entry.range ?? {})) {
      known(name, 'range');
      for (const b of bounds) if (typeof b === 'string') known(b, `range.${name}`);
    }
    if (params.length > 0 && entry.otherwise === undefined) problem(at, 'an entry with params needs `otherwise`, the type when a parameter is absent or out of range');
    if (entry.otherwise?.includes('{')) problem(`${at}.otherwise`, 'cannot have placeholders');
    logical.set(entry.name, {
      name: entry.name,
      reader: entry.reader,
      to: entry.to,
      params,
      range: new Map(Object.entries(entry.range ?? {})),
      otherwise: entry.otherwise,
      physical: entry.physical && new Set(entry.physical),
    });
  });
  return { physical: loaded.data.physical, logical };
}

let cache: ConnectTypes | undefined;

/**
 * The Connect → PostgreSQL type table, read once per process.
 * @throws {CdcError} TYPE_MAP_INVALID when `type-maps/debezium-connect.yaml` is missing or malformed
 */
export function connectTypes(): ConnectTypes {
  cache ??= loadConnectTypes();
  return cache;
}

/**
 * The entry of a schema's logical name, or undefined when it has none, the name is not listed,
 * or the entry is restricted to other physical types (a Decimal declared int32…).
 * @throws {CdcError} TYPE_MAP_INVALID as {@link connectTypes}
 */
export function connectLogicalType(schema: ConnectSchema): ConnectLogicalType | undefined {
  if (schema.name === undefined) return undefined;
  const entry = connectTypes().logical.get(schema.name);
  if (entry?.physical && !entry.physical.has(schema.type)) return undefined;
  return entry;
}

/**
 * The PostgreSQL type of an entry for one schema: `to` with its placeholders filled from the
 * schema's parameters, or `otherwise` when one is absent or outside its `range`.
 * @throws {InvalidField} (at `path.parameters.<name>`) when a parameter is present but not an integer.
 */
export function connectPostgresType(entry: ConnectLogicalType, schema: ConnectSchema, path: JsonPath): string {
  if (entry.params.length === 0) return entry.to;
  const values = new Map<string, number | undefined>();
  for (const [name, parameter] of entry.params) values.set(name, integerParameter(schema, parameter, [...path, 'parameters', parameter]));
  const value = (bound: number | string) => (typeof bound === 'number' ? bound : values.get(bound));
  for (const v of values.values()) if (v === undefined) return entry.otherwise!;
  for (const [name, [min, max]] of entry.range) {
    const v = values.get(name)!;
    if (v < value(min)! || v > value(max)!) return entry.otherwise!;
  }
  return entry.to.replace(PLACEHOLDER, (_, name: string) => String(values.get(name)));
}
