/**
 * Table selection patterns: `schema.table`, each part a name or a `*` wildcard pattern, with
 * SQL double quotes for names that contain dots, spaces or capitals meant literally
 * (`'"Odd Schema".*'`, `public."Invoice*"`). Unquoted parts match case-sensitively as written;
 * `*` matches any run of characters. A pattern without a dot matches that table in any schema.
 */
import type { TableId } from '../schema/table.js';

/** One parsed pattern. */
export interface TablePattern {
  /** The text as the user wrote it, for messages. */
  readonly text: string;
  readonly schema: RegExp;
  readonly table: RegExp;
}

/** Thrown for a pattern that cannot be parsed; the message says what is wrong. */
export class TablePatternError extends Error {
  readonly code = 'TABLE_PATTERN_INVALID';
}

function splitParts(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          current += '"';
          i++;
        } else quoted = false;
      } else current += ch === '*' ? '\u0001' : ch; // a quoted * is literal
    } else if (ch === '"') quoted = true;
    else if (ch === '.') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (quoted) throw new TablePatternError(`table pattern ${JSON.stringify(text)} has an unclosed double quote`);
  parts.push(current);
  return parts;
}

function toRegExp(part: string): RegExp {
  const escaped = part
    .split('*')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('\u0001', '\\*'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 's');
}

/**
 * Parses one pattern.
 * @throws {TablePatternError} for an empty pattern, an empty part, more than one dot outside
 *   quotes, or an unclosed quote.
 */
export function parseTablePattern(text: string): TablePattern {
  const trimmed = text.trim();
  if (!trimmed) throw new TablePatternError('empty table pattern: write schema.table, e.g. public.* or sales.orders');
  const parts = splitParts(trimmed);
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw new TablePatternError(
      `table pattern ${JSON.stringify(text)} is not schema.table: quote names containing dots, e.g. '"my.schema".orders'`,
    );
  }
  const [schema, table] = parts.length === 2 ? parts : ['*', parts[0]!];
  return { text: trimmed, schema: toRegExp(schema!), table: toRegExp(table!) };
}

/**
 * Parses a comma-separated list of patterns (commas inside double quotes are part of a name).
 * @throws {TablePatternError} as {@link parseTablePattern}.
 */
export function parseTablePatterns(list: string): TablePattern[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of list) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      items.push(current);
      current = '';
    } else current += ch;
  }
  items.push(current);
  return items.filter((s) => s.trim() !== '').map(parseTablePattern);
}

/** True when `id` matches `pattern`. */
export function matchesPattern(pattern: TablePattern, id: TableId): boolean {
  return pattern.schema.test(id.schema) && pattern.table.test(id.name);
}

/** A pattern matching exactly one table (names taken literally). */
export function exactPattern(id: TableId): TablePattern {
  const literal = (s: string) => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
  return { text: `${quote(id.schema)}.${quote(id.name)}`, schema: literal(id.schema), table: literal(id.name) };
}
