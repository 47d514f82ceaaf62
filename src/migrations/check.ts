/**
 * Checks a sink's migrations folder against its manifest (`cdc migrations validate`, and before
 * every `apply`): each file's body matches the checksum in its header and in the manifest, the
 * chain links are right, and no file is missing or extra.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { chainOf, MANIFEST_FILE, type Manifest } from './manifest.js';
import { isMigrationFilePath, parseMigrationFile, type MigrationFile } from './migration-file.js';

/** One problem found. */
export interface MigrationProblem {
  readonly code: 'FILE_MODIFIED' | 'FILE_MISSING' | 'FILE_EXTRA' | 'CHECKSUM_MISMATCH' | 'CHAIN_BROKEN';
  /** The file concerned, relative to the sink's folder. */
  readonly path: string;
  readonly message: string;
}

/** Every migration file under `dir` (`.sql`, or `.yaml` in a subfolder), relative, with `/` separators. */
function migrationFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const path = relative(dir, full).split(sep).join('/');
      if (statSync(full).isDirectory()) walk(full);
      else if (isMigrationFilePath(path)) out.push(path);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/**
 * The problems of `dir` against `manifest`, and the parsed files that exist.
 * - FILE_MODIFIED: the body no longer matches the checksum in the file's own header (hand edit);
 * - CHECKSUM_MISMATCH: the file's checksum differs from the manifest's entry;
 * - CHAIN_BROKEN: a chain link does not follow from the entries before it (the manifest was
 *   edited, or entries inserted, removed or reordered);
 * - FILE_MISSING / FILE_EXTRA: listed but absent / present but not listed.
 */
export function checkMigrations(dir: string, manifest: Manifest): { problems: MigrationProblem[]; files: Map<string, MigrationFile> } {
  const problems: MigrationProblem[] = [];
  const files = new Map<string, MigrationFile>();
  for (const entry of manifest.files) {
    const full = join(dir, entry.path);
    if (!existsSync(full)) {
      problems.push({ code: 'FILE_MISSING', path: entry.path, message: `${entry.path} is listed in ${MANIFEST_FILE} but missing` });
      continue;
    }
    const file = parseMigrationFile(entry.path, readFileSync(full, 'utf8'), entry.kind);
    files.set(entry.path, file);
    if (file.declaredChecksum !== file.checksum) {
      problems.push({
        code: 'FILE_MODIFIED',
        path: entry.path,
        message: `${entry.path} was edited by hand: its body no longer matches its checksum ${file.declaredChecksum || '(none)'}`,
      });
    } else if (file.checksum !== entry.checksum) {
      problems.push({ code: 'CHECKSUM_MISMATCH', path: entry.path, message: `${entry.path} has checksum ${file.checksum} but ${MANIFEST_FILE} lists ${entry.checksum}` });
    }
  }
  const links = chainOf(manifest.files);
  const broken = manifest.files.findIndex((f, i) => f.chain !== links[i]);
  if (broken >= 0 || (manifest.files.length > 0 && manifest.sum !== links.at(-1))) {
    const path = broken >= 0 ? manifest.files[broken]!.path : MANIFEST_FILE;
    problems.push({ code: 'CHAIN_BROKEN', path, message: `${MANIFEST_FILE}: the chain breaks at ${path}: entries were edited, inserted, removed or reordered` });
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const path of migrationFiles(dir)) {
    if (!listed.has(path)) problems.push({ code: 'FILE_EXTRA', path, message: `${path} is not in ${MANIFEST_FILE}` });
  }
  return { problems, files };
}
