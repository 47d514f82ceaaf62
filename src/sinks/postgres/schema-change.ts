/**
 * Schema evolution on the PostgreSQL sink, as `cdc run` configures it (DESIGN.md §3.8): the
 * policy for lossy changes (`schema_changes` in cdc.yaml). The path itself is shared with
 * `cdc migrations`: one diff and policy filter (src/schema/schema-diff.ts,
 * schema-change-policy.ts), one converter (schema-change-sql.ts), one assembler
 * (table-change-ddl.ts).
 */
export { SchemaChangeError } from '../../schema/schema-change-error.js';
export type { SchemaChangeAction, SchemaChangePolicy } from '../../schema/schema-change-policy.js';
