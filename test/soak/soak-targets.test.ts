/**
 * The soak's verdicts (soak/soak-summary.ts) on figures made up to pass and to fail each
 * target, and the window floors they are read from: a soak whose targets could not fail
 * would show nothing.
 */
import { describe, expect, it } from 'vitest';
import { floorOver, type ProcessSample } from '../../soak/process-sampler.js';
import type { SoakRun } from '../../soak/soak-run.js';
import { summarise, targetsOf, windowSecondsFor, type TargetFigures } from '../../soak/soak-summary.js';

const MB = 2 ** 20;

const good: TargetFigures = {
  processes: [
    {
      role: 'up',
      pid: 10,
      rssMb: { start: 130, end: 128 },
      rssGrowthPct: -1.5,
      fds: { start: 23, end: 23 },
      connections: { start: 2, end: 5 },
      eventLoopP99Ms: { end: 3, worst: 12 },
    },
    {
      role: 'proxy',
      pid: 11,
      rssMb: { start: 90, end: 99 },
      rssGrowthPct: 10,
      fds: { start: 21, end: 20 },
      connections: { start: 7, end: 6 },
      eventLoopP99Ms: { end: 2, worst: 9 },
    },
  ],
  warmedUp: true,
  processesStable: true,
  requests: { sent: 4000, ok: 3990, appFailures: 10, aviaryFailures: 0, notSent: 0, aviaryReasons: {} },
  rollouts: { total: 4, promoted: 2, rolledBack: 2, unexpected: 0, longestSeconds: 30 },
};

const proxyWith = (change: object): TargetFigures => ({
  ...good,
  processes: [good.processes[0]!, { ...good.processes[1]!, ...change }],
});

describe('targetsOf', () => {
  it('meets every target on good figures (10.0% growth is still at most 10%)', () => {
    expect(Object.values(targetsOf(good)).every(Boolean)).toBe(true);
  });

  it('misses each target on figures bad for it alone', () => {
    expect(targetsOf(proxyWith({ rssGrowthPct: 10.1 }))).toMatchObject({
      rssGrowthAtMost10Pct: false,
      noFdGrowth: true,
    });
    expect(targetsOf(proxyWith({ fds: { start: 21, end: 22 } }))).toMatchObject({
      noFdGrowth: false,
      rssGrowthAtMost10Pct: true,
    });
    const requests = (change: object): TargetFigures => ({
      ...good,
      requests: { ...good.requests, ...change },
    });
    expect(targetsOf(requests({ aviaryFailures: 1 })).zeroAviaryFailures).toBe(false);
    expect(targetsOf(requests({ notSent: 3 })).zeroAviaryFailures).toBe(false);
    expect(targetsOf(requests({ ok: 0 })).zeroAviaryFailures).toBe(false);
    const rollouts = (change: object): TargetFigures => ({
      ...good,
      rollouts: { ...good.rollouts, ...change },
    });
    expect(targetsOf(rollouts({ unexpected: 1 })).rolloutsAsExpected).toBe(false);
    expect(targetsOf(rollouts({ rolledBack: 0 })).rolloutsAsExpected).toBe(false);
    expect(targetsOf({ ...good, processesStable: false }).processesStable).toBe(false);
  });

  it('does not judge RSS before the warm-up, and still fails the rest', () => {
    const early = targetsOf({
      ...proxyWith({ rssGrowthPct: 30, fds: { start: 21, end: 22 } }),
      warmedUp: false,
    });
    expect(early).toMatchObject({ rssGrowthAtMost10Pct: null, noFdGrowth: false });
  });

  it('fails rather than passes vacuously when no process was measured', () => {
    expect(targetsOf({ ...good, processes: [] })).toMatchObject({
      rssGrowthAtMost10Pct: false,
      noFdGrowth: false,
    });
  });
});

