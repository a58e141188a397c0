/**
 * The set-up the process target's own suites share: every test gets a fresh state directory
 * and a {@link ProcessTarget} with short restart backoff, closed and removed after it, and
 * the file fails if any process it started is still alive at the end.
 */
import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import {
  httpAppSpec,
  makeStateDir,
  ProcessLeakCheck,
  removeStateDir,
  waitForStatus,
} from '../../../test/fixtures/apps/http-app-spec.js';
import type { VersionStatus } from '../target.js';
import { ProcessTarget, type ProcessTargetOptions } from './process-target.js';
import type { ProcessSpec } from './version-spec.js';

/** The target of the current test and shortcuts into its canary of {@link ProcessTargetFixture.app}. */
export interface ProcessTargetFixture {
  /** The app every test runs: `shop`. */
  readonly app: string;
  /** The target the last {@link open} made; the one closed after the test. */
  readonly target: ProcessTarget;
  /** The test's state directory. */
  readonly stateDir: string;
  /**
   * Makes a new target on the test's state directory (stop grace 2 s, restart backoff
   * 50 → 400 ms unless `options` say otherwise). The one it replaces is not closed.
   */
  readonly open: (options?: Partial<ProcessTargetOptions>) => ProcessTarget;
  /** The test app with `env` (the leak marker added) and `replicas`. */
  readonly spec: (env: Record<string, string>, replicas: number, extra?: Partial<ProcessSpec>) => ProcessSpec;
  /** Polls the canary's status until `predicate` holds, and returns that status. */
  readonly until: (predicate: (status: VersionStatus) => boolean) => Promise<VersionStatus>;
}

/** Registers the hooks of a process target suite; call once at the top of the file. */
export function useProcessTarget(): ProcessTargetFixture {
  const leaks = new ProcessLeakCheck();
  let stateDir = '';
  let target: ProcessTarget | undefined;
  const current = (): ProcessTarget => {
    if (target === undefined) throw new Error('no process target: use the fixture inside a test');
    return target;
  };

  const fixture: ProcessTargetFixture = {
    app: 'shop',
    get target() {
      return current();
    },
    get stateDir() {
      return stateDir;
    },
    open: (options = {}) => {
      target = new ProcessTarget({
        stateDir,
        stopGraceMs: 2000,
        restartBackoff: { initialMs: 50, maxMs: 400 },
        ...options,
      });
      return target;
    },
    spec: (env, replicas, extra = {}) => httpAppSpec({ ...leaks.env, ...env }, replicas, extra),
    until: (predicate) => waitForStatus(current(), fixture.app, 'canary', predicate),
  };

  beforeEach(async () => {
    stateDir = await makeStateDir();
    fixture.open();
  });

  afterEach(async () => {
    await current().close();
    await removeStateDir(stateDir);
  });

  afterAll(async () => {
    expect(await leaks.leftovers()).toEqual([]);
  });

  return fixture;
}
