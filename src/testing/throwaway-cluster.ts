/**
 * A throwaway PostgreSQL cluster for tests, the demo and benchmarks: `initdb` into a temporary
 * directory, `wal_level=logical`, a free port on 127.0.0.1, removed by {@link ThrowawayCluster.stop}.
 *
 * It uses the PostgreSQL binaries installed on the machine (found through `PG_BINDIR`,
 * `pg_config --bindir`, or the newest `/usr/lib/postgresql/<major>/bin`), never the machine's own
 * running services. PostgreSQL refuses to run as root, so when this process is root the server
 * runs as the `postgres` operating-system user (via `runuser`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Options for {@link startThrowawayCluster}. */
export interface ThrowawayClusterOptions {
  /** Extra `postgresql.conf` settings, e.g. `{ shared_buffers: '256MB' }`. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /**
   * Durability. `false` (default for tests) sets fsync, synchronous_commit and
   * full_page_writes off for speed; `true` keeps PostgreSQL's defaults (benchmarks).
   */
  readonly durable?: boolean;
  /** A label used in the directory name, for finding a cluster's log while debugging. */
  readonly label?: string;
}

/** A running throwaway cluster. */
export interface ThrowawayCluster {
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** Root directory holding `data/` and `server.log`. */
  readonly dir: string;
  /** Connection URL for `database` (default `postgres`) as superuser `postgres`, no password. */
  url(database?: string): string;
  /** Runs `psql` against `database` with `args`; resolves to its standard output. */
  psql(database: string, args: readonly string[]): Promise<string>;
  /** Creates a database and resolves to its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * Stops the server and starts it again on the same port and data. `immediate` is a crash:
   * no shutdown checkpoint, so crash recovery runs at start (and empties UNLOGGED tables);
   * `fast` is a clean restart. Connections are cut either way.
   */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server immediately and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Finds the directory of the installed PostgreSQL server binaries.
 * @throws {Error} naming what to install when no `initdb` is found.
 */
export function findPostgresBinDir(): string {
  const fromEnv = process.env.PG_BINDIR;
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // fall through to the Debian layout
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((d) => existsSync(join(root, d, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return join(root, majors[0], 'bin');
  }
  throw new Error(
    'no PostgreSQL server binaries found (initdb): install them (Debian: apt-get install postgresql) or set PG_BINDIR',
  );
}

/** Resolves to a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls until a TCP connection to `port` on 127.0.0.1 succeeds (a server started by a test
 * listens), every `intervalMs` (default 50) for at most `timeoutMs`, or until `exited()` says its
 * process ended.
 * @returns true once connected; false on timeout or exit.
 */
export async function waitForPort(port: number, timeoutMs: number, options: { intervalMs?: number; exited?: () => boolean } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !(options.exited?.() ?? false)) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
  return false;
}

const live = new Set<ThrowawayCluster>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cluster of live) {
      try {
        execFileSync(join(findPostgresBinDir(), 'pg_ctl'), ['stop', '-D', join(cluster.dir, 'data'), '-m', 'immediate'], {
          stdio: 'ignore',
          ...asServerUser(),
        });
      } catch {
        // already stopped
      }
      rmSync(cluster.dir, { recursive: true, force: true });
    }
  });
}

/** Process options that run a server binary as `postgres` when we are root. */
function asServerUser(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/**
 * Starts a new cluster and resolves when it accepts connections.
 * @throws {Error} with the server log's tail when `initdb` or `pg_ctl start` fails.
 */
export async function startThrowawayCluster(options: ThrowawayClusterOptions = {}): Promise<ThrowawayCluster> {
  const bin = findPostgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), `cdc-pg-${options.label ?? 'cluster'}-`));
  const owner = asServerUser();
  if (owner.uid !== undefined) chownSync(dir, owner.uid, owner.gid ?? owner.uid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const serverUserEnv = { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' };
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      ...owner,
      env: serverUserEnv,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed in ${data}`, { cause: error });
  }
  const durable = options.durable ?? false;
  const base: Record<string, string | number> = {
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${dir}'`,
    wal_level: 'logical',
    max_replication_slots: 20,
    max_wal_senders: 20,
    max_worker_processes: 16,
    max_logical_replication_workers: 8,
    timezone: "'UTC'",
    log_min_messages: 'warning',
    ...(durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
  };
  for (const [k, v] of Object.entries(options.settings ?? {})) base[k] = typeof v === 'number' ? v : `'${v}'`;

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = Object.entries({ ...base, port })
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n');
    writeFileSync(join(data, 'postgresql.auto.conf'), `${conf}\n`);
    if (owner.uid !== undefined) chownSync(join(data, 'postgresql.auto.conf'), owner.uid, owner.gid ?? owner.uid);
    try {
      await run(join(bin, 'pg_ctl'), ['start', '-D', data, '-l', log, '-w', '-t', '60'], { ...owner, env: serverUserEnv });
    } catch (error) {
      if (attempt < 3) continue; // the port was probably taken between freePort() and start
      let tail = '';
      try {
        tail = execFileSync('tail', ['-n', '20', log], { encoding: 'utf8' });
      } catch {
        // no log
      }
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`pg_ctl start failed for ${data}:\n${tail}`, { cause: error });
    }
    const cluster = makeCluster({ bin, dir, data, port, owner, env: serverUserEnv });
    live.add(cluster);
    installExitHook();
    return cluster;
  }
}

function makeCluster(p: {
  bin: string;
  dir: string;
  data: string;
  port: number;
  owner: { uid?: number; gid?: number };
  env: NodeJS.ProcessEnv;
}): ThrowawayCluster {
  let stopped = false;
  const cluster: ThrowawayCluster = {
    port: p.port,
    dir: p.dir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${p.port}/${encodeURIComponent(database)}`,
    async psql(database, args) {
      const { stdout } = await run(
        join(p.bin, 'psql'),
        ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(p.port), '-U', 'postgres', '-d', database, ...args],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      return stdout;
    },
    async createDatabase(name) {
      await cluster.psql('postgres', ['-c', `CREATE DATABASE "${name.replaceAll('"', '""')}"`]);
      return cluster.url(name);
    },
    async restart(mode = 'fast') {
      await run(join(p.bin, 'pg_ctl'), ['stop', '-D', p.data, '-m', mode, '-w', '-t', '60'], p.owner);
      await run(join(p.bin, 'pg_ctl'), ['start', '-D', p.data, '-l', join(p.dir, 'server.log'), '-w', '-t', '60'], { ...p.owner, env: p.env });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(cluster);
      try {
        await run(join(p.bin, 'pg_ctl'), ['stop', '-D', p.data, '-m', 'immediate', '-w'], p.owner);
      } catch {
        // already stopped
      }
      rmSync(p.dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
