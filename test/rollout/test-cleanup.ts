/**
 * Cleanup of the rollout integration suites: work registered during a test runs after it,
 * most recent first, and then every process the test started must have exited.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';

/** Marks every process a test file starts, so leftovers can be found and killed. */
export const leaks = new ProcessLeakCheck();

const cleanups: (() => Promise<void> | void)[] = [];

/** Runs `fn` after the current test, most recent first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

afterEach(async () => {
  const errors: unknown[] = [];
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0] as Error;
  // Every process the test started must be gone once its runtime is closed.
  expect(await leaks.leftovers()).toEqual([]);
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(prefix = 'aviary-rollout-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
