/**
 * Test support: running the built `cdc` CLI as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Absolute path of the built CLI entry. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A running `cdc` child: its process, collected output, and a promise of its exit code. */
export interface CliRun {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts `cdc ...args`; `cli` is the entry script to run (default {@link CLI}, e.g. a previous release's). */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, cli: string = CLI): CliRun {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, CDC_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    waitFor(text, timeoutMs = 60_000) {
      const seen = () => (typeof text === 'string' ? err.includes(text) : text.test(err));
      if (seen()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(text)}; stderr:\n${err}`)), timeoutMs);
        listeners.push(() => {
          if (seen()) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then(() => {
          if (!seen()) {
            clearTimeout(timer);
            reject(new Error(`cdc exited before ${String(text)}; stderr:\n${err}`));
          }
        });
      });
    },
  };
}

/** Runs `cdc ...args` to completion; `cli` as for {@link startCli}. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, cli: string = CLI): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args, env, cli);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
