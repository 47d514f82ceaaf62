/**
 * The YAML schema of a table definition file, `schemas/<service>/<schema>/<table>.yaml`
 * (DESIGN.md §5), and its reader. Example:
 *
 * ```yaml
 * schema: dbo
 * table: InvoiceLine
 * columns:
 *   - { name: InvoiceLineId, type: int, nullable: false, primary_key: true }
 *   - { name: UnitPrice, type: "numeric(10,2)", nullable: false }
 * options:
 *   soft_delete: false
 * ```
 * `primary_key: true` marks key columns in column order; a number (1, 2, …) gives the key order
 * explicitly when it differs from the column order.
 */
import { z } from 'zod';
import { stringify } from 'yaml';
import { CdcError } from '../errors.js';
import type { ColumnDefinition, TableDefinition } from '../schema/definition.js';
import { normalizeSourceType, type SourceDialect } from '../schema/type-map.js';
import { loadYamlFile } from './yaml-file.js';

const columnSchema = z
  .object({
    name: z.string().min(1, 'a column needs a name'),
    type: z.string().min(1, 'a column needs a type (in the source dialect)'),
    nullable: z.boolean().default(true),
    primary_key: z.union([z.boolean(), z.number().int().min(1)]).default(false),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    identity: z.boolean().optional(),
  })
  .strict();

/** The YAML schema of a table definition file. */
export const tableFileSchema = z
  .object({
    schema: z.string().min(1),
    table: z.string().min(1),
    /** Overrides the service's dialect (rarely needed). */
    dialect: z.enum(['mssql', 'postgresql']).optional(),
    columns: z.array(columnSchema).min(1, 'a table needs at least one column'),
    options: z.object({ soft_delete: z.boolean().optional() }).strict().default({}),
  })
  .strict();

/** A table definition file as parsed. */
export type TableFile = z.infer<typeof tableFileSchema>;

/**
 * Reads one table definition file.
 * @param file path to the file (used in messages as given).
 * @param service the service folder it sits in; `dialect` the service's dialect.
 * @throws {CdcError} DEFINITION_INVALID naming file, line and field: unreadable file, YAML
 *   syntax, unknown or mistyped field, a repeated column, a `primary_key` order that is not
 *   1…n, or `schema`/`table` that differ from the file's folder and name.
 */
export function loadTableFile(file: string, service: string, dialect: SourceDialect, expected?: { schema: string; table: string }): TableDefinition {
  const loaded = loadYamlFile(file, tableFileSchema, {
    code: 'DEFINITION_INVALID',
    what: 'table definition',
    remedy: 'fix that field of the table definition (see the README, "Table definitions")',
  });
  const data = loaded.data;
  const fail = (path: string, message: string, remedy: string): never => {
    const line = loaded.lineOf(path) ?? 1;
    throw new CdcError('DEFINITION_INVALID', `${file}:${line}: ${path}: ${message}`, { remedy, context: { file, line, field: path } });
  };
  if (expected && data.schema !== expected.schema) {
    fail('schema', `is ${JSON.stringify(data.schema)} but the file is in the folder ${JSON.stringify(expected.schema)}`, 'move the file to schemas/<service>/<schema>/<table>.yaml or fix the field');
  }
  if (expected && data.table !== expected.table) {
    fail('table', `is ${JSON.stringify(data.table)} but the file is named ${JSON.stringify(`${expected.table}.yaml`)}`, 'rename the file to <table>.yaml or fix the field');
  }
  const seen = new Set<string>();
  const keyed: { name: string; order: number; index: number }[] = [];
  const explicit = data.columns.some((c) => typeof c.primary_key === 'number');
  const columns: ColumnDefinition[] = data.columns.map((c, index) => {
    if (seen.has(c.name)) fail(`columns[${index}].name`, `column ${JSON.stringify(c.name)} appears twice`, 'remove or rename one of them');
    seen.add(c.name);
    if (explicit && c.primary_key === true) {
      fail(`columns[${index}].primary_key`, 'mixes true with numbered key positions', 'number every key column (1, 2, …) or use true for all');
    }
    if (c.primary_key !== false) keyed.push({ name: c.name, order: typeof c.primary_key === 'number' ? c.primary_key : index, index });
    if (c.primary_key !== false && c.nullable && loaded.lineOf(`columns[${index}].nullable`) !== undefined) {
      fail(`columns[${index}].nullable`, 'a primary-key column cannot be nullable', 'set nullable: false or drop primary_key');
    }
    return {
      name: c.name,
      type: normalizeSourceType(data.dialect ?? dialect, c.type),
      nullable: c.primary_key === false ? c.nullable : false,
      ...(c.default === undefined ? {} : { default: String(c.default) }),
      ...(c.identity ? { identity: true } : {}),
    };
  });
  keyed.sort((a, b) => a.order - b.order);
  if (explicit && keyed.some((k, i) => k.order !== i + 1)) {
    fail(`columns[${keyed[0]!.index}].primary_key`, `key positions must be 1…${keyed.length} without gaps`, 'renumber the key columns');
  }
  return {
    service,
    dialect: data.dialect ?? dialect,
    schema: data.schema,
    table: data.table,
    columns,
    primaryKey: keyed.map((k) => k.name),
    options: data.options.soft_delete === undefined ? {} : { softDelete: data.options.soft_delete },
    file,
  };
}

/**
 * The YAML text of a table definition file: a comment naming where it came from, then
 * `schema`, `table`, `columns` (one flow mapping per column) and `options` when set. Deterministic.
 */
export function renderTableFile(definition: TableDefinition, origin: string): string {
  const keyInOrder = definition.primaryKey.every((k, i, all) => i === 0 || definition.columns.findIndex((c) => c.name === all[i - 1]) < definition.columns.findIndex((c) => c.name === k));
  const columns = definition.columns.map((c) => {
    const position = definition.primaryKey.indexOf(c.name);
    return {
      name: c.name,
      type: c.type,
      nullable: c.nullable,
      ...(position < 0 ? {} : { primary_key: keyInOrder ? true : position + 1 }),
      ...(c.identity ? { identity: true } : {}),
      ...(c.default === undefined ? {} : { default: c.default }),
    };
  });
  const body = {
    schema: definition.schema,
    table: definition.table,
    columns,
    ...(definition.options.softDelete === undefined ? {} : { options: { soft_delete: definition.options.softDelete } }),
  };
  const text = stringify(body, { collectionStyle: 'block', lineWidth: 0 });
  return `# ${origin}\n# Types are in the source dialect (${definition.dialect}); cdc migrations generate maps them.\n${text}`;
}
