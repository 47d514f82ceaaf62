/**
 * node-sql-parser's side of the import: parses a {@link ParserView} with the `transactsql`
 * grammar, maps its errors back to file:line, and reads names, keys and IDENTITY from the AST.
 * @see https://github.com/taozhi8833998/node-sql-parser
 */
import sqlParser from 'node-sql-parser/build/transactsql.js';
import { scriptError } from './mssql-import-error.js';
import type { Token } from './tsql-lexer.js';
import type { ParserView } from './tsql-parser-view.js';

/** A node of node-sql-parser's AST. */
export type Json = Record<string, unknown>;
/** `v` as an AST node, or undefined when it is not an object. */
export const asObject = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
/** `v` as a list: itself when an array, empty when absent, else a list of one. */
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

const parser = new sqlParser.Parser();

/**
 * Parses one statement of the view with node-sql-parser.
 * @throws {CdcError} SCHEMA_IMPORT_INVALID naming the element (column) the error is in
 */
export function parseStatement(
  view: ParserView,
  ctx: { text: string; file: string; tokens: readonly Token[]; first: number; last: number; table: string; what: string; elementAt?: (offset: number) => { readonly column?: string } | undefined },
): Json {
  try {
    const ast = asObject(asArray(parser.astify(view.sql, { database: 'transactsql' }))[0]);
    if (!ast) throw new Error('no statement');
    return ast;
  } catch (cause) {
    const location = asObject(asObject(asObject(cause)?.location)?.start);
    const offset = typeof location?.offset === 'number' ? view.toSource(location.offset) : ctx.tokens[ctx.first]!.start;
    let at = ctx.first;
    while (at <= ctx.last && ctx.tokens[at]!.end <= offset) at++;
    const token = at <= ctx.last ? ctx.tokens[at]! : undefined;
    const line = token?.line ?? ctx.tokens[ctx.last]!.line;
    const element = ctx.elementAt?.(offset);
    const where = element?.column !== undefined ? `column ${JSON.stringify(element.column)} of ${ctx.what}` : ctx.what;
    const found = token ? `unexpected ${JSON.stringify(ctx.text.slice(token.start, token.end))}` : 'unexpected end of statement';
    throw scriptError(ctx.file, line, `cannot parse ${where}: ${found}`, 'correct the statement (it must be valid T-SQL), or simplify it: only column names, types, NULL / NOT NULL, IDENTITY, DEFAULT and the primary key are imported', { table: ctx.table, column: element?.column }, cause);
  }
}

/** `[db.]schema.table` from the AST's table reference (`dbo` when unqualified). */
export function tableName(ast: Json, names: ReadonlyMap<string, string>): { schema: string; name: string } {
  const ref = asObject(asArray(ast.table)[0]) ?? {};
  const part = (v: unknown) => (typeof v === 'string' && v !== '' ? (names.get(v) ?? v) : undefined);
  return { schema: part(ref.schema) ?? part(ref.db) ?? 'dbo', name: part(ref.table) ?? '' };
}

/** Column names of a primary-key constraint node. */
export function keyColumns(constraint: Json, names: ReadonlyMap<string, string>): string[] {
  return asArray(constraint.definition).map((d) => {
    const c = asObject(d)?.column;
    return typeof c === 'string' ? (names.get(c) ?? c) : String(c);
  });
}

/** An IDENTITY seed or increment from the AST (a number node, or absent). */
export const identityValue = (v: unknown, fallback: number): number => {
  const raw = asObject(v)?.value ?? v;
  const n = raw === undefined || raw === null ? fallback : Number(raw);
  return Number.isFinite(n) ? n : fallback;
};
