import { defineConfig } from 'vitest/config';

// One test configuration for every package: each package's vitest.config.ts re-exports it,
// so turbo can run and cache the packages independently.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers than that only adds PGlite start-up contention.
    maxWorkers: 2,
  },
});
