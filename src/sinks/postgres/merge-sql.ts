/**
 * Small SQL fragments shared by the merge generators. Aliases passed in (`s`, `w`, `t`, …) are
 * fixed lowercase words chosen by the generators, never names from a table definition; every
 * column name goes through `quoteIdent`.
 */
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { OP_COLUMN, POSITION_COLUMN, UNCHANGED_COLUMN } from './naming.js';

/**
 * One merge statement, before it is wrapped into the procedure: named CTEs (in order) and the four
 * scalar expressions the procedure reads into its counters. Each count is a `bigint` expression
 * over the CTEs, e.g. `(SELECT count(*) FROM deleted)`.
 */
export interface MergeStatement {
  readonly ctes: readonly { readonly name: string; readonly sql: string }[];
  /** Staged rows consumed. */
  readonly stagedRows: string;
  /** Target rows deleted (or soft-deleted). */
  readonly deletedRows: string;
  /** Target rows inserted or updated. */
  readonly writtenRows: string;
  /** Winning updates whose unchanged values had no earlier version anywhere (see merge-keyed). */
  readonly missingRows: string;
}

/** `alias."column"`. */
export function col(alias: string, name: string): string {
  return `${alias}.${quoteIdent(name)}`;
}

/** `alias."a", alias."b"` (or `"a", "b"` without alias), in the given order. */
export function colList(names: readonly string[], alias?: string): string {
  return names.map((n) => (alias === undefined ? quoteIdent(n) : col(alias, n))).join(', ');
}

/** `a."k1" = b."k1" AND a."k2" = b."k2"`: equality on key columns (never NULL in a key). */
export function keyMatch(a: string, b: string, keys: readonly string[]): string {
  return keys.map((k) => `${col(a, k)} = ${col(b, k)}`).join(' AND ');
}

/** `alias."_cdc_position"`: a row's position (`bytea`, compared bytewise; see src/events/position.ts). */
export function positionOf(alias: string): string {
  return col(alias, POSITION_COLUMN);
}

/** `alias."_cdc_position" DESC`: latest position first. */
export function latestFirst(alias: string): string {
  return `${col(alias, POSITION_COLUMN)} DESC`;
}

/**
 * True when the text array `alias.listColumn` (default `_cdc_unchanged`) names `column`; false
 * (never NULL) when the array is NULL: `coalesce('body' = ANY (s."_cdc_unchanged"), false)`.
 */
export function listsUnchanged(alias: string, column: string, listColumn: string = UNCHANGED_COLUMN): string {
  return `coalesce(${quoteLiteral(column)} = ANY (${col(alias, listColumn)}), false)`;
}

/** Indents every line of `text` by `spaces`. */
export function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}

/** True when the staged row `alias` is a delete: `_cdc_op` 'D', or Debezium's 'd'. */
export function isDelete(alias: string): string {
  return `${col(alias, OP_COLUMN)} IN ('D', 'd')`;
}
