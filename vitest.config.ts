import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that start the CLI as a child process run the compiled dist/, rebuilt when stale.
    globalSetup: ['test/helpers/buildDist.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites start their own nats-server / child processes; two cores here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
