/**
 * The PostgreSQL sink's one converter from a schema change (src/schema/schema-diff.ts) to SQL:
 * one case per change kind, for the final table. Staging and merge procedure are rebuilt around
 * the result by `tableChangeDdl`. A change kind without a case is an error, never dropped.
 */
import { CdcError } from '../../errors.js';
import type { ChangeDecision } from '../../schema/schema-change-policy.js';
import type { SchemaChange } from '../../schema/schema-diff.js';
import { quoteIdent, quoteLiteral, quoteTable } from '../../sql/quote.js';
import { primaryKeyConstraintName } from './naming.js';
import { columnDefinition, type TableOptions } from './table-ddl.js';
import { dropTableSql, tableObjects } from './table-objects.js';

/**
 * When a statement runs among those of one table change, in this order: rename columns (every
 * later step names them by their new names), drop the old key (so a column may leave it), add
 * columns, change types, drop NOT NULL, drop columns, add the new key (its columns now exist); a
 * whole table is created or dropped on its own.
 */
export const CHANGE_STEPS = ['create', 'rename', 'drop-key', 'add-column', 'retype', 'relax', 'remove', 'add-key', 'drop'] as const;

/** One of {@link CHANGE_STEPS}. */
export type ChangeStep = (typeof CHANGE_STEPS)[number];

/** One SQL statement (ending with `;`) and the step it belongs to. */
export interface ChangeStatement {
  readonly step: ChangeStep;
  readonly sql: string;
}

/**
 * A change the converter has no SQL for. `code` `SCHEMA_CHANGE_UNSUPPORTED`; not retryable.
 * Raised instead of leaving the change out: a target that silently misses a change merges wrong.
 */
export class UnsupportedSchemaChangeError extends CdcError {
  constructor(kind: unknown, table: string) {
    super('SCHEMA_CHANGE_UNSUPPORTED', `the PostgreSQL sink has no SQL for schema change ${JSON.stringify(kind)} of ${table}`, {
      remedy: 'upgrade cdc-merge, or make the change on the target by hand and restart',
      context: { table, kind },
    });
    this.name = 'UnsupportedSchemaChangeError';
  }
}

const alter = (change: SchemaChange, action: string) => `ALTER TABLE ${quoteTable(change.tableId)} ${action};`;

/**
 * The statements that make `change` on the final table, for its `decision` (`apply` or `keep`;
 * `stop` and `leave-out` changes are never converted):
 * - `TABLE_ADDED` apply: every object of the table (`tableObjects`, with `options` as defaults);
 * - `TABLE_REMOVED` apply: procedure, staging table and final table dropped, `merge_control` row
 *   deleted; keep: nothing;
 * - `COLUMN_ADDED`: `ADD COLUMN IF NOT EXISTS "c" type`, nullable whatever the source says
 *   (existing rows have no value); with a `missingValue` (the source's fast default, which the
 *   rows that existed hold without any WAL) added with it as `DEFAULT`, then `DROP DEFAULT`;
 * - `COLUMN_REMOVED` apply: `DROP COLUMN IF EXISTS`; keep: `DROP NOT NULL` when it was NOT NULL
 *   (rows inserted from now on get NULL);
 * - `COLUMN_TYPE_CHANGED` apply: `ALTER COLUMN "c" TYPE t USING "c"::t`; keep: nothing;
 * - `COLUMN_NULLABILITY_CHANGED`: `ALTER COLUMN "c" DROP NOT NULL`;
 * - `PRIMARY_KEY_CHANGED`: `DROP CONSTRAINT IF EXISTS "<table>_pkey"` (step drop-key) and
 *   `ADD CONSTRAINT "<table>_pkey" PRIMARY KEY (…)` (step add-key; fails, rolling back, when
 *   the rows are not unique on the new key).
 * @throws {UnsupportedSchemaChangeError} (SCHEMA_CHANGE_UNSUPPORTED) for any other kind.
 */
export function schemaChangeSql(change: SchemaChange, decision: Extract<ChangeDecision, 'apply' | 'keep'>, options: TableOptions = {}): ChangeStatement[] {
  const apply = decision === 'apply';
  switch (change.kind) {
    case 'TABLE_ADDED':
      return apply ? tableObjects(change.definition, options).map((o) => ({ step: 'create', sql: o.sql.endsWith(';') ? o.sql : `${o.sql};` })) : [];
    case 'TABLE_REMOVED':
      return apply ? dropTableSql(change.definition).map((sql) => ({ step: 'drop', sql })) : [];
    case 'COLUMN_ADDED': {
      const column = change.definition;
      const add = `ADD COLUMN IF NOT EXISTS ${columnDefinition(column, false)}`;
      if (column.missingValue === undefined || column.missingValue === null) return [{ step: 'add-column', sql: alter(change, add) }];
      return [
        { step: 'add-column', sql: alter(change, `${add} DEFAULT ${quoteLiteral(column.missingValue)}::${column.type}`) },
        { step: 'add-column', sql: alter(change, `ALTER COLUMN ${quoteIdent(column.name)} DROP DEFAULT`) },
      ];
    }
    case 'COLUMN_RENAMED':
      // The values stay, under the new name (a rename the policy did not stop is always applied).
      return [{ step: 'rename', sql: alter(change, `RENAME COLUMN ${quoteIdent(change.from)} TO ${quoteIdent(change.to)}`) }];
    case 'COLUMN_REMOVED':
      if (apply) return [{ step: 'remove', sql: alter(change, `DROP COLUMN IF EXISTS ${quoteIdent(change.column)}`) }];
      return change.notNull ? [{ step: 'remove', sql: alter(change, `ALTER COLUMN ${quoteIdent(change.column)} DROP NOT NULL`) }] : [];
    case 'COLUMN_TYPE_CHANGED': {
      const name = quoteIdent(change.column);
      return apply ? [{ step: 'retype', sql: alter(change, `ALTER COLUMN ${name} TYPE ${change.to} USING ${name}::${change.to}`) }] : [];
    }
    case 'COLUMN_NULLABILITY_CHANGED':
      return [{ step: 'relax', sql: alter(change, `ALTER COLUMN ${quoteIdent(change.column)} DROP NOT NULL`) }];
    case 'PRIMARY_KEY_CHANGED': {
      const name = quoteIdent(primaryKeyConstraintName(change.tableId));
      const statements: ChangeStatement[] = [];
      if (change.keyBefore.length > 0) statements.push({ step: 'drop-key', sql: alter(change, `DROP CONSTRAINT IF EXISTS ${name}`) });
      if (change.keyAfter.length > 0) {
        statements.push({ step: 'add-key', sql: alter(change, `ADD CONSTRAINT ${name} PRIMARY KEY (${change.keyAfter.map(quoteIdent).join(', ')})`) });
      }
      return statements;
    }
    default: {
      const unknown: never = change;
      const c = unknown as { kind?: unknown; table?: unknown };
      throw new UnsupportedSchemaChangeError(c.kind, String(c.table));
    }
  }
}
