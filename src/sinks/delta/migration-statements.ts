/**
 * The statements of a Delta sink's migration files (`migrations/<sink>/01-tables/<table>.yaml`,
 * `02-changes/NNNN-<table>.yaml`), and the converter from each kind of schema change (the one
 * diff, src/schema/schema-diff.ts) to them. A file's body is a YAML list of statements:
 *
 * ```yaml
 * - create_table:             # version 0: protocol and metaData (CDF, partition columns)
 *     schema: sales
 *     name: customer
 *     primary_key: [customer_id]
 *     partition_by: []
 *     change_data_feed: true
 *     soft_delete: false      # true adds the _cdc_deleted flag column after these
 *     columns:                # the Delta schema: name and Delta type (PROTOCOL.md "Schema Serialization Format")
 *       - { name: customer_id, type: integer }
 *       - { name: first_name, type: string }
 * - add_columns:              # a metaData update: the columns appended, nullable
 *     schema: sales
 *     name: customer
 *     columns:
 *       - { name: last_name, type: string }
 * ```
 * Delta tables have no column mapping here yet, so a dropped, renamed or retyped column (to
 * another Delta type) and a changed primary key have no statement: the converter stops with
 * MIGRATION_UNSUPPORTED naming the file, table and column. Changes a Delta table does not see
 * (NOT NULL dropped: every column is nullable; a type change within one Delta type, e.g.
 * `varchar(40)` → `varchar(80)`, both `string`) need no statement.
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md#column-mapping
 */
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { CdcError } from '../../errors.js';
import type { SchemaChange, SchemaChangeKind } from '../../schema/schema-diff.js';
import type { TableId, TableSchema } from '../../schema/table.js';
import { logicalTypeOf } from '../../schema/type-map.js';
import type { LakeMigrationContext } from '../lake-migrations.js';
import { deltaColumns, type DeltaType } from './delta-types.js';
import { deltaProjectTargetSchema } from './target-schema.js';

const deltaType: z.ZodType<DeltaType> = z.lazy(() =>
  z.union([z.string().min(1), z.object({ type: z.literal('array'), elementType: deltaType, containsNull: z.boolean() }).strict()]),
);
const column = z.object({ name: z.string().min(1), type: deltaType }).strict();

const createTable = z
  .object({
    schema: z.string().min(1),
    name: z.string().min(1),
    primary_key: z.array(z.string()),
    partition_by: z.array(z.string()),
    change_data_feed: z.boolean(),
    soft_delete: z.boolean(),
    columns: z.array(column).min(1),
  })
  .strict();
const addColumns = z.object({ schema: z.string().min(1), name: z.string().min(1), columns: z.array(column).min(1) }).strict();

/** The YAML schema of a migration file's body. */
export const deltaStatementsSchema = z.array(z.union([z.object({ create_table: createTable }).strict(), z.object({ add_columns: addColumns }).strict()]));

/** One statement of a Delta migration file. */
export type DeltaStatement = z.infer<typeof deltaStatementsSchema>[number];
/** A column as a statement lists it: name and Delta type. */
export type DeltaStatementColumn = z.infer<typeof column>;

/**
 * The Delta type a PostgreSQL target type maps to (by its logical type and the type map
 * `type-maps/postgresql-delta.yaml`), e.g. `character varying(40)` → `string`.
 * @throws {CdcError} TYPE_MAP_INVALID when the type map lacks the logical type.
 */
export function deltaTypeOf(type: string): DeltaType {
  const table: TableSchema = { id: { schema: '-', name: '-' }, columns: [{ name: '-', type, logicalType: logicalTypeOf(type), nullable: true, toastable: false }], primaryKey: [] };
  return deltaColumns(table)[0]!.deltaType;
}

const tableOf = (id: TableId) => ({ schema: id.schema, name: id.name });

/** What each converter is given besides its change. */
interface ConvertContext extends LakeMigrationContext {
  /** The sink's `target:` block, parsed with the Delta schema. */
  readonly settings: z.infer<typeof deltaProjectTargetSchema>;
}

/**
 * A change the Delta sink cannot make.
 * @returns never: throws CdcError MIGRATION_UNSUPPORTED.
 */
function unsupported(change: SchemaChange, context: ConvertContext, what: string, remedy: string): never {
  const column = change.column === undefined ? '' : `.${change.column}`;
  throw new CdcError('MIGRATION_UNSUPPORTED', `${context.definitionFile}: ${change.table}${column}: ${change.kind}${change.from && change.to ? ` (${change.from} → ${change.to})` : ''}: ${what}`, {
    remedy,
    context: { file: context.definitionFile, table: change.table, ...(change.column ? { column: change.column } : {}) },
  });
}

const NO_COLUMN_MAPPING = 'a Delta table cannot drop, rename or retype a column: that needs Delta column mapping, which cdc-merge does not write yet';

