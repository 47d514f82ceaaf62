import { defineConfig } from 'vitest/config';

// Integration tests (*.pg.test.ts) start throwaway PostgreSQL clusters; a 2-core machine
// runs them best a few files at a time with generous timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
    globalSetup: ['test/global-setup.ts'],
  },
});
