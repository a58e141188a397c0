import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appSpec, statusIn } from '../../../test/support/rollout-scenario.js';
import type { MetricObserver } from '../../metrics/metric-observer.js';
import type { TrafficSource } from '../../analysis/traffic-source.js';
import { RollingWindow } from '../../proxy/stats/rolling-window.js';
import type { Target, VersionRole, VersionStatus } from '../../target/target.js';
import { StateStore } from '../state/state-store.js';
import type { RolloutStatus } from '../step/rollout-status.js';
import { newAppRecord, type AppRecord } from './app-record.js';
import { JudgeEvaluator, type JudgeRun } from './judge-evaluator.js';
import { tickObservations, type ObserveDeps } from './tick-observations.js';

/** A whole second, so windows line up with the router's one-second slices. */
const T0 = 1_700_000_000_000;
const never = new AbortController().signal;
const spec = appSpec({
  canary: { analysis: { interval: '1m', threshold: 5, stepWeight: 10, maxWeight: 50, judge: {} } },
});
const status: RolloutStatus = statusIn(spec, 'Progressing', {
  canaryWeight: 10,
  lastProgressTime: T0,
  nextCheckAt: T0 + 60_000,
});

/** Both roles ready on the revisions `status` names (a fake of the target seam). */
const target = {
  // eslint-disable-next-line @typescript-eslint/require-await -- the Target interface is async
  async status(_app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    const revision = role === 'primary' ? status.primaryRevision : status.canaryRevision;
    return { revision, desiredReplicas: 1, readyReplicas: 1 } as VersionStatus;
  },
} as unknown as Target;

/** Fails the test if a threshold metric is queried: between check ticks only the judge runs. */
const observer: MetricObserver = {
  kind: 'none',
  observe: () => Promise.reject(new Error('a threshold metric was queried between check ticks')),
};

/** The router's slices (the real RollingWindow): `rps` healthy requests a second per version. */
function traffic(untilMs: number) {
  const windows = {
    primary: new RollingWindow(),
    canary: new RollingWindow(),
    baseline: new RollingWindow(),
  };
  for (let second = T0; second < untilMs; second += 1000)
    for (const [version, rps] of [
      ['primary', 18],
      ['canary', 2],
    ] as const)
      for (let i = 0; i < rps; i++) windows[version].record(second + i * 10, 200, 30, undefined);
  const asked: [number, number][] = [];
  const source = (_app: string, version: 'primary' | 'canary' | 'baseline') => ({
    snapshot: (fromMs: number, toMs: number) => {
      if (version === 'canary') asked.push([fromMs, toMs]);
      return windows[version].snapshot(fromMs, toMs);
    },
  });
  return { source, asked };
}

/** A controller's edge for one app: its record and the judge, over `store`. */
function edge(store: StateStore<JudgeRun>, source: TrafficSource) {
  const record: AppRecord = newAppRecord(spec, undefined, () => spec.desired);
  record.status = status;
  const judge = new JudgeEvaluator({ traffic: source, status: () => record.status, store });
  const deps: ObserveDeps = {
    target,
    namespace: 'default',
    checks: {
      webhooks: { call: () => Promise.reject(new Error('no hook is due')) },
      observer,
      extraMetrics: judge.evaluate,
    },
  };
  return { record, judge, observe: (now: number) => tickObservations(deps, record, now, never) };
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('tickObservations with the judge looking between check ticks', () => {
  it('looks once per lookInterval, runs no check, and a restarted controller looks at once and resumes the run', async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-looks-'));
    const store = new StateStore<JudgeRun>(dir);
    const t = traffic(T0 + 10_000);
    const first = edge(store, t.source);

    const atLook = await first.observe(T0 + 1_200);
    expect(atLook.checks).toEqual({ webhooks: [], metrics: [] });
    expect(atLook.looks).toMatchObject([{ name: 'judge', passed: false, value: null }]);
    expect(first.record.lastLookAt).toBe(T0 + 1_200);
    // Not due again before a second has passed; then due.
    expect((await first.observe(T0 + 1_900)).looks).toEqual([]);
    expect((await first.observe(T0 + 2_200)).looks).toHaveLength(1);
    expect((await first.observe(T0 + 3_300)).looks).toHaveLength(1);
    // The judge keeps no look as the record's evidence unless it rolls back.
    expect(first.record.lastChecks).toBeUndefined();

    // A restart: a new record (no last look) and a new judge over the same store.
    const restarted = edge(store, t.source);
    expect(restarted.record.lastLookAt).toBeUndefined();
    expect((await restarted.observe(T0 + 5_100)).looks).toHaveLength(1);
    expect(t.asked).toEqual([
      [T0, T0 + 1_000],
      [T0 + 1_000, T0 + 2_000],
      [T0 + 2_000, T0 + 3_000],
      [T0 + 3_000, T0 + 5_000],
    ]);
    expect(restarted.judge.run(spec.name)).toMatchObject({
      lastTo: T0 + 5_000,
      from: T0,
      state: { windows: 4 },
    });
    expect(restarted.judge.run(spec.name)?.state.canary.requests).toBe(10);
  });

  it('answers a look that cannot read the counts with its error, and the next look reads the seconds it missed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-looks-'));
    const t = traffic(T0 + 10_000);
    let reachable = false;
    const flaky = (app: string, version: 'primary' | 'canary' | 'baseline') => ({
      snapshot: (fromMs: number, toMs: number) => {
        if (!reachable) return Promise.reject(new Error('admin API of 127.0.0.1:9901 unreachable'));
        return t.source(app, version).snapshot(fromMs, toMs);
      },
    });
    const { observe } = edge(new StateStore<JudgeRun>(dir), flaky);
    expect((await observe(T0 + 2_100)).looks).toEqual([
      { name: 'judge', value: null, passed: false, error: 'admin API of 127.0.0.1:9901 unreachable' },
    ]);
    reachable = true;
    expect((await observe(T0 + 3_100)).looks).toMatchObject([{ name: 'judge' }]);
    expect(t.asked).toEqual([[T0, T0 + 3_000]]);
  });

  it('leaves the judge to the check on a check tick, and asks it once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-looks-'));
    const t = traffic(T0 + 70_000);
    const { record, observe } = edge(new StateStore<JudgeRun>(dir), t.source);
    const atCheck = await observe(T0 + 60_000);
    expect(atCheck.looks).toEqual([]);
    expect(atCheck.checks.metrics.map((m) => m.name)).toEqual(['judge']);
    expect(record.lastLookAt).toBe(T0 + 60_000);
    expect(t.asked).toEqual([[T0, T0 + 60_000]]);
  });
});
