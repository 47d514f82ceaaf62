/**
 * A throwaway NATS server with JetStream for tests, the demo and benchmarks: the machine's
 * `nats-server` binary (found through `NATS_SERVER`, `PATH`, or `/usr/sbin/nats-server`; Debian
 * package `nats-server`) on a free port on 127.0.0.1, its JetStream store in a temporary
 * directory, killed and removed by {@link ThrowawayNats.stop}. It never uses a NATS server the
 * machine already runs.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './throwaway-cluster.js';

/** A running throwaway NATS server. */
export interface ThrowawayNats {
  readonly port: number;
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** The JetStream store directory. */
  readonly dir: string;
  /**
   * Stops the server (SIGTERM, waiting for its exit) and starts it again on the same port with
   * the same store, as a server restart does: clients lose their connection; streams and durable
   * consumers stay.
   * @throws {Error} with the server's output when it does not start again within 10 s.
   */
  restart(): Promise<void>;
  /** Kills the server and removes its store. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The `nats-server` binary to use.
 * @throws {Error} saying how to install it when none is found.
 */
export function findNatsServer(): string {
  const fromEnv = process.env.NATS_SERVER;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('nats-server not found: install it (Debian: apt-get install nats-server) or set NATS_SERVER to its path');
  }
}

const live = new Set<ChildProcess>();
let hooked = false;

/** A spawned nats-server process, with its output and a promise of its exit. */
interface NatsProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  output(): string;
}

function spawnNats(bin: string, port: number, dir: string): NatsProcess {
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  live.add(child);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, output: () => output };
}

async function kill(server: NatsProcess, signal: NodeJS.Signals): Promise<void> {
  if (!live.delete(server.child)) return;
  server.child.kill(signal);
  await server.exited;
}

/**
 * Starts `nats-server -js` on a free port with a fresh store directory.
 * @throws {Error} with the server's output when it does not start within 10 s.
 */
export async function startThrowawayNats(options: { label?: string } = {}): Promise<ThrowawayNats> {
  const bin = findNatsServer();
  const dir = mkdtempSync(join(tmpdir(), `cdc-nats-${options.label ?? 'server'}-`));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    let server = spawnNats(bin, port, dir);
    if (await waitForPort(port, 10_000)) {
      return {
        port,
        url: `nats://127.0.0.1:${port}`,
        dir,
        async restart() {
          await kill(server, 'SIGTERM');
          // The port was ours a moment ago; retry briefly in case the old socket lingers.
          for (let tries = 0; ; tries++) {
            server = spawnNats(bin, port, dir);
            if (await waitForPort(port, 10_000)) return;
            await kill(server, 'SIGKILL');
            if (tries >= 2) throw new Error(`nats-server did not start again on port ${port}:\n${server.output()}`);
          }
        },
        async stop() {
          await kill(server, 'SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await kill(server, 'SIGKILL');
    if (attempt >= 2) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nats-server did not start on port ${port}:\n${server.output()}`);
    }
  }
}
