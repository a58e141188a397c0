/**
 * Rollouts decided by the analysis beyond the built-in counters, through the whole runtime:
 * a templated metric and the built-in checks answered by a real Prometheus that scrapes the
 * embedded proxy's metrics on the control API, and the sequential judge rolling a
 * regression back at once, before `threshold` failed checks pile up.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusProvider } from '../../src/metrics/prometheus-provider.js';
import { MetricQueryError } from '../../src/metrics/metric-provider.js';
import { findFreePort } from '../../src/target/process/free-port.js';
import {
  APP,
  catalogProcess,
  describeRollout,
  quickCanary,
  startTestRuntime,
  TrafficLoop,
  waitFor,
} from '../rollout/support.js';
import { prometheusUnavailable, startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';

const missing = prometheusUnavailable();
const never = new AbortController().signal;

describe.skipIf(missing !== undefined)(
  `rollouts decided through a real Prometheus${missing === undefined ? '' : ` (skipped: ${missing})`}`,
  () => {
    let prometheus: (TestPrometheus & { provider: PrometheusProvider }) | undefined;
    let apiPort = 0;

    beforeAll(async () => {
      apiPort = await findFreePort();
      // Ready once the first scrape of the (not yet started) control API was attempted.
      const started = await startPrometheus(`127.0.0.1:${apiPort}`, 'aviary', 'count(up{job="aviary"})');
      prometheus = {
        ...started,
        provider: new PrometheusProvider({ address: started.url, timeoutMs: 2000 }),
      };
    }, 30_000);

    afterAll(async () => {
      await prometheus?.stop();
    });

    it('rolls v3 back on a templated success rate that Prometheus computes from the router', async () => {
      const url = prometheus!.url;
      const test = await startTestRuntime(
        catalogProcess('1'),
        quickCanary({
          threshold: 1,
          stepWeight: 50,
          maxWeight: 50,
          metrics: [
            {
              name: 'success-rate',
              templateRef: { name: 'router-success-rate' },
              templateVariables: { version: 'canary' },
              // At least the scrape window: rate() needs two samples inside it.
              interval: '10s',
              thresholdRange: { min: 99 },
            },
            { name: 'request-duration', interval: '10s', thresholdRange: { max: 500 } },
          ],
        }),
        {
          api: { port: apiPort },
          metricsServer: url,
          metricTemplates: [
            {
              name: 'router-success-rate',
              provider: { type: 'prometheus', address: url },
              query:
                '100 * sum(rate(aviary_proxy_requests_total{service="{{ service }}",version="{{ variables.version }}",code!~"5.."}[{{ interval }}]))' +
                ' / sum(rate(aviary_proxy_requests_total{service="{{ service }}",version="{{ variables.version }}"}[{{ interval }}]))',
            },
          ],
        },
      );
      await test.waitForPhase('Initialized');
      TrafficLoop.start(test.runtime.routerUrl, { pauseMs: 10 });

      test.deploy(catalogProcess('3', { FAIL_RATE: '0.5' }));
      await test.waitForPhase('Failed');

      const failed = test.events('ChecksFailed');
      expect(failed, describeRollout(test)).toHaveLength(1);
      expect(failed[0]!.message).toMatch(/metric success-rate \d+(\.\d+)? < min 99 outside threshold/);
      expect(test.events('ThresholdReached')).toHaveLength(1);
      expect(test.events('Promoting')).toEqual([]);

      // The deciding value came from PromQL, and the built-in check went to Prometheus too.
      const checks = test.runtime.controller.view(APP).lastChecks?.metrics ?? [];
      const success = checks.find((m) => m.name === 'success-rate');
      expect(success).toMatchObject({
        passed: false,
        evidence: {
          provider: `prometheus ${url}/`,
          query: expect.stringContaining(
            'aviary_proxy_requests_total{service="catalogdetail",version="canary",code!~"5.."}[10s]',
          ),
        },
      });
      expect(success!.value).toBeGreaterThan(20);
      expect(success!.value).toBeLessThan(80);
      expect(checks.find((m) => m.name === 'request-duration')).toMatchObject({
        evidence: {
          provider: `prometheus ${url}/`,
          query: expect.stringContaining('histogram_quantile(0.99'),
        },
      });

      // Prometheus holds the canary's 500s the decision was based on.
      const errors = await prometheus!.provider.runQuery(
        'sum(aviary_proxy_requests_total{service="catalogdetail",version="canary",code="500"})',
        never,
      );
      expect(errors).toBeGreaterThan(0);
    });

    it('reports a query Prometheus rejects as a failed check with its own error text', async () => {
      const err = await prometheus!.provider.runQuery('sum(rate(x[1m]', never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MetricQueryError);
      expect(err).toMatchObject({ code: 'AVIARY_METRIC_QUERY_INVALID', policy: 'failed-check' });
      expect((err as Error).message).toMatch(/rejected the query \(bad_data\): .*parse error/);
    });
  },
);

describe('the sequential judge in the runtime', () => {
  it('rolls a regression back at once, long before threshold failed checks', async () => {
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({ threshold: 10, stepWeight: 10, maxWeight: 50, judge: {} }),
    );
    await test.waitForPhase('Initialized');
    TrafficLoop.start(test.runtime.routerUrl, { pauseMs: 5 });

    test.deploy(catalogProcess('3', { FAIL_RATE: '0.5' }));
    await test.waitForPhase('Failed');

    // The judge's regression rolls back in the very tick that proves it: one failed check of ten.
    const detected = test.events('RegressionDetected');
    expect(detected, describeRollout(test)).toHaveLength(1);
    expect(detected[0]!.message).toMatch(/regression detected \(metric judge: regression: error rate/);
    expect(test.events('ThresholdReached')).toEqual([]);
    expect(test.events('OperatorAborted')).toEqual([]);
    const failedChecks = test.events('RegressionDetected');
    expect(failedChecks[0]!.evidence).toMatchObject({
      metrics: [
        { name: 'judge', passed: false, evidence: { decision: 'regression', errors: { regression: true } } },
      ],
    });
    // The run is forgotten (and its stored state removed) once the rollout has left the analysis.
    const stored = join(test.stateDir, 'judge', 'rollouts', `${APP}.json`);
    await waitFor('the judge state to be removed', () => (existsSync(stored) ? undefined : true));
  });
});
