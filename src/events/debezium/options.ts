/**
 * {@link DecodeOptions} with defaults filled in and column types indexed by table, computed once
 * per options object (callers pass the same object for every record).
 */
import { tableKey, type TableId } from '../../schema/table.js';
import type { ColumnTypeSettings } from './column-types.js';
import type { DecodeOptions } from './record.js';
import type { ColumnTypeMap } from './row.js';
import { DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER, UnavailableValue } from './unavailable-value.js';

/** Options ready for use. */
export interface ResolvedOptions {
  readonly settings: ColumnTypeSettings;
  /** The supplied column types of a table, or undefined. */
  typesFor(table: TableId): ColumnTypeMap | undefined;
}

const RESOLVED = new WeakMap<DecodeOptions, ResolvedOptions>();
const DEFAULTS: DecodeOptions = {};

/**
 * Fills in Debezium's defaults (`binary.handling.mode=bytes`, `time.precision.mode=adaptive`,
 * `decimal.handling.mode=precise`, placeholder `__debezium_unavailable_value`).
 * @throws {Error} when the placeholder has a `hex:` prefix and is not hexadecimal.
 */
export function resolveOptions(options: DecodeOptions = DEFAULTS): ResolvedOptions {
  const cached = RESOLVED.get(options);
  if (cached) return cached;
  const byTable = new Map<string, Map<string, string>>();
  for (const table of options.columnTypes ?? []) {
    byTable.set(tableKey(table.id), new Map(table.columns.map((c) => [c.name, c.type])));
  }
  const resolved: ResolvedOptions = {
    settings: {
      binaryHandlingMode: options.binaryHandlingMode ?? 'bytes',
      timePrecisionMode: options.timePrecisionMode ?? 'adaptive',
      decimalHandlingMode: options.decimalHandlingMode ?? 'precise',
      unavailable: UnavailableValue.of(options.unavailableValuePlaceholder ?? DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER),
    },
    typesFor: (table) => (byTable.size === 0 ? undefined : byTable.get(tableKey(table))),
  };
  RESOLVED.set(options, resolved);
  return resolved;
}
