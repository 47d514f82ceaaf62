/**
 * cdc-merge library entry. Importing it has no side effects; the CLI lives in `src/cli`.
 */
export * from './schema/table.js';
export * from './events/lsn.js';
export * from './events/change.js';
export * from './events/debezium/index.js';
export * from './schema/logical-type.js';
export { logicalTypeOf } from './schema/type-map.js';
export * from './events/values/typed-value.js';
export * from './sql/quote.js';
