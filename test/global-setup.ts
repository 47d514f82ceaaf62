/**
 * Builds dist/ once before the server tests and installs the test oracles (`oracles/setup.sh`): the
 * crash and CLI tests run the real `cdc` binary as
 * a child process, the way a user does. Both server projects (`pg`, `nats`; see vitest.config.ts)
 * name this setup; vitest runs every project's global setup in its one main process, so an
 * environment flag lets the second project skip the build the first one already did. The `unit`
 * project does not use it.
 */
import { execFileSync } from 'node:child_process';

const BUILT = 'CDC_TEST_DIST_BUILT';

export default function setup(): void {
  if (process.env[BUILT] === '1') return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  // The oracles (delta-rs, moto, the Kafka jars): installed once, a no-op when present, so that
  // `npm test` works on a fresh machine as `.ci/run` does.
  execFileSync('bash', ['oracles/setup.sh'], { stdio: 'inherit' });
  process.env[BUILT] = '1';
}
