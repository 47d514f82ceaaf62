/**
 * Builds dist/ once before the tests: the crash and CLI tests run the real `cdc` binary as a
 * child process, the way a user does.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
