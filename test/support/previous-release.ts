/**
 * Test support: the previous release's `cdc` CLI, built from this repository's own history, for
 * upgrade tests (a target created by the previous release, then run by the current code).
 *
 * The build is `git archive <commit>` into a temporary directory, this repository's
 * `node_modules` linked into it (the previous release's dependencies must be installed here too:
 * checked before compiling), and this repository's TypeScript compiler run on its
 * `tsconfig.build.json`. The result is cached under the OS temporary directory, keyed by the
 * commit (and by this checkout, whose `node_modules` the build links to), so the test files of
 * one run, and later runs on the same machine, build it once. A lock directory keeps two test
 * files that start together from building it twice. The cache is deliberately left in place; the
 * build directory of a failed build is removed.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The previous release: the last release before the checkpoint/position change (target metadata
 * `_cdc_lsn`/`_cdc_ordinal` becoming `_cdc_position`, Debezium watermarks moving from
 * `cdc_management.offsets` rows named `source:…` to `cdc_management.watermarks`). Keep it here
 * until a release containing that change has shipped; then move it to that release's commit, so
 * the upgrade test always starts from the release users actually run.
 */
export const PREVIOUS_RELEASE_COMMIT = '4580ae47a91e61c98397f743ada0e1ac90aad29d';

/** Root of this checkout (the repository or worktree the tests run in). */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How long a build may hold the lock before another test file treats the lock as abandoned. */
const STALE_LOCK_MS = 10 * 60_000;

/** Marker written into a finished build: only a directory holding it is ever used. */
const BUILT_MARKER = '.cdc-release-built';

/**
 * Fails unless `commit` is in this clone, with what to do about it (a shallow CI clone lacks it).
 * @throws {Error} naming the commit and how to fetch full history.
 */
async function assertCommitPresent(commit: string): Promise<void> {
  try {
    await run('git', ['-C', REPO_ROOT, 'cat-file', '-e', `${commit}^{commit}`]);
  } catch {
    let shallow = '';
    try {
      const { stdout } = await run('git', ['-C', REPO_ROOT, 'rev-parse', '--is-shallow-repository']);
      if (stdout.trim() === 'true') shallow = ' (this clone is shallow)';
    } catch {
      // not a git checkout at all: the message below says what is needed
    }
    throw new Error(
      `the upgrade test builds the previous release, commit ${commit}, from this repository's history, but that commit is not in ${REPO_ROOT}${shallow}: ` +
        'fetch full history (`git fetch --unshallow`, or in GitHub Actions `actions/checkout` with `fetch-depth: 0`) and run the test again',
    );
  }
}

/**
 * Fails unless every runtime dependency of the release at `commit` is installed in this
 * checkout's `node_modules` (the build links to it instead of installing its own).
 * @throws {Error} naming the missing packages.
 */
async function assertDependenciesInstalled(commit: string): Promise<void> {
  const { stdout } = await run('git', ['-C', REPO_ROOT, 'show', `${commit}:package.json`]);
  const manifest = JSON.parse(stdout) as { dependencies?: Record<string, string> };
  const missing = Object.keys(manifest.dependencies ?? {}).filter((name) => !existsSync(join(REPO_ROOT, 'node_modules', name, 'package.json')));
  if (missing.length > 0) {
    throw new Error(
      `the previous release ${commit} depends on ${missing.join(', ')}, which this checkout's node_modules lacks; ` +
        'its build links to this node_modules: run `npm ci`, or install those packages as dev dependencies for the upgrade test',
    );
  }
}

/** Compiles the release at `commit` into a fresh directory and resolves to that directory. */
async function build(commit: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'cdc-merge-release-build-'));
  try {
    const archive = join(work, 'source.tar');
    await run('git', ['-C', REPO_ROOT, 'archive', '--format=tar', '-o', archive, commit]);
    await run('tar', ['-x', '-f', archive, '-C', work]);
    rmSync(archive);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: work, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const out = error as { stdout?: string; stderr?: string };
      throw new Error(`compiling the previous release ${commit} failed:\n${out.stdout ?? ''}${out.stderr ?? ''}`, { cause: error });
    }
    if (!existsSync(join(work, 'dist', 'cli', 'main.js'))) throw new Error(`the previous release ${commit} built no dist/cli/main.js`);
    writeFileSync(join(work, BUILT_MARKER), `${commit}\n`);
    return work;
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

/** Takes the lock directory `lock`, waiting while another process holds it; resolves to its release. */
async function acquire(lock: string, done: () => boolean): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(lock);
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (done()) return () => undefined;
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // released meanwhile
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

let pending: Promise<string> | undefined;

/**
 * Builds (once; see the module comment for the cache) the CLI of the release at `commit` and
 * resolves to the absolute path of its `dist/cli/main.js`, to run with `node`.
 * @param commit defaults to {@link PREVIOUS_RELEASE_COMMIT}.
 * @throws {Error} when the commit is not in this clone (fetch full history), a dependency of that
 *   release is not installed, or it does not compile.
 */
export function previousReleaseCli(commit: string = PREVIOUS_RELEASE_COMMIT): Promise<string> {
  if (commit === PREVIOUS_RELEASE_COMMIT && pending) return pending;
  const result = (async () => {
    await assertCommitPresent(commit);
    const checkout = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 8);
    const cache = join(tmpdir(), `cdc-merge-release-${commit.slice(0, 12)}-${checkout}`);
    const cli = join(cache, 'dist', 'cli', 'main.js');
    const ready = () => existsSync(join(cache, BUILT_MARKER)) && existsSync(join(cache, 'node_modules', 'typescript'));
    if (ready()) return cli;
    await assertDependenciesInstalled(commit);
    const release = await acquire(`${cache}.lock`, ready);
    try {
      if (ready()) return cli;
      const built = await build(commit);
      rmSync(cache, { recursive: true, force: true });
      renameSync(built, cache);
      return cli;
    } finally {
      release();
    }
  })();
  if (commit === PREVIOUS_RELEASE_COMMIT) pending = result;
  return result;
}

