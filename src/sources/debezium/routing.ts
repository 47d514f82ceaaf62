/**
 * Routing Debezium events to target tables: by default the source block's schema and table
 * (what Debezium's `<prefix>.<schema>.<table>` topics name); configurable per subject with NATS
 * wildcards (`*` one token, `>` the rest) and `{schema}` / `{table}` placeholders, e.g.
 * `{ "chinook.public.*": "archive.{table}" }`.
 * @see https://docs.nats.io/nats-concepts/subjects#wildcards
 */
import { CdcError } from '../../errors.js';
import type { TableId } from '../../schema/table.js';

/** One compiled route. */
interface Route {
  readonly pattern: RegExp;
  readonly schema: string;
  readonly table: string;
}

function compile(subject: string): RegExp {
  const tokens = subject.split('.');
  const parts = tokens.map((t, i) => {
    if (t === '>') {
      if (i !== tokens.length - 1) throw new Error('">" must be the last token');
      return '.+';
    }
    if (t === '*') return '[^.]+';
    return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('\\.')}$`);
}

/**
 * Compiles `routes` (subject pattern → `schema.table` with optional placeholders), in the order
 * given: the first matching route wins.
 * @throws {CdcError} CONFIG_INVALID naming the route when a pattern or target is malformed.
 */
export function compileRoutes(routes: Readonly<Record<string, string>>): (table: TableId, subject: string) => TableId {
  const compiled: Route[] = Object.entries(routes).map(([subject, target]) => {
    const dot = target.indexOf('.');
    if (dot <= 0 || dot === target.length - 1 || target.indexOf('.', dot + 1) >= 0) {
      throw new CdcError('CONFIG_INVALID', `debezium.routes: ${JSON.stringify(subject)} → ${JSON.stringify(target)} is not schema.table`, {
        remedy: 'write the target as schema.table; {schema} and {table} stand for the source names',
      });
    }
    try {
      return { pattern: compile(subject), schema: target.slice(0, dot), table: target.slice(dot + 1) };
    } catch (error) {
      throw new CdcError('CONFIG_INVALID', `debezium.routes: subject pattern ${JSON.stringify(subject)}: ${(error as Error).message}`, {
        remedy: 'use NATS subject wildcards: * for one token, > for the rest',
      });
    }
  });
  const fill = (text: string, table: TableId) => text.replaceAll('{schema}', table.schema).replaceAll('{table}', table.name);
  return (table, subject) => {
    const route = compiled.find((r) => r.pattern.test(subject));
    return route ? { schema: fill(route.schema, table), name: fill(route.table, table) } : table;
  };
}
