/**
 * Reading a YAML file against a zod schema with errors a person can act on: every error names
 * the file, the line and the field (`cdc.yaml:4: target pasword: unrecognized key`). Shared by
 * cdc.yaml, table definition files and migration manifests.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { isMap, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { CdcError } from '../errors.js';

/** Options for {@link loadYamlFile}. */
export interface YamlFileOptions {
  /** Error code of every failure (default `CONFIG_INVALID`). */
  readonly code?: string;
  /** What the file is, for messages: `config file`, `table definition`, … */
  readonly what?: string;
  /** Remedy for a schema violation (default: fix that field). */
  readonly remedy?: string;
  /** Replace `${VAR}` in string values from the environment (an unset variable is an error). */
  readonly substituteEnv?: boolean;
  /** The text, when already read (then `file` is only used in messages). */
  readonly text?: string;
}

/** A parsed, validated YAML file. */
export interface YamlFile<T> {
  readonly file: string;
  readonly data: T;
  /** 1-based line of a dotted path (`sinks.postgres.naming`, `columns[2].type`), or undefined. */
  lineOf(path: string): number | undefined;
}

/** `a.b[2].c` from zod's issue path. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

function substitute(value: unknown, path: string, fail: (path: string, name: string) => never): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => process.env[name] ?? fail(path, name));
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${path}[${i}]`, fail));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, path ? `${path}.${k}` : k, fail)]));
  }
  return value;
}

/**
 * `value` with every `${VAR}` in its strings replaced from the environment (what
 * `substituteEnv` does to a whole file), for sections a command reads later than the file.
 * @param where names the section in messages, e.g. `cdc.yaml: sinks.lake.target`
 * @throws {CdcError} CONFIG_INVALID naming `where`, the field and the variable that is not set.
 */
export function substituteEnvironment<T>(value: T, where: string): T {
  return substitute(value, '', (path, name) => {
    throw new CdcError('CONFIG_INVALID', `${where}${path ? `.${path}` : ''} uses \${${name}} but ${name} is not set`, {
      remedy: `export ${name}=… before running, or write the value into the file`,
    });
  }) as T;
}

/**
 * Reads `file`, parses it as YAML and validates it with `schema`.
 * @throws {CdcError} with `options.code` (default CONFIG_INVALID) and a message
 *   `<file>:<line>: <field>: <problem>` for an unreadable file, a YAML syntax error, a value that
 *   is not a mapping, a schema violation (the first one), or an unset `${VAR}`.
 */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, options: YamlFileOptions = {}): YamlFile<z.infer<S>> {
  const code = options.code ?? 'CONFIG_INVALID';
  const what = options.what ?? 'config file';
  let text = options.text;
  if (text === undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new CdcError(code, `cannot read ${what} ${file}: ${(cause as Error).message}`, {
        cause,
        remedy: 'check the path (and that the file exists)',
        context: { file },
      });
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new CdcError(code, `${file}:${pos.line}:${pos.col}: YAML syntax error: ${e.message.split('\n')[0]}`, {
      remedy: 'fix the YAML at that line (indentation with spaces, a colon after each key)',
      context: { file, line: pos.line },
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
  if (!isMap(doc.contents) && doc.contents !== null) {
    throw new CdcError(code, `${file}:1: the ${what} must be a YAML mapping (key: value lines)`, {
      remedy: 'see the examples in the README',
      context: { file, line: 1 },
    });
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = formatPath(issue.path);
    const unknownKey = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    const at = path ? `${path}${unknownKey}` : unknownKey.trim() || '(top level)';
    const lookup = issue.code === 'unrecognized_keys' ? [path, issue.keys[0]].filter(Boolean).join('.') : path;
    const line = lineOf(lookup) ?? 1;
    throw new CdcError(code, `${file}:${line}: ${at}: ${issue.message}`, {
      remedy: options.remedy ?? 'fix that field; the README lists every field',
      context: { file, line, field: at },
    });
  }
  let data = result.data;
  if (options.substituteEnv) {
    data = substitute(data, '', (path, name) => {
      throw new CdcError(code, `${file}:${lineOf(path) ?? 1}: ${path} uses \${${name}} but ${name} is not set`, {
        remedy: `export ${name}=… before running, or write the value into the file`,
        context: { file, field: path },
      });
    }) as z.infer<S>;
  }
  return { file, data, lineOf };
}