describe('the figures of a run', () => {
  it('reads each end as the floor of a window: a quarter of the span, 20 to 120 s, at most half', () => {
    expect(windowSecondsFor(80)).toBe(20);
    expect(windowSecondsFor(1500)).toBe(120);
    expect(windowSecondsFor(30)).toBe(15);
    const samples: ProcessSample[] = [
      { pid: 1, atSeconds: 9, rssBytes: 5, fds: 1, connections: 0 },
      { pid: 1, atSeconds: 10, rssBytes: 9, fds: 4, connections: 3 },
      { pid: 1, atSeconds: 11, rssBytes: 7, fds: 5, connections: 2 },
      { pid: 2, atSeconds: 11, rssBytes: 1, fds: 1, connections: 1 },
    ];
    expect(floorOver(samples, 1, 10, 20)).toEqual({ rssBytes: 7, fds: 4, connections: 2 });
    expect(floorOver(samples, 3, 0, 20)).toBeUndefined();
  });

  /**
   * A run of `seconds` whose controller's RSS saws by 20% with its collections (a 60-s
   * period), plus `leakPerSecond` MB a second; the warm-up ends at a sixth of the run, or
   * at 700 s in a run long enough.
   */
  function run(seconds: number, leakPerSecond: number): SoakRun {
    const samples: ProcessSample[] = [];
    for (let t = 0; t <= seconds; t++) {
      const sawtooth = 1 + 0.2 * ((t % 60) / 60);
      const rssBytes = (100 + leakPerSecond * t) * MB * sawtooth;
      samples.push({ pid: 10, atSeconds: t, rssBytes, fds: 20, connections: t % 3 });
      samples.push({ pid: 11, atSeconds: t, rssBytes: 80 * MB, fds: 21, connections: 5 });
    }
    const processes = [
      { pid: 10, role: 'up' },
      { pid: 11, role: 'proxy' },
    ];
    const journal = { journalBytes: 1000, snapshotBytes: 0, generation: 1 };
    const point = (label: string, atSeconds: number) => ({ label, atSeconds, processes, journal });
    const warm = seconds >= 1320 ? 700 : seconds / 6;
    return {
      settings: {
        durationSeconds: seconds,
        everySeconds: 20,
        warmupSeconds: warm,
        ratePerSecond: 40,
        workDir: '/tmp',
        report: false,
      },
      points: [point('start', 0), point('after release 2', warm), point('end', seconds)],
      samples,
      warmIndex: 1,
      rollouts: [
        { release: 1, faulty: false, phase: 'Succeeded', seconds: 25 },
        { release: 2, faulty: true, phase: 'Failed', seconds: 6 },
      ],
      load: { sent: 100, ok: 98, app: 2, aviary: 0, skipped: 0, aviaryReasons: {}, aviaryExamples: [] },
      eventLoopP99Ms: { up: { end: 2, worst: 5 } },
      machine: { cpus: 2, loadStart: [1, 1, 1], loadEnd: [2, 2, 2] },
      durationSeconds: seconds,
    };
  }

  it('passes a warmed-up run whose memory only saws with its collections', () => {
    const summary = summarise(run(1800, 0));
    expect(summary.processes.map((p) => [p.role, p.rssGrowthPct])).toEqual([
      ['up', 0],
      ['proxy', 0],
    ]);
    expect(summary.soak).toMatchObject({
      measuredFromSeconds: 700,
      measuredToSeconds: 1800,
      windowSeconds: 120,
    });
    expect(summary).toMatchObject({ warmedUp: true, pass: true });
    expect(summary.targets.rssGrowthAtMost10Pct).toBe(true);
  });

  it('fails a warmed-up run whose floor rises by 0.02 MB a second, and one that ended early', () => {
    const leaking = summarise(run(1800, 0.02));
    expect(leaking.processes[0]?.rssGrowthPct).toBeGreaterThan(10);
    expect(leaking.targets.rssGrowthAtMost10Pct).toBe(false);
    expect(leaking.pass).toBe(false);
    const stopped = summarise({ ...run(1800, 0), error: 'stopped by SIGINT' });
    expect(stopped).toMatchObject({ pass: false, error: 'stopped by SIGINT' });
  });

  it('reports RSS growth without a verdict when the run measured before the warm-up ended', () => {
    const short = summarise(run(120, 0.2));
    expect(short.processes[0]?.rssGrowthPct).toBeGreaterThan(10);
    expect(short).toMatchObject({ warmedUp: false, pass: true });
    expect(short.targets).toEqual({
      rssGrowthAtMost10Pct: null,
      noFdGrowth: true,
      zeroAviaryFailures: true,
      rolloutsAsExpected: true,
      processesStable: true,
    });
  });
});
