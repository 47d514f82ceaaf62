/**
 * `cdc migrations status`: per file, whether it is applied, pending, modified (its checksum
 * differs from the applied one) or failed on an environment's database; `--offline` reports
 * what the files alone tell (pending is unknown, modified means hand-edited).
 */
import { CdcError } from '../errors.js';
import { connectPostgres } from '../sql/connect.js';
import { projectSink, type Project } from '../project/project.js';
import { readHistory } from './apply.js';
import { checkMigrations, type MigrationProblem } from './check.js';
import { environmentUrl } from './environment.js';
import { migrationsDir, readManifestIfAny } from './generate.js';
import { historyNames } from './history-names.js';
import type { Manifest } from './manifest.js';

/** One file's state. */
export type FileState = 'applied' | 'pending' | 'modified' | 'failed' | 'unknown' | 'missing' | 'edited';

/** One row of the status table. */
export interface FileStatus {
  readonly path: string;
  readonly kind: string;
  readonly state: FileState;
  /** When it was applied (ISO 8601), for applied, modified and failed files. */
  readonly appliedAt?: string;
  /** The error of a failed file; what changed for a modified one. */
  readonly detail?: string;
}

/** Result of {@link migrationStatus}. */
export interface MigrationStatus {
  readonly sink: string;
  readonly database?: string;
  readonly files: readonly FileStatus[];
  readonly problems: readonly MigrationProblem[];
}

function loadManifest(project: Project, sink?: string): { sink: string; dir: string; manifest: Manifest } {
  const { name } = projectSink(project, sink);
  const dir = migrationsDir(project, name);
  const manifest = readManifestIfAny(dir);
  if (!manifest) throw new CdcError('MIGRATIONS_INVALID', `no migrations in ${dir}`, { remedy: 'run cdc migrations generate first' });
  return { sink: name, dir, manifest };
}

/**
 * Status of every file: offline (`env` undefined) from the files alone, else against the
 * environment's `migration_history`.
 * @throws {CdcError} MIGRATIONS_INVALID without a manifest; CONFIG_INVALID for an unknown
 *   environment or unset variables; connection errors.
 */
export async function migrationStatus(options: { project: Project; sink?: string; env?: string; environ?: NodeJS.ProcessEnv }): Promise<MigrationStatus> {
  const { sink, dir, manifest } = loadManifest(options.project, options.sink);
  const { problems } = checkMigrations(dir, manifest);
  const problemOf = new Map(problems.map((p) => [p.path, p]));
  const local = (path: string): FileState | undefined => {
    const p = problemOf.get(path);
    if (p?.code === 'FILE_MISSING') return 'missing';
    if (p?.code === 'FILE_MODIFIED' || p?.code === 'CHECKSUM_MISMATCH') return 'edited';
    return undefined;
  };
  if (options.env === undefined) {
    return { sink, files: manifest.files.map((f) => ({ path: f.path, kind: f.kind, state: local(f.path) ?? 'unknown' })), problems };
  }
  const url = environmentUrl(options.env, manifest, options.environ);
  const client = await connectPostgres(url, { role: `${options.env} database`, applicationName: 'cdc-merge migrations status' });
  try {
    const history = await readHistory(client);
    const names = historyNames(manifest);
    const files = manifest.files.map((f): FileStatus => {
      // Under its path on a database that no apply of this version has upgraded yet (the path
      // row is then the file's own), else under the file's history name.
      const h = history.get(f.path) ?? history.get(names.get(f.path)!);
      const edited = local(f.path);
      if (!h) return { path: f.path, kind: f.kind, state: edited ?? 'pending' };
      const appliedAt = h.appliedAt.toISOString();
      if (!h.success) return { path: f.path, kind: f.kind, state: 'failed', appliedAt, detail: h.error ?? undefined };
      if (h.checksum !== f.checksum) {
        return { path: f.path, kind: f.kind, state: 'modified', appliedAt, detail: f.kind === 'table' ? 'table DDL changed since applied: apply refuses it' : 'changed since applied: apply re-runs it' };
      }
      return { path: f.path, kind: f.kind, state: edited ?? 'applied', appliedAt };
    });
    return { sink, database: manifest.databases[options.env], files, problems };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * `cdc migrations validate`: the problems of the sink's migrations folder (empty when valid).
 * @throws {CdcError} MIGRATIONS_INVALID without a manifest (or with a malformed one).
 */
export function validateMigrations(options: { project: Project; sink?: string }): { sink: string; files: number; problems: MigrationProblem[] } {
  const { sink, dir, manifest } = loadManifest(options.project, options.sink);
  const { problems } = checkMigrations(dir, manifest);
  return { sink, files: manifest.files.length, problems };
}
