/**
 * The configuration of `cdc run`: from a YAML file (`--config cdc.yaml`), overridden by flags.
 * `${VAR}` anywhere in a string value is replaced by the environment variable VAR (an unset
 * variable is an error, so a typo never becomes an empty password). Errors name the file, the
 * line and the field.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isMap, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { CdcError } from '../errors.js';

const schemaAction = z.enum(['apply', 'ignore', 'stop']);

/** The YAML schema of cdc.yaml as `cdc run` reads it. */
export const runConfigSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_]{1,50}$/, 'use 1 to 50 lower-case letters, digits or underscores').optional(),
    source: z.object({ url: z.string().min(1) }).strict().optional(),
    target: z.object({ url: z.string().min(1) }).strict().optional(),
    tables: z.array(z.string().min(1)).optional(),
    metrics_port: z.number().int().min(0).max(65535).optional(),
    soft_delete: z.boolean().optional(),
    schema_changes: z.object({ drop: schemaAction.optional(), type_change: schemaAction.optional() }).strict().optional(),
    batch: z
      .object({
        max_changes: z.number().int().positive().optional(),
        max_age_ms: z.number().int().positive().optional(),
        idle_ms: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    snapshot: z.object({ parallelism: z.number().int().min(1).max(64).optional() }).strict().optional(),
  })
  .strict();

/** cdc.yaml as parsed. */
export type RunConfigFile = z.infer<typeof runConfigSchema>;

function substitute(value: unknown, path: string, file: string, line: (p: string) => number | undefined): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = process.env[name];
      if (v === undefined) {
        throw new CdcError('CONFIG_INVALID', `${file}:${line(path) ?? 1}: ${path} uses \${${name}} but ${name} is not set`, {
          remedy: `export ${name}=… before running, or write the value into the file`,
        });
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${path}[${i}]`, file, line));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, path ? `${path}.${k}` : k, file, line)]));
  }
  return value;
}

/**
 * Reads and validates a config file.
 * @throws {CdcError} CONFIG_INVALID naming file, line and field: unreadable file, YAML syntax
 *   error, unknown or mistyped field, unset `${VAR}`.
 */
export function loadRunConfig(file: string): RunConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new CdcError('CONFIG_INVALID', `cannot read config file ${file}: ${(cause as Error).message}`, {
      cause,
      remedy: 'check the path given to --config',
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new CdcError('CONFIG_INVALID', `${file}:${pos.line}:${pos.col}: YAML syntax error: ${e.message.split('\n')[0]}`, {
      remedy: 'fix the YAML at that line (indentation with spaces, a colon after each key)',
    });
  }
  const lineOf = (path: string): number | undefined => {
    const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
    let node: unknown = doc.contents;
    let found: YamlNode | undefined;
    for (const k of keys) {
      if (!node || typeof node !== 'object' || !('get' in node)) break;
      const next = (node as { get(key: unknown, keep: boolean): unknown }).get(/^\d+$/.test(k) ? Number(k) : k, true);
      if (next === undefined) break;
      node = next;
      found = next as YamlNode;
    }
    const offset = found?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const raw = doc.toJS() ?? {};
  if (!isMap(doc.contents) && doc.contents !== null) {
    throw new CdcError('CONFIG_INVALID', `${file}:1: the file must be a YAML mapping (key: value lines)`, {
      remedy: 'see the example cdc.yaml in the README',
    });
  }
  const result = runConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
    const unknownKey = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    const at = path ? `${path}${unknownKey}` : unknownKey.trim() || '(top level)';
    const lookup = issue.code === 'unrecognized_keys' ? [path, issue.keys[0]].filter(Boolean).join('.') : path;
    throw new CdcError('CONFIG_INVALID', `${file}:${lineOf(lookup) ?? 1}: ${at}: ${issue.message}`, {
      remedy: 'fix that field; the README lists every field of cdc.yaml',
    });
  }
  return substitute(result.data, '', file, lineOf) as RunConfigFile;
}
