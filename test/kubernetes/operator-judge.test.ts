/**
 * The operator's judge fed from Prometheus, end to end (issue 13, case b): the test's traffic
 * exporter plays the gateway's data plane — it reads the HTTPRoute's weights from the API
 * server and exposes Istio's request metrics, with 1 % errors on the primary and 10 % on the
 * canary — a real Prometheus scrapes it, and the operator's judge reads PromQL. The canary is
 * rolled back by the judge: weights 100/0, the target scaled to 0, and the Canary's status
 * and Events say why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { prometheusUnavailable, startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';
import { NS, OperatorFixture } from './operator-fixture.js';
import { TrafficExporter } from './traffic-exporter.js';

const unavailable = (await controlPlaneSkipReason()) ?? prometheusUnavailable();
const JOB = 'gateway';

describe.skipIf(unavailable !== undefined)('the operator judge on Prometheus', () => {
  const fixture = new OperatorFixture();
  let exporter: TrafficExporter | undefined;
  let prometheus: TestPrometheus | undefined;

  beforeAll(
    () =>
      fixture.start(
        { interval: '10s', threshold: 5, maxWeight: 50, stepWeight: 10, judge: {} },
        {},
        async ({ plane }) => {
          exporter = new TrafficExporter({
            rps: 100,
            seed: 7,
            route: { namespace: NS, name: 'podinfo' },
            kube: new KubeApi({ kubeconfig: plane.kubeconfig }),
            maxRunMs: 400_000,
          });
          exporter.setVersion('primary', { errorRate: 0.01, latencyMs: 20 });
          exporter.setVersion('canary', { errorRate: 0.1, latencyMs: 20 });
          const { target } = await exporter.start();
          prometheus = await startPrometheus(target, JOB, 'aviary_test_exporter_scrapes_total');
          return {
            prometheus: { address: prometheus.url, dataPlane: 'istio', scrapeTargets: `up{job="${JOB}"}` },
          };
        },
      ),
    180_000,
  );
  afterAll(async () => {
    await fixture.stop();
    await exporter?.close();
    await prometheus?.stop();
  }, 60_000);

  it('rolls back a canary with 10 % errors against 1 % on the judge’s evidence from PromQL', async () => {
    await fixture.phase('Initialized');
    const seen = await fixture.weightsDuring(async () => {
      await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:2']);
      await fixture.phase('Failed', 180_000);
    });
    expect(seen).toContain(10);
    expect(await fixture.weights()).toMatchObject({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
    expect(
      (await fixture.getJson<{ spec: { replicas: number } }>(['deployment', 'podinfo'])).spec.replicas,
    ).toBe(0);
    const status = await fixture.status();
    expect(status.judge?.decision).toBe('regression');
    const reasons = await fixture.eventReasons();
    expect(reasons, reasons.join(' ')).toContain('RegressionDetected');
    const detected = fixture.operator.controller
      .events('podinfo')
      .find((e) => e.reason === 'RegressionDetected');
    expect(detected?.message).toMatch(/regression detected \(metric judge: regression: error rate/);
  });
});
