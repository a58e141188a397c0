import { describe, expect, it } from 'vitest';
import { appSpec } from '../../../test/support/rollout-scenario.js';
import type { MetricObserver } from '../../metrics/metric-observer.js';
import { runChecks, type CheckRunnerDeps } from './check-runner.js';

const app = appSpec({
  canary: {
    analysis: {
      interval: '1m',
      threshold: 5,
      stepWeight: 10,
      maxWeight: 50,
      metrics: [
        { name: 'from-prometheus', templateRef: { name: 'from-prometheus' }, thresholdRange: { min: 1 } },
      ],
    },
  },
});

const observer: MetricObserver = {
  kind: 'none',
  observe: () => Promise.reject(new Error('not asked in this test')),
};

describe('runChecks with an evaluator that fails', () => {
  it('reports the failure as that check’s error instead of failing the tick', async () => {
    const deps: CheckRunnerDeps = {
      webhooks: { call: () => Promise.reject(new Error('no hooks here')) },
      observer,
      extraMetrics: () => Promise.reject(new Error('traffic over [t0, t1) is not scraped yet')),
    };
    const metric = app.canary.analysis.metrics[0]!;
    const results = await runChecks(
      deps,
      app,
      { hookStages: [], metrics: [metric] },
      { namespace: 'default', checksum: 'x' },
      0,
      new AbortController().signal,
    );
    expect(results.metrics).toEqual([
      { name: metric.name, value: null, passed: false, error: 'traffic over [t0, t1) is not scraped yet' },
    ]);
  });

  it('still rejects when the tick itself was aborted', async () => {
    const abort = new AbortController();
    abort.abort();
    const deps: CheckRunnerDeps = {
      webhooks: { call: () => Promise.reject(new Error('no hooks here')) },
      observer,
      extraMetrics: (_a, _m, _n, signal) => Promise.reject(signal.reason as Error),
    };
    await expect(
      runChecks(
        deps,
        app,
        { hookStages: [], metrics: [app.canary.analysis.metrics[0]!] },
        { namespace: 'default', checksum: 'x' },
        0,
        abort.signal,
      ),
    ).rejects.toThrow();
  });
});
