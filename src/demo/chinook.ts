/**
 * The Chinook sample database (https://github.com/lerocha/chinook-database): where its
 * PostgreSQL script is and how to load it into a database of our choosing.
 *
 * The script drops and creates a database named `chinook` and switches to it with `\c`; those
 * lines are left out so that everything lands in the database we give.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ThrowawayCluster } from '../testing/throwaway-cluster.js';

/**
 * The path of `Chinook_PostgreSql.sql`: `$CHINOOK_SQL` when set, otherwise
 * `../shared/data/chinook/` next to the repository root.
 * @throws {Error} naming the path tried when the file is missing.
 */
export function chinookScriptPath(): string {
  const fromEnv = process.env.CHINOOK_SQL;
  // This file is src/demo/chinook.ts or dist/demo/chinook.js: the repository root is two up.
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const path = fromEnv ? resolve(fromEnv) : join(repoRoot, '..', 'shared', 'data', 'chinook', 'Chinook_PostgreSql.sql');
  if (!existsSync(path)) {
    throw new Error(`the Chinook script is not at ${path}: set CHINOOK_SQL to the path of Chinook_PostgreSql.sql`);
  }
  return path;
}

/** Statements of the script that would leave the database we load into. */
const DATABASE_LEVEL = /^\s*(?:(?:DROP|CREATE)\s+DATABASE\b|\\c(?:onnect)?\b)/i;

/** The script's text without its DROP DATABASE, CREATE DATABASE and `\c` lines. */
export function stripDatabaseCommands(script: string): string {
  return script
    .split('\n')
    .filter((line) => !DATABASE_LEVEL.test(line))
    .join('\n');
}

/**
 * Loads the Chinook script into `database` of `cluster` with the cluster's `psql`, stopping at
 * the first error.
 */
export async function loadChinook(cluster: ThrowawayCluster, database: string, scriptPath = chinookScriptPath()): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-chinook-'));
  try {
    const file = join(dir, 'chinook.sql');
    writeFileSync(file, stripDatabaseCommands(readFileSync(scriptPath, 'utf8')));
    await cluster.psql(database, ['-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
