/**
 * The operator's MetricTemplates and AlertProviders, end to end on the real test control
 * plane: a `MetricTemplate` querying a real Prometheus (which scrapes the traffic exporter:
 * 1 % errors on the primary, 10 % on the canary) is referenced by the Canary's only metric
 * with `thresholdRange.max: 5`; the canary is rolled back by that template's check, the
 * Canary's Events name the metric and its value, and a `webhook` AlertProvider pointing at a
 * loopback server in this test receives the rollback alert. An alert whose AlertProvider does
 * not exist is a Warning Event naming it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import type { GenericAlertPayload } from '../../src/notify/generic-notifier.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { pollFor } from '../support/poll.js';
import { prometheusUnavailable, startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';
import { NS, OperatorFixture } from './operator-fixture.js';
import { TrafficExporter } from './traffic-exporter.js';

const unavailable = (await controlPlaneSkipReason()) ?? prometheusUnavailable();
const JOB = 'gateway';

/** The canary's share of 5xx answers, in percent, over the metric's interval (Istio's series). */
const CANARY_ERROR_PERCENT = [
  '100 * sum(rate(istio_requests_total{destination_service_namespace="{{ namespace }}",',
  'destination_service_name="{{ target }}-canary",response_code=~"5.."}[{{ interval }}]))',
  ' / sum(rate(istio_requests_total{destination_service_namespace="{{ namespace }}",',
  'destination_service_name="{{ target }}-canary"}[{{ interval }}]))',
].join('');

/** A loopback receiver of the `webhook` provider's JSON bodies. */
async function startReceiver(): Promise<{ server: Server; url: string; bodies: GenericAlertPayload[] }> {
  const bodies: GenericAlertPayload[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as GenericAlertPayload);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, bodies };
}

describe.skipIf(unavailable !== undefined)('the operator’s MetricTemplates and AlertProviders', () => {
  const fixture = new OperatorFixture();
  let exporter: TrafficExporter | undefined;
  let prometheus: TestPrometheus | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

  beforeAll(async () => {
    receiver = await startReceiver();
    const alertsTo = receiver.url;
    await fixture.start(
      {
        interval: '10s',
        threshold: 2,
        maxWeight: 50,
        stepWeight: 10,
        judge: { enabled: false },
        metrics: [
          {
            name: 'canary-errors',
            templateRef: { name: 'error-percent' },
            thresholdRange: { max: 5 },
            interval: '15s',
          },
        ],
        alerts: [
          { name: 'on-call', severity: 'error', providerRef: { name: 'on-call-hook' } },
          { name: 'chat', providerRef: { name: 'no-such-provider' } },
        ],
      },
      {},
      async ({ plane }) => {
        exporter = new TrafficExporter({
          rps: 100,
          seed: 11,
          route: { namespace: NS, name: 'podinfo' },
          kube: new KubeApi({ kubeconfig: plane.kubeconfig }),
          maxRunMs: 400_000,
        });
        exporter.setVersion('primary', { errorRate: 0.01, latencyMs: 20 });
        exporter.setVersion('canary', { errorRate: 0.1, latencyMs: 20 });
        const { target } = await exporter.start();
        prometheus = await startPrometheus(target, JOB, 'aviary_test_exporter_scrapes_total');
        await fixture.apply({
          apiVersion: 'aviary.dev/v1alpha1',
          kind: 'MetricTemplate',
          metadata: { name: 'error-percent', namespace: NS },
          spec: { provider: { type: 'prometheus', address: prometheus.url }, query: CANARY_ERROR_PERCENT },
        });
        await fixture.apply({
          apiVersion: 'aviary.dev/v1alpha1',
          kind: 'AlertProvider',
          metadata: { name: 'on-call-hook', namespace: NS },
          spec: { type: 'webhook', address: alertsTo },
        });
        return {};
      },
    );
  }, 180_000);
  afterAll(async () => {
    await fixture.stop();
    await exporter?.close();
    await prometheus?.stop();
    await new Promise((resolve) => receiver?.server.close(resolve));
  }, 60_000);

  it('rolls back a canary with 10 % errors on the MetricTemplate’s check and alerts the AlertProvider', async () => {
    await fixture.phase('Initialized');
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:2']);
    await fixture.phase('Failed', 180_000);
    expect(await fixture.weights()).toMatchObject({ 'podinfo-primary': 100, 'podinfo-canary': 0 });

    const events = await fixture.getJson<{ items: { reason: string; message: string; type: string }[] }>([
      'events',
      '--field-selector',
      'involvedObject.name=podinfo,involvedObject.kind=Canary',
    ]);
    const failed = events.items.filter((e) => e.reason === 'ChecksFailed').map((e) => e.message);
    expect(failed.length, JSON.stringify(events.items)).toBeGreaterThanOrEqual(2);
    // The template's value, judged against its threshold: not a query failure.
    for (const message of failed)
      expect(message).toMatch(
        /^Halt podinfo advancement: metric canary-errors \d+(\.\d+)? > max 5 outside threshold$/,
      );
    expect(events.items.map((e) => e.reason)).toContain('ThresholdReached');
    const checked = fixture.operator.controller.events('podinfo').find((e) => e.reason === 'ChecksFailed');
    const evidence = JSON.stringify(checked?.evidence);
    expect(evidence).toContain(`prometheus ${new URL(prometheus!.url).origin}`);
    expect(evidence).toContain('destination_service_name=\\"podinfo-canary\\"');

    expect(events.items).toContainEqual(
      expect.objectContaining({
        reason: 'AlertProviderWarning',
        type: 'Warning',
        message: expect.stringMatching(
          /^AlertProvider default\/no-such-provider not found; create it, or correct the providerRef of alert "chat"/,
        ) as unknown,
      }),
    );

    const alert = await pollFor(
      'the rollback alert at the webhook AlertProvider',
      () => receiver!.bodies.find((body) => /threshold reached/.test(body.message)),
      () => `received: ${JSON.stringify(receiver!.bodies)}`,
      30_000,
    );
    expect(alert.app).toEqual({ name: 'podinfo', namespace: NS });
    expect(alert.severity).toBe('error');
    expect(alert.message).toBe('Failed checks threshold reached 2');
    expect(alert.fields).toContainEqual({ name: 'Failed checks', value: '2' });
    // severity: error: the info alerts of the rollout (new revision, steps) are not sent to it.
    expect(receiver!.bodies.every((body) => body.severity === 'error')).toBe(true);
  });
});
