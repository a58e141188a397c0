/**
 * The sequential judge's harness for the evaluator's tests: an app with the judge, the
 * router's per-version one-second slices (the real RollingWindow) filled by hand, a
 * JudgeEvaluator reading them, and one tick of the real state machine with its answer.
 */
import { RollingWindow } from '../../proxy/stats/rolling-window.js';
import type { MetricResult, OperatorCommand } from '../step/observations.js';
import type { RolloutStatus } from '../step/rollout-status.js';
import {
  appSpec,
  observations,
  rolesOf,
  statusIn,
  type ScenarioApp,
} from '../../../test/support/rollout-scenario.js';
import type { StateStore } from '../state/state-store.js';
import { step } from '../step/step.js';
import { JudgeEvaluator, type JudgeRun } from './judge-evaluator.js';
import { createRandom } from '../../analysis/test-support.js';

/** A whole second, so windows line up with the router's one-second slices. */
export const T0 = 1_700_000_000_000;
export const never: AbortSignal = new AbortController().signal;

export function judgedApp(analysis: Record<string, unknown> = {}): ScenarioApp {
  return appSpec({
    canary: {
      analysis: { interval: '10s', stepWeight: 10, maxWeight: 50, threshold: 5, judge: {}, ...analysis },
    },
  });
}

/** A version the judge can read. */
export type Version = 'primary' | 'canary' | 'baseline';

/** The router's per-version slices (the real RollingWindow), filled by hand. */
export class Traffic {
  readonly windows = {
    primary: new RollingWindow(),
    canary: new RollingWindow(),
    baseline: new RollingWindow(),
  };
  readonly asked: [number, number][] = [];
  private readonly random = createRandom(7);

  /** `rps` requests a second on [fromMs, toMs), `errorRate` of them 500s, latency ~40 ms. */
  fill(version: Version, fromMs: number, toMs: number, rps: number, errorRate: number): void {
    for (let second = fromMs; second < toMs; second += 1000) {
      for (let i = 0; i < rps; i++) {
        const status = this.random() < errorRate ? 500 : 200;
        this.windows[version].record(second + (i * 1000) / rps, status, 30 + 20 * this.random(), undefined);
      }
    }
  }

  readonly source = (_app: string, version: Version) => ({
    snapshot: (fromMs: number, toMs: number) => {
      if (version === 'canary') this.asked.push([fromMs, toMs]);
      return this.windows[version].snapshot(fromMs, toMs);
    },
  });
}

export interface Harness {
  readonly spec: ScenarioApp;
  readonly traffic: Traffic;
  readonly evaluator: JudgeEvaluator;
  status: RolloutStatus;
  judge(nowMs: number): Promise<MetricResult>;
}

export function harness(
  spec = judgedApp(),
  overrides: Partial<RolloutStatus> = {},
  store?: StateStore<JudgeRun>,
): Harness {
  const traffic = new Traffic();
  const h: Harness = {
    spec,
    traffic,
    status: statusIn(spec, 'Progressing', {
      canaryWeight: 10,
      lastProgressTime: T0 - 10_000,
      nextCheckAt: T0,
      ...overrides,
    }),
    evaluator: new JudgeEvaluator({
      traffic: traffic.source,
      status: () => h.status,
      ...(store ? { store } : {}),
    }),
    async judge(nowMs) {
      const metric = spec.canary.analysis.metrics.find((m) => m.name === 'judge')!;
      const result = await h.evaluator.evaluate(spec, metric, nowMs, never);
      if (result === undefined) throw new Error('the judge did not answer');
      return result;
    },
  };
  return h;
}

/** One tick of the state machine with `result` as the judge's check. */
export function tick(
  h: Harness,
  result: MetricResult | undefined,
  commands: OperatorCommand[] = [],
  now = T0,
) {
  const checks = { webhooks: [], metrics: result ? [result] : [] };
  return step(h.spec, h.status, observations({ ...rolesOf(h.status), checks, commands }), now);
}
