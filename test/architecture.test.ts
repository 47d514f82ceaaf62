/**
 * The import rules of docs/architecture.md (issue 10): the pipeline names no source or sink
 * kind; the CLI and the migrations reach the PostgreSQL sink only through its dialect; only the
 * registry (and each kind's own folder) imports a sink kind. Reads imports with TypeScript's
 * pre-processor (static, dynamic, re-exports, type-only), so it needs no build.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/** Non-test .ts files under `dir`, as paths relative to the project root. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

/** Project files `file` imports, relative to the project root. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return importedFiles
    .map((ref) => ref.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(join(ROOT, file)), name.replace(/\.js$/, '.ts')))
    .filter((path) => existsSync(path))
    .map((path) => relative(ROOT, path));
}

/** Folders under src/sinks that are shared by kinds, not a kind (the lake formats' Parquet and storage). */
const SHARED_SINK_FOLDERS = new Set(['src/sinks/lake']);

/** The kind folder (`src/sources/postgres`, `src/sinks/postgres`) a file lies in, if any. */
function kindFolder(file: string): string | undefined {
  const folder = /^(src\/(?:sources|sinks)\/[^/]+)\//.exec(file)?.[1];
  return folder !== undefined && SHARED_SINK_FOLDERS.has(folder) ? undefined : folder;
}

const all = files(SRC);

/** `file → imported` pairs breaking `allowed`. */
function violations(from: (file: string) => boolean, allowed: (file: string, imported: string) => boolean): string[] {
  return all.filter(from).flatMap((file) => importsOf(file).filter((imported) => !allowed(file, imported)).map((imported) => `${file} → ${imported}`));
}

describe('import rules (docs/architecture.md)', () => {
  it('src/pipeline imports no source or sink kind and nothing of src/events/debezium: only the seam interfaces', () => {
    expect(violations((f) => f.startsWith('src/pipeline/'), (_, i) => kindFolder(i) === undefined && !i.startsWith('src/events/debezium/'))).toEqual([]);
  });

  it('src/cli and src/migrations import no src/sinks/postgres module', () => {
    expect(violations((f) => f.startsWith('src/cli/') || f.startsWith('src/migrations/'), (_, i) => !i.startsWith('src/sinks/postgres/'))).toEqual([]);
  });

  it('only the registry and the kind itself import a sink kind', () => {
    expect(
      violations(
        (f) => f !== 'src/run/registry.ts',
        (f, i) => !i.startsWith('src/sinks/') || kindFolder(i) === undefined || kindFolder(i) === kindFolder(f),
      ),
    ).toEqual([]);
  });
});
