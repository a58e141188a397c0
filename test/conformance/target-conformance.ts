/**
 * The one conformance suite every target runs (after Hono's shared router tests): the same
 * cases against the process target, the endpoints target, the in-memory fake and, later,
 * Kubernetes. A target
 * may skip a case only with a written reason.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../support/poll.js';
import type { Target, VersionRole, VersionSpec, VersionStatus } from '../../src/target/target.js';

/** A target plus the specs the suite needs, built fresh for every case. */
export interface TargetUnderTest<Spec extends VersionSpec = VersionSpec> {
  readonly target: Target<Spec>;
  /**
   * A spec whose replicas become ready; a different `variant` gives a different revision. A
   * negative `replicas` must give a spec the target refuses as invalid.
   */
  healthySpec(variant: string, replicas: number): Spec;
  /** A spec whose replicas never become ready (they fail at start). */
  failingSpec(replicas: number): Spec;
  /** Releases what `create` made; runs after `target.close()`. */
  dispose(): Promise<void>;
}

/** Names of the cases, for `skip`. */
export const TARGET_CONFORMANCE_TESTS = [
  'reports its kind',
  'has no status for an unknown version',
  'starts a version with every replica ready',
  'applying the same spec again changes nothing',
  'scales up and down',
  'scaling to zero keeps the version',
  'rejects scaling a version that does not exist',
  'replaces replicas when the revision changes, never leaving no endpoint',
  'keeps a failing version unready and says why',
  'runs primary and canary side by side',
  'runs a fresh baseline of the primary beside them, and stops it alone',
  'promotes the canary spec to the primary, keeping its replica count',
  'stops a version and forgets it',
  'keeps log lines and honours tail',
  'rejects an app name that is not an RFC 1123 label',
  'does nothing when the signal is already aborted',
  'recovers nothing on a fresh state',
  'rejects calls after close',
] as const;

/** One case name. */
export type TargetConformanceTest = (typeof TARGET_CONFORMANCE_TESTS)[number];

/** Options of {@link runTargetConformance}. */
export interface TargetConformanceOptions<Spec extends VersionSpec = VersionSpec> {
  readonly name: string;
  readonly create: () => Promise<TargetUnderTest<Spec>>;
  /** Cases not run, each group with the reason (required, non-empty). */
  readonly skip?: readonly { readonly reason: string; readonly tests: readonly TargetConformanceTest[] }[];
}

