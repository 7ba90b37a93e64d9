import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Component tests (test/*.test.tsx) run in happy-dom; the browser tests (test/e2e) drive a real
// Chromium against a real server, one file at a time.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
      maxWorkers: 1,
    },
  }),
);
