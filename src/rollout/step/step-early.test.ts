import { describe, expect, it } from 'vitest';
import type { ScenarioApp } from '../../../test/support/rollout-scenario.js';
import type { MetricResult } from './observations.js';
import {
  appSpec,
  observations,
  rolesOf,
  statusIn,
  summarise,
} from '../../../test/support/rollout-scenario.js';
import { step } from './step.js';

const NOW = 300_000;

function specWith(webhooks: unknown[] = []): ScenarioApp {
  return appSpec({
    canary: {
      analysis: {
        interval: '1m',
        stepWeight: 10,
        maxWeight: 50,
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
        webhooks,
      },
    },
  } as never);
}

const judged = (extra: Partial<MetricResult>): MetricResult => ({
  name: 'request-success-rate',
  value: 99.9,
  sampleSize: 500,
  passed: true,
  detail: '99.9 >= 99',
  ...extra,
});

function tick(spec: ScenarioApp, metric: MetricResult) {
  const status = statusIn(spec, 'Progressing', {
    canaryWeight: 10,
    nextCheckAt: NOW,
    lastProgressTime: NOW - 1000,
  });
  return step(
    spec,
    status,
    observations({ ...rolesOf(status), checks: { webhooks: [], metrics: [metric] } }),
    NOW,
  );
}

describe('checks that ask for an immediate decision', () => {
  it('advances normally on a passing check', () => {
    const result = tick(specWith(), judged({}));
    expect(result.status).toMatchObject({ phase: 'Progressing', canaryWeight: 20 });
  });

  it('rolls back at once on a proven regression, before threshold', () => {
    const result = tick(
      specWith(),
      judged({ passed: false, value: 90, rollback: true, detail: 'regression' }),
    );
    expect(result.status).toMatchObject({ phase: 'Failed', failedChecks: 1 });
    expect(summarise(specWith(), result.actions)).toContain('event RegressionDetected');
  });
});
