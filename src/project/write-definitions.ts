/**
 * Writing table definition files into a project (`cdc schema import` / `inspect`), and declaring
 * their service in cdc.yaml without disturbing the file's comments.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { CdcError } from '../errors.js';
import { renderTableFile } from '../config/table-file.js';
import type { TableDefinition } from '../schema/definition.js';
import type { SourceDialect } from '../schema/type-map.js';
import { SCHEMAS_DIR } from './project.js';

/** One written file and what happened to it. */
export interface WrittenDefinition {
  readonly path: string;
  readonly status: 'new' | 'updated' | 'unchanged';
}

/**
 * Characters a schema or table name may not have to become a folder or file name.
 * @throws {CdcError} DEFINITION_INVALID for names with `/`, `\`, NUL or that are `.`/`..`.
 */
function safeSegment(name: string, what: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\u0000')) {
    throw new CdcError('DEFINITION_INVALID', `${what} ${JSON.stringify(name)} cannot be a file name`, { remedy: 'exclude the table, or rename it on the source' });
  }
  return name;
}

/** Writes each definition to `schemas/<service>/<schema>/<table>.yaml` under `projectDir`. */
export function writeDefinitions(projectDir: string, definitions: readonly TableDefinition[], origin: string): WrittenDefinition[] {
  return definitions.map((d) => {
    const path = join(projectDir, SCHEMAS_DIR, safeSegment(d.service, 'service'), safeSegment(d.schema, 'schema'), `${safeSegment(d.table, 'table')}.yaml`);
    const text = renderTableFile(d, origin);
    const before = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (before === text) return { path, status: 'unchanged' };
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return { path, status: before === undefined ? 'new' : 'updated' };
  });
}

/**
 * Adds `services.<service>: { dialect }` to cdc.yaml when missing (comments are kept).
 * @throws {CdcError} CONFIG_INVALID when the service exists with another dialect.
 * @returns true when the file was changed.
 */
export function declareService(configFile: string, service: string, dialect: SourceDialect): boolean {
  const doc = parseDocument(readFileSync(configFile, 'utf8'));
  const existing = doc.getIn(['services', service, 'dialect']);
  if (existing === dialect) return false;
  if (existing !== undefined) {
    throw new CdcError('CONFIG_INVALID', `${configFile}: service ${service} has dialect ${typeof existing === 'string' ? existing : JSON.stringify(existing)}, not ${dialect}`, {
      remedy: 'use another --service name, or fix the dialect in cdc.yaml',
    });
  }
  if (!doc.has('services') || doc.get('services') === null) doc.set('services', doc.createNode({}));
  doc.setIn(['services', service], doc.createNode({ dialect }));
  writeFileSync(configFile, doc.toString());
  return true;
}
