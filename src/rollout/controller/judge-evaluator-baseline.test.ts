/**
 * The judge's reference with `analysis.baseline: fresh` (docs/adr/0018-fresh-baseline.md): it
 * reads the fresh baseline's counts where it read the primary's, so a canary as slow and as
 * faulty as a cold copy of the primary is no regression, though the warm primary does better.
 */
import { describe, expect, it } from 'vitest';
import { RollingWindow } from '../../proxy/stats/rolling-window.js';
import {
  appSpec,
  PREVIOUS_REVISION,
  statusIn,
  type ScenarioApp,
} from '../../../test/support/rollout-scenario.js';
import type { MetricResult } from '../step/observations.js';
import { JudgeEvaluator, referenceOf } from './judge-evaluator.js';
import { createRandom } from '../../analysis/test-support.js';

/** A whole second, so windows line up with the router's one-second slices. */
const T0 = 1_700_000_000_000;
const never = new AbortController().signal;

type Version = 'primary' | 'canary' | 'baseline';

function judgedApp(baseline: 'primary' | 'fresh'): ScenarioApp {
  return appSpec({
    canary: {
      analysis: { interval: '10s', stepWeight: 10, maxWeight: 50, threshold: 5, judge: {}, baseline },
    },
  });
}

/**
 * The router's slices per version: the primary warm (5 ms, no errors), the canary and the
 * baseline cold alike (slow, 10 % errors), each with its own random stream.
 */
function coldStart() {
  const windows = {
    primary: new RollingWindow(),
    canary: new RollingWindow(),
    baseline: new RollingWindow(),
  };
  const read: Version[] = [];
  const fill = (version: Version, rps: number, errorRate: number, latencyMs: number, seed: number) => {
    const random = createRandom(seed);
    for (let second = T0 - 10_000; second < T0 + 20_000; second += 1000) {
      for (let i = 0; i < rps; i++) {
        const status = random() < errorRate ? 500 : 200;
        windows[version].record(
          second + (i * 1000) / rps,
          status,
          latencyMs * (0.8 + 0.4 * random()),
          undefined,
        );
      }
    }
  };
  fill('primary', 80, 0, 5, 1);
  fill('canary', 10, 0.1, 200, 2);
  fill('baseline', 10, 0.1, 200, 3);
  const source = (_app: string, version: Version) => ({
    snapshot: (fromMs: number, toMs: number) => {
      read.push(version);
      return windows[version].snapshot(fromMs, toMs);
    },
  });
  return { source, read };
}

async function judgeAfter(app: ScenarioApp, seconds: number) {
  const traffic = coldStart();
  const status = statusIn(app, 'Progressing', {
    canaryWeight: 10,
    lastProgressTime: T0 - 10_000,
    nextCheckAt: T0,
    ...(app.canary.analysis.baseline === 'fresh' ? { baselineRevision: PREVIOUS_REVISION } : {}),
  });
  const evaluator = new JudgeEvaluator({ traffic: traffic.source, status: () => status });
  const metric = app.canary.analysis.metrics.find((m) => m.name === 'judge')!;
  const results: MetricResult[] = [];
  for (let s = 0; s <= seconds && results.at(-1)?.rollback !== true; s++) {
    const result = await evaluator.evaluate(app, metric, T0 + s * 1000 + 200, never);
    if (result === undefined) throw new Error('the judge did not answer');
    results.push(result);
  }
  return { result: results.at(-1), read: new Set(traffic.read), run: evaluator.run(app.name) };
}

describe('JudgeEvaluator with a fresh baseline', () => {
  it('names the reference: the baseline with baseline: fresh, else the primary', () => {
    expect(referenceOf(judgedApp('fresh'))).toBe('baseline');
    expect(referenceOf(judgedApp('primary'))).toBe('primary');
  });

  it('compares the canary with the warm primary by default, and rolls the cold canary back', async () => {
    const { result, read } = await judgeAfter(judgedApp('primary'), 15);
    expect(read).toEqual(new Set(['primary', 'canary']));
    expect(result).toMatchObject({ rollback: true, passed: false });
  });

  it('compares the canary with the equally cold baseline with baseline: fresh, and finds no regression', async () => {
    const { result, read, run } = await judgeAfter(judgedApp('fresh'), 15);
    expect(read).toEqual(new Set(['baseline', 'canary']));
    expect(result).toBeDefined();
    expect(result?.rollback).toBeUndefined();
    // The reference's counts are the baseline's (10 a second), not the primary's (80).
    expect(run!.state.primary.requests).toBe(run!.state.canary.requests);
    expect(run!.state.primary.requests).toBeGreaterThan(100);
  });
});
