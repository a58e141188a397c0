import { defineConfig } from 'vitest/config';

// Tests use real loopback servers and child processes; the machine has two shared cores,
// so files run in a small pool and nothing asserts on wall-clock time.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