/** Registers the suite with vitest. */
export function runTargetConformance<Spec extends VersionSpec>(
  options: TargetConformanceOptions<Spec>,
): void {
  const skipped = new Set<string>();
  for (const group of options.skip ?? []) {
    if (group.reason.trim() === '') throw new Error(`${options.name}: every skip needs a reason`);
    for (const test of group.tests) skipped.add(test);
  }

  describe(`${options.name} passes the target conformance suite`, () => {
    let subject: TargetUnderTest<Spec>;
    const app = 'conformance';
    const target = (): Target<Spec> => subject.target;
    const revisionOf = (spec: Spec): string => target().identify(spec).revision;
    const statusOf = async (role: VersionRole = 'canary'): Promise<VersionStatus> => {
      const status = await target().status(app, role);
      if (status === undefined) throw new Error(`no status for ${app}/${role}`);
      return status;
    };
    const readyWith = (replicas: number, role: VersionRole = 'canary') =>
      pollUntil(async () => {
        const status = await statusOf(role);
        const settled = status.replicas.every((r) => r.revision === status.revision);
        return status.readyReplicas === replicas && status.endpoints.length === replicas && settled
          ? status
          : undefined;
      });

    beforeEach(async () => {
      subject = await options.create();
    });
    afterEach(async () => {
      await subject.target.close();
      await subject.dispose();
    });

    const test = (name: TargetConformanceTest, body: () => Promise<void>): void => {
      if (skipped.has(name)) it.skip(name, body);
      else it(name, body);
    };

    test('reports its kind', async () => {
      expect(target().kind).toMatch(/^[a-z][a-z-]*$/);
      await Promise.resolve();
    });

    test('has no status for an unknown version', async () => {
      expect(await target().status(app, 'canary')).toBeUndefined();
      expect(await target().logs(app, 'canary')).toEqual([]);
    });

    test('starts a version with every replica ready', async () => {
      const spec = subject.healthySpec('v1', 2);
      const started = await target().ensureVersion(app, 'canary', spec);
      expect(started).toMatchObject({ app, role: 'canary', revision: revisionOf(spec), desiredReplicas: 2 });
      const ready = await readyWith(2);
      expect(ready.readyPercent).toBe(100);
      expect(new Set(ready.endpoints).size).toBe(2);
      for (const endpoint of ready.endpoints) expect(endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    });

    test('applying the same spec again changes nothing', async () => {
      const spec = subject.healthySpec('v1', 2);
      await target().ensureVersion(app, 'canary', spec);
      const before = await readyWith(2);
      const again = await target().ensureVersion(app, 'canary', spec);
      expect(again.revision).toBe(before.revision);
      expect([...again.endpoints].sort()).toEqual([...before.endpoints].sort());
      expect(again.restarts).toBe(0);
    });

    test('scales up and down', async () => {
      await target().ensureVersion(app, 'canary', subject.healthySpec('v1', 1));
      await readyWith(1);
      expect((await target().scale(app, 'canary', 3)).desiredReplicas).toBe(3);
      await readyWith(3);
      expect((await target().scale(app, 'canary', 1)).desiredReplicas).toBe(1);
      const down = await readyWith(1);
      expect(down.replicas).toHaveLength(1);
    });

    test('scaling to zero keeps the version', async () => {
      const spec = subject.healthySpec('v1', 2);
      await target().ensureVersion(app, 'canary', spec);
      await readyWith(2);
      await target().scale(app, 'canary', 0);
      const empty = await pollUntil(async () =>
        (await statusOf()).replicas.length === 0 ? statusOf() : undefined,
      );
      expect(empty).toMatchObject({
        revision: revisionOf(spec),
        desiredReplicas: 0,
        readyPercent: 100,
        endpoints: [],
      });
    });

    test('rejects scaling a version that does not exist', async () => {
      await expect(target().scale(app, 'canary', 2)).rejects.toMatchObject({
        code: 'AVIARY_TARGET_VERSION_NOT_FOUND',
      });
      await expect(target().promote(app)).rejects.toMatchObject({ code: 'AVIARY_TARGET_VERSION_NOT_FOUND' });
    });

    test('replaces replicas when the revision changes, never leaving no endpoint', async () => {
      await target().ensureVersion(app, 'canary', subject.healthySpec('v1', 2));
      await readyWith(2);
      const next = subject.healthySpec('v2', 2);
      const applied = await target().ensureVersion(app, 'canary', next);
      expect(applied.revision).toBe(revisionOf(next));
      expect(applied.endpoints.length).toBeGreaterThan(0);
      const done = await pollUntil(async () => {
        const status = await statusOf();
        expect(status.endpoints.length).toBeGreaterThan(0);
        return status.readyReplicas === 2 && status.replicas.length === 2 ? status : undefined;
      });
      expect(done.replicas.every((r) => r.revision === revisionOf(next))).toBe(true);
    });

    test('keeps a failing version unready and says why', async () => {
      await target().ensureVersion(app, 'canary', subject.failingSpec(2));
      const failing = await pollUntil(async () =>
        (await statusOf()).lastError !== null ? statusOf() : undefined,
      );
      expect(failing.readyReplicas).toBe(0);
      expect(failing.endpoints).toEqual([]);
      expect(failing.readyPercent).toBe(0);
    });

    test('runs primary and canary side by side', async () => {
      await target().ensureVersion(app, 'primary', subject.healthySpec('v1', 1));
      await target().ensureVersion(app, 'canary', subject.healthySpec('v2', 1));
      const primary = await readyWith(1, 'primary');
      const canary = await readyWith(1, 'canary');
      expect(primary.revision).not.toBe(canary.revision);
      expect(primary.endpoints[0]).not.toBe(canary.endpoints[0]);
    });

    test('runs a fresh baseline of the primary beside them, and stops it alone', async () => {
      // analysis.baseline: fresh (docs/adr/0018-fresh-baseline.md): the primary's spec, sized
      // as the canary, in a role of its own.
      const primarySpec = subject.healthySpec('v1', 2);
      await target().ensureVersion(app, 'primary', primarySpec);
      await target().ensureVersion(app, 'canary', subject.healthySpec('v2', 1));
      await target().ensureVersion(app, 'baseline', target().withReplicas(primarySpec, 1));
      const primary = await readyWith(2, 'primary');
      const baseline = await readyWith(1, 'baseline');
      await readyWith(1, 'canary');
      expect(baseline).toMatchObject({ role: 'baseline', revision: primary.revision, desiredReplicas: 1 });
      expect(primary.endpoints).not.toContain(baseline.endpoints[0]);
      await target().stop(app, 'baseline');
      expect(await target().status(app, 'baseline')).toBeUndefined();
      expect(await target().status(app, 'primary')).toMatchObject({ readyReplicas: 2 });
      expect(await target().status(app, 'canary')).toMatchObject({ readyReplicas: 1 });
    });

    test('promotes the canary spec to the primary, keeping its replica count', async () => {
      await target().ensureVersion(app, 'primary', subject.healthySpec('v1', 2));
      const canarySpec = subject.healthySpec('v2', 1);
      await target().ensureVersion(app, 'canary', canarySpec);
      await readyWith(2, 'primary');
      await readyWith(1, 'canary');
      const promoted = await target().promote(app);
      expect(promoted).toMatchObject({
        role: 'primary',
        revision: revisionOf(canarySpec),
        desiredReplicas: 2,
      });
      const primary = await readyWith(2, 'primary');
      expect(primary.replicas.every((r) => r.revision === revisionOf(canarySpec))).toBe(true);
    });

    test('stops a version and forgets it', async () => {
      await target().ensureVersion(app, 'canary', subject.healthySpec('v1', 2));
      await readyWith(2);
      await target().stop(app, 'canary');
      expect(await target().status(app, 'canary')).toBeUndefined();
      await target().stop(app, 'canary');
    });

    test('keeps log lines and honours tail', async () => {
      const spec = subject.healthySpec('v1', 2);
      await target().ensureVersion(app, 'canary', spec);
      await readyWith(2);
      const lines = await pollUntil(async () => {
        const all = await target().logs(app, 'canary');
        return all.length >= 2 ? all : undefined;
      });
      for (const line of lines) {
        expect(line.revision).toBe(revisionOf(spec));
        expect(['stdout', 'stderr', 'aviary']).toContain(line.stream);
        expect(line.replica).toBeLessThan(2);
      }
      const [last] = await target().logs(app, 'canary', { tail: 1 });
      expect(await target().logs(app, 'canary', { tail: 1 })).toHaveLength(1);
      expect(last?.at).toBeGreaterThanOrEqual(lines.at(-1)?.at ?? Infinity);
      expect(await target().logs(app, 'canary', { tail: 0 })).toEqual([]);
    });

    test('rejects an app name that is not an RFC 1123 label', async () => {
      for (const bad of ['../escape', 'Upper', '', '-dash']) {
        await expect(
          target().ensureVersion(bad, 'canary', subject.healthySpec('v1', 1)),
        ).rejects.toMatchObject({
          code: 'AVIARY_TARGET_INVALID_SPEC',
        });
      }
      await expect(
        target().ensureVersion(app, 'canary', subject.healthySpec('v1', -1)),
      ).rejects.toMatchObject({
        code: 'AVIARY_TARGET_INVALID_SPEC',
      });
    });

    test('does nothing when the signal is already aborted', async () => {
      const aborted = AbortSignal.abort();
      await expect(
        target().ensureVersion(app, 'canary', subject.healthySpec('v1', 1), aborted),
      ).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(await target().status(app, 'canary')).toBeUndefined();
    });

    test('recovers nothing on a fresh state', async () => {
      expect(await target().recover()).toEqual({ adopted: [], discarded: [] });
      expect(await target().recover()).toEqual({ adopted: [], discarded: [] });
    });

    test('rejects calls after close', async () => {
      await target().ensureVersion(app, 'canary', subject.healthySpec('v1', 1));
      await target().close();
      await target().close();
      await expect(target().ensureVersion(app, 'canary', subject.healthySpec('v1', 1))).rejects.toMatchObject(
        {
          code: 'AVIARY_TARGET_CLOSED',
        },
      );
    });
  });
}
