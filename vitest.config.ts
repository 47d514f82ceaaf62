import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Three projects, chosen by what a test file needs (its name says it, see README "Development"):
//   unit  every other *.test.ts: no server, no dist/ build; `npm run test:unit`.
//   pg    *.pg.test.ts start throwaway PostgreSQL clusters (and *.mssql.test.ts, skipped unless
//         MSSQL_URL is set); `npm run test:pg`. test/kafka-broker.pg.test.ts also starts a
//         throwaway Kafka broker (Java 17+, jars from oracles/kafka/fetch.sh; docs/testing.md),
//         test/debezium-connect.pg.test.ts a broker and a Kafka Connect worker with Debezium
//         (jars from oracles/kafka/connect/fetch.sh).
//   nats  *.nats.test.ts and any test that starts a throwaway nats-server (found by its import of
//         src/testing/throwaway-nats, e.g. test/debezium-jetstream.pg.test.ts, which needs both);
//         `npm run test:nats`.
//   lake  *.lake.test.ts: lake-sink tests read back by delta-rs (the oracles' Python environment
//         that .ci/run installs, src/testing/python-oracles.ts); `npm run test:lake`.
// `npm test` runs all three. Integration tests start real servers; a 2-core machine runs them best
// a few files at a time with generous timeouts.

const TEST_ROOTS = ['src', 'test'];
const SERVER_TEST = /\.(pg|nats|mssql)\.test\.ts$/;
const STARTS_NATS = /testing\/throwaway-nats\.js['"]/;

/** Test files (paths relative to the project root) under `dir`, recursively. */
function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Server tests that need nats-server although their name does not say `.nats.`. */
const natsByImport = TEST_ROOTS.flatMap(testFiles)
  .filter((file) => SERVER_TEST.test(file) && !file.endsWith('.nats.test.ts'))
  .filter((file) => STARTS_NATS.test(readFileSync(file, 'utf8')));

const PG = ['{src,test}/**/*.pg.test.ts', '{src,test}/**/*.mssql.test.ts'];
const LAKE = ['{src,test}/**/*.lake.test.ts'];
const NATS = ['{src,test}/**/*.nats.test.ts', ...natsByImport];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['{src,test}/**/*.test.ts'], exclude: [...PG, ...NATS, ...LAKE] },
      },
      {
        extends: true,
        // The server tests run the built `cdc` binary: global-setup builds dist/ once per run.
        test: { name: 'pg', include: PG, exclude: NATS, globalSetup: ['test/global-setup.ts'] },
      },
      {
        extends: true,
        test: { name: 'nats', include: NATS, globalSetup: ['test/global-setup.ts'] },
      },
      {
        extends: true,
        test: { name: 'lake', include: LAKE, exclude: [...PG, ...NATS], globalSetup: ['test/global-setup.ts'] },
      },
    ],
  },
});