/** A converter per change kind: a kind without one does not compile (and none is dropped). */
const CONVERTERS: { readonly [K in SchemaChangeKind]: (change: Extract<SchemaChange, { kind: K }>, context: ConvertContext) => DeltaStatement[] } = {
  TABLE_ADDED: (change, context) => {
    const table = change.definition;
    const own = context.settings.tables?.[`${table.id.schema}.${table.id.name}`] ?? {};
    return [
      {
        create_table: {
          ...tableOf(table.id),
          primary_key: [...table.primaryKey],
          partition_by: [...(own.partition_by ?? [])],
          change_data_feed: own.change_data_feed ?? context.settings.change_data_feed ?? true,
          soft_delete: table.options?.softDelete ?? own.soft_delete ?? context.settings.soft_delete ?? false,
          columns: deltaColumns(table).map((c) => ({ name: c.name, type: c.deltaType })),
        },
      },
    ];
  },
  COLUMN_ADDED: (change) => [{ add_columns: { ...tableOf(change.tableId), columns: [{ name: change.column, type: deltaTypeOf(change.to) }] } }],
  COLUMN_NULLABILITY_CHANGED: () => [],
  COLUMN_TYPE_CHANGED: (change, context) => {
    const from = deltaTypeOf(change.from);
    const to = deltaTypeOf(change.to);
    if (JSON.stringify(from) === JSON.stringify(to)) return [];
    return unsupported(
      change,
      context,
      `the Delta column is ${JSON.stringify(from)} and would become ${JSON.stringify(to)}; ${NO_COLUMN_MAPPING}`,
      `change the column's type back to ${change.from} in ${context.definitionFile} (or to a type stored as ${JSON.stringify(from)}); to change it anyway, add the column under a new name and stop using the old one`,
    );
  },
  COLUMN_REMOVED: (change, context) =>
    unsupported(
      change,
      context,
      NO_COLUMN_MAPPING,
      `keep the column in ${context.definitionFile}: the Delta table keeps it and new rows get null where the source no longer has it`,
    ),
  COLUMN_RENAMED: (change, context) =>
    unsupported(change, context, NO_COLUMN_MAPPING, `keep the old name ${change.from} in ${context.definitionFile}, or add ${change.to} as a new column and keep ${change.from} as well`),
  PRIMARY_KEY_CHANGED: (change, context) =>
    unsupported(
      change,
      context,
      'the Delta table holds rows merged by the old key, and the sink keeps no key of its own to change',
      `restore the key ${change.from} in ${context.definitionFile}; to use another key, define the table under a new name (or sink) and copy it again with cdc run`,
    ),
  TABLE_REMOVED: (change, context) =>
    unsupported(
      change,
      context,
      'cdc-merge never deletes a Delta table',
      `restore the definition, or delete the table's directory <location>/${encodeURIComponent(change.tableId.schema)}/${encodeURIComponent(change.tableId.name)} yourself`,
    ),
};

/** The statements of one change (its kind's converter). */
function statementsOf(change: SchemaChange, context: ConvertContext): DeltaStatement[] {
  const convert = CONVERTERS[change.kind] as (c: SchemaChange, x: ConvertContext) => DeltaStatement[];
  return convert(change, context);
}

/**
 * The body of the migration file that makes `changes` (of one table), or '' when no change needs
 * a statement. Consecutive added columns become one `add_columns` (one metaData update).
 * @throws {CdcError} MIGRATION_UNSUPPORTED for a change without a statement (see the module comment);
 *   CONFIG_INVALID when `context.target` is not a Delta `target:` block.
 */
export function deltaMigrationBody(changes: readonly SchemaChange[], context: LakeMigrationContext): string {
  const parsed = deltaProjectTargetSchema.safeParse(context.target);
  if (!parsed.success) {
    throw new CdcError('CONFIG_INVALID', `the sink's target block is not a Delta target: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { remedy: 'give sinks.<name>.target as a cdc.yaml Delta target section without type' });
  }
  const settings: ConvertContext = { ...context, settings: parsed.data };
  const statements: DeltaStatement[] = [];
  for (const change of changes) {
    for (const s of statementsOf(change, settings)) {
      const last = statements.at(-1);
      if ('add_columns' in s && last && 'add_columns' in last && last.add_columns.schema === s.add_columns.schema && last.add_columns.name === s.add_columns.name) {
        last.add_columns.columns.push(...s.add_columns.columns);
      } else statements.push(s);
    }
  }
  return statements.length === 0 ? '' : stringify(statements, { lineWidth: 0 });
}

/**
 * The statements of a file body.
 * @throws {CdcError} MIGRATIONS_INVALID naming `file` when the body is not a list of statements.
 */
export function parseDeltaStatements(body: string, file: string): DeltaStatement[] {
  let data: unknown;
  try {
    data = parse(body);
  } catch (error) {
    throw new CdcError('MIGRATIONS_INVALID', `${file}: not YAML: ${(error as Error).message}`, { cause: error, remedy: 'regenerate it (cdc migrations generate); never edit it by hand' });
  }
  const result = deltaStatementsSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new CdcError('MIGRATIONS_INVALID', `${file}: ${issue.path.join('.') || '(body)'}: ${issue.message}`, { remedy: 'regenerate it (cdc migrations generate); never edit it by hand' });
  }
  return result.data;
}

