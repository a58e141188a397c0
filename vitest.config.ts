import { defineConfig } from 'vitest/config';

/** Suites that run against the real test control plane (test/cluster: kube-apiserver, etcd, KWOK). */
const KUBERNETES = [
  'test/kubernetes/**/*.test.ts',
  'test/cluster/**/*.test.ts',
  'test/tekton/tekton-cluster.test.ts',
];

// Tests use real loopback servers and child processes; the machine has two shared cores,
// so files run in a small pool and nothing asserts on wall-clock time. Two projects, both run
// by `npm test`: `unit` (everything on one machine) and `kubernetes` (the real control
// plane; `--project kubernetes` runs it alone). Those suites skip when the control plane
// cannot start here, unless AVIARY_K8S_REQUIRED=1 (.ci/run), which makes that a failure.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 30_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: KUBERNETES },
      },
      { extends: true, test: { name: 'kubernetes', include: KUBERNETES } },
    ],
  },
});
