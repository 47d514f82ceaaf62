/**
 * The column pipeline from a table definition to a sink's table (DESIGN.md §5): source columns
 * (names by the sink's naming rule, types through the type map) → column templates (the tenant
 * column, the sink's extra columns) → the sink then adds its CDC metadata columns. One function,
 * used by `cdc migrations generate`, `diff` and `cdc run`, so every path creates the same tables.
 */
import type { SinkConfig } from '../config/project-config.js';
import { CdcError } from '../errors.js';
import type { TableDefinition } from './definition.js';
import { applyIdentifierCase } from './identifier-case.js';
import { formatTableId, type ColumnSchema, type TableSchema } from './table.js';
import { isToastable, logicalTypeOf, mapColumnType } from './type-map.js';

/** A definition mapped for one sink. */
export interface TargetTable {
  /** The definition it comes from. */
  readonly definition: TableDefinition;
  /** The target table: target schema and names, target types, key, and options (soft delete). */
  readonly table: TableSchema;
  /** Keep deleted rows flagged (table option, else the sink's `soft_delete`). */
  readonly softDelete: boolean;
  /** Target column name → source column name (template columns are absent). */
  readonly sourceColumns: ReadonlyMap<string, string>;
  /** Unknown types mapped to text, a tenant column missing under db-shared, … (one line each). */
  readonly warnings: readonly string[];
}

/**
 * Maps `definition` for `sink`:
 * - target schema: `sink.schemas[definition.schema]`, else the source schema, then named by the
 *   naming rule (a mapped schema is taken verbatim);
 * - table and column names by `sink.naming`;
 * - column types by the data file for the definition's dialect (`type-maps/*.yaml`); an unknown
 *   type becomes `text` with a warning naming table and column;
 * - `db-per-tenant`: the tenant column leads, NOT NULL, and leads the primary key;
 *   `db-shared`: a warning when the table lacks the tenant column;
 * - `sink.columns` appended after the source columns;
 * - options: the definition's `soft_delete`, else the sink's, on the table (`table.options`).
 * @throws {CdcError} DEFINITION_INVALID when two source names map to one target name (naming
 *   collision) or a template column clashes with a source column.
 */
export function targetTable(definition: TableDefinition, sink: SinkConfig): TargetTable {
  const warnings: string[] = [];
  const name = (n: string) => applyIdentifierCase(sink.naming, n);
  const schema = sink.schemas[definition.schema] ?? name(definition.schema);
  const where = `${definition.schema}.${definition.table}`;
  const sourceColumns = new Map<string, string>();
  const columns: ColumnSchema[] = [];
  const add = (column: ColumnSchema, source: string | undefined) => {
    const clash = columns.find((c) => c.name === column.name);
    if (clash) {
      const other = sourceColumns.get(clash.name) ?? clash.name;
      throw new CdcError(
        'DEFINITION_INVALID',
        `${definition.file || where}: columns ${JSON.stringify(other)} and ${JSON.stringify(source ?? column.name)} of ${where} both become ${JSON.stringify(column.name)} in the target`,
        { remedy: 'rename one of them on the source, or use naming: preserve for this sink', context: { file: definition.file, table: where } },
      );
    }
    columns.push(column);
    if (source !== undefined) sourceColumns.set(column.name, source);
  };
  const tenancy = sink.tenancy;
  if (tenancy?.mode === 'db-per-tenant') {
    add({ name: tenancy.column, type: tenancy.type, logicalType: logicalTypeOf(tenancy.type), nullable: false, toastable: isToastable(tenancy.type) }, undefined);
  }
  for (const c of definition.columns) {
    const mapped = mapColumnType(definition.dialect, c.type, { table: where, column: c.name });
    if (mapped.warning) warnings.push(mapped.warning);
    add({ name: name(c.name), type: mapped.type, logicalType: mapped.logical, nullable: c.nullable, toastable: isToastable(mapped.type) }, c.name);
  }
  if (tenancy?.mode === 'db-shared' && !columns.some((c) => c.name === tenancy.column)) {
    warnings.push(`table ${where} has no tenant column ${JSON.stringify(tenancy.column)} (tenancy db-shared): its rows are not attributed to a tenant`);
  }
  for (const t of sink.columns) add({ name: t.name, type: t.type, logicalType: logicalTypeOf(t.type), nullable: t.nullable, toastable: isToastable(t.type) }, undefined);
  const key = definition.primaryKey.map(name);
  const primaryKey = tenancy?.mode === 'db-per-tenant' && key.length > 0 ? [tenancy.column, ...key] : key;
  const softDelete = definition.options.softDelete ?? sink.soft_delete;
  const table: TableSchema = { id: { schema, name: name(definition.table) }, columns, primaryKey, options: { softDelete, staging: sink.staging } };
  return { definition, table, softDelete, sourceColumns, warnings };
}

/**
 * Maps every definition for `sink` and checks that no two land on the same target table.
 * @throws {CdcError} DEFINITION_INVALID naming both files when two definitions map to one table.
 */
export function targetTables(definitions: readonly TableDefinition[], sink: SinkConfig): TargetTable[] {
  const byId = new Map<string, TargetTable>();
  const out: TargetTable[] = [];
  for (const d of definitions) {
    const t = targetTable(d, sink);
    const id = formatTableId(t.table.id);
    const other = byId.get(id);
    if (other) {
      throw new CdcError('DEFINITION_INVALID', `${other.definition.file} and ${d.file} both map to the target table ${id}`, {
        remedy: 'map their schemas to different target schemas (sinks.<sink>.schemas) or exclude one (sinks.<sink>.tables)',
      });
    }
    byId.set(id, t);
    out.push(t);
  }
  return out;
}

/**
 * A table as a running source describes it (PostgreSQL catalog or relation message), mapped for
 * `sink` by the same rules as {@link targetTable}: target schema, naming, and types through the
 * postgresql→postgresql data file. Column templates and tenancy are not applied here: a running
 * pipeline has no values for them (see `assertRunnableSink`).
 */
export function mapSourceTable(table: TableSchema, sink: SinkConfig): TableSchema {
  const name = (n: string) => applyIdentifierCase(sink.naming, n);
  const where = formatTableId(table.id);
  return {
    id: mapTableId(table.id, sink),
    columns: table.columns.map((c) => {
      const type = mapColumnType('postgresql', c.type, { table: where, column: c.name }).type;
      return { ...c, name: name(c.name), type, toastable: c.toastable || isToastable(type) };
    }),
    primaryKey: table.primaryKey.map(name),
  };
}

/** The target id of a source table id under `sink`'s schema map and naming. */
export function mapTableId(id: TableSchema['id'], sink: SinkConfig): TableSchema['id'] {
  return { schema: sink.schemas[id.schema] ?? applyIdentifierCase(sink.naming, id.schema), name: applyIdentifierCase(sink.naming, id.name) };
}

/**
 * Checks that `cdc run` can fill every column of `sink`'s tables.
 * @throws {CdcError} CONFIG_INVALID for column templates or db-per-tenant tenancy, whose values
 *   only external writers (deferred merge mode) can supply.
 */
export function assertRunnableSink(sink: SinkConfig, sinkName: string): void {
  if (sink.columns.length > 0 || sink.tenancy?.mode === 'db-per-tenant') {
    throw new CdcError('CONFIG_INVALID', `sink ${sinkName}: cdc run cannot fill template or tenant columns (sinks.${sinkName}.columns / tenancy db-per-tenant)`, {
      remedy: 'remove them for cdc run, or land rows with an external writer that fills them (deferred merge mode)',
    });
  }
}
