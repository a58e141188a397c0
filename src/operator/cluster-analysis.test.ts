import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppSpec } from '../config/app-schema.js';
import type { AlertEvent } from '../notify/alert-types.js';
import {
  answerJson,
  startFakePrometheus,
  vectorAnswer,
  type FakePrometheus,
} from '../../test/fakes/prometheus-fake-api.js';
import { canaryApp } from './canary-app.js';
import { ClusterAnalysis, type AnalysisObjectSource } from './cluster-analysis.js';
import type { AnalysisObject } from './cluster-objects.js';

const NS = 'shop';
const never = new AbortController().signal;

/** Objects held in memory, as a synced cache answers. */
class ObjectsInMemory implements AnalysisObjectSource {
  constructor(readonly objects: AnalysisObject[] = []) {}
  get(name: string, namespace?: string): AnalysisObject | undefined {
    return this.objects.find((o) => o.metadata?.name === name && o.metadata.namespace === namespace);
  }
  list(namespace?: string): AnalysisObject[] {
    return this.objects.filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }
}

let version = 0;
function object(
  kind: string,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): AnalysisObject {
  version += 1;
  return {
    apiVersion: 'aviary.dev/v1alpha1',
    kind,
    metadata: { name, namespace, resourceVersion: String(version) },
    spec,
  };
}

/** The app the operator reads from a Canary `podinfo` in `shop` with these metrics and alerts. */
function appOf(analysis: Record<string, unknown>): AppSpec {
  const target: V1Deployment = {
    metadata: { name: 'podinfo', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'podinfo' } },
      template: { metadata: { labels: { app: 'podinfo' } }, spec: { containers: [] } },
    },
  };
  return canaryApp(
    {
      metadata: { name: 'podinfo', namespace: NS, uid: 'u1' },
      spec: {
        targetRef: { kind: 'Deployment', name: 'podinfo' },
        service: { port: 9898, gatewayRefs: [{ name: 'edge' }] },
        analysis: {
          interval: '10s',
          threshold: 2,
          maxWeight: 50,
          stepWeight: 10,
          judge: { enabled: false },
          ...analysis,
        },
      },
    },
    target,
  ).app;
}

interface Setup {
  readonly templates?: AnalysisObject[];
  readonly providers?: AnalysisObject[];
}

function analysisWith(setup: Setup) {
  const warnings: string[] = [];
  const analysis = new ClusterAnalysis({
    templates: new ObjectsInMemory(setup.templates),
    providers: new ObjectsInMemory(setup.providers),
    namespace: NS,
    warn: (app, reason, message) => warnings.push(`${app} ${reason} ${message}`),
    notifierOptions: { retries: 0 },
  });
  return { analysis, warnings };
}

async function evaluate(analysis: ClusterAnalysis, app: AppSpec, index = 0) {
  return analysis.evaluate(app, app.canary.analysis.metrics[index]!, Date.now(), never);
}

let prometheus: FakePrometheus | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await prometheus?.close();
  prometheus = undefined;
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

/** A fake Prometheus answering `value` to every query. */
async function prometheusAnswering(value: string): Promise<FakePrometheus> {
  prometheus = await startFakePrometheus((_request, res) => answerJson(res, 200, vectorAnswer(value)));
  return prometheus;
}

const errorRate = (address: string, extra: Record<string, unknown> = {}) => ({
  provider: { type: 'prometheus', address, ...extra },
  query: 'errors{namespace="{{ namespace }}",app="{{ target }}"}',
});

describe('ClusterAnalysis: templateRef metrics', () => {
  it('defaults templateRef.namespace to the Canary’s, renders the query for it, and judges the threshold', async () => {
    const { address, requests } = await prometheusAnswering('7');
    const { analysis, warnings } = analysisWith({
      templates: [
        object('MetricTemplate', 'other', 'errors', errorRate('http://127.0.0.1:9')),
        object('MetricTemplate', NS, 'errors', errorRate(address)),
      ],
    });
    const app = appOf({
      metrics: [{ name: 'errors', templateRef: { name: 'errors' }, thresholdRange: { max: 5 } }],
    });
    const result = await evaluate(analysis, app);
    expect(result).toMatchObject({ name: 'errors', value: 7, passed: false, detail: '7 > max 5' });
    expect(requests.map((r) => r.query)).toEqual(['errors{namespace="shop",app="podinfo"}']);
    expect(warnings).toEqual([]);
  });

  it('reads a template in the namespace the templateRef names', async () => {
    const { address } = await prometheusAnswering('1');
    const { analysis } = analysisWith({
      templates: [
        object('MetricTemplate', NS, 'errors', errorRate('http://127.0.0.1:9')),
        object('MetricTemplate', 'monitoring', 'errors', errorRate(address)),
      ],
    });
    const app = appOf({
      metrics: [
        {
          name: 'errors',
          templateRef: { name: 'errors', namespace: 'monitoring' },
          thresholdRange: { max: 5 },
        },
      ],
    });
    expect(await evaluate(analysis, app)).toMatchObject({ value: 1, passed: true });
  });

  it('fails the check of a metric whose template is missing, naming the object, and warns once', async () => {
    const { analysis, warnings } = analysisWith({
      templates: [object('MetricTemplate', 'monitoring', 'errors', errorRate('http://127.0.0.1:9'))],
    });
    const app = appOf({
      metrics: [{ name: 'errors', templateRef: { name: 'errors' }, thresholdRange: { max: 5 } }],
    });
    const message =
      'MetricTemplate shop/errors not found; create it, or correct the templateRef of metric "errors"';
    expect(await evaluate(analysis, app)).toEqual({
      name: 'errors',
      value: null,
      passed: false,
      error: message,
    });
    await evaluate(analysis, app);
    expect(warnings).toEqual([`podinfo MetricTemplateWarning ${message}`]);
  });

  it('fails only the metric whose template is invalid; the other metric of the Canary still runs', async () => {
    const { address } = await prometheusAnswering('1');
    const { analysis, warnings } = analysisWith({
      templates: [
        object('MetricTemplate', NS, 'foo', errorRate('prometheus:9090')),
        object('MetricTemplate', NS, 'errors', errorRate(address)),
      ],
    });
    const app = appOf({
      metrics: [
        { name: 'bad', templateRef: { name: 'foo' }, thresholdRange: { max: 5 } },
        { name: 'errors', templateRef: { name: 'errors' }, thresholdRange: { max: 5 } },
      ],
    });
    const error = 'MetricTemplate shop/foo: spec.provider.address: expected an http(s) URL';
    expect(await evaluate(analysis, app, 0)).toEqual({ name: 'bad', value: null, passed: false, error });
    expect(await evaluate(analysis, app, 1)).toMatchObject({ name: 'errors', value: 1, passed: true });
    expect(warnings).toEqual([`podinfo MetricTemplateWarning ${error}`]);
  });

  it('runs a template with secretRef without credentials, warns why, and names it when the query is refused', async () => {
    prometheus = await startFakePrometheus((_request, res) =>
      answerJson(res, 401, { status: 'error', errorType: 'unauthorized', error: 'unauthorized' }),
    );
    const { analysis, warnings } = analysisWith({
      templates: [
        object(
          'MetricTemplate',
          NS,
          'errors',
          errorRate(prometheus.address, { secretRef: { name: 'prom-auth' } }),
        ),
      ],
    });
    const app = appOf({
      metrics: [{ name: 'errors', templateRef: { name: 'errors' }, thresholdRange: { max: 5 } }],
    });
    const result = await evaluate(analysis, app);
    expect(prometheus.requests[0]?.headers.authorization).toBeUndefined();
    expect(result?.error).toMatch(
      /\(MetricTemplate shop\/errors: spec\.provider\.secretRef: ignored \(Secret "prom-auth" is not read/,
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^podinfo MetricTemplateWarning MetricTemplate shop\/errors: spec\.provider\.secretRef: ignored/,
    );
  });

  it('leaves metrics without templateRef to the other evaluators', async () => {
    const { analysis } = analysisWith({});
    const app = appOf({ metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }] });
    expect(await evaluate(analysis, app)).toBeUndefined();
  });
});

/** A loopback receiver answering `status`; resolves each body it receives into `bodies`. */
async function startReceiver(status: number): Promise<{ address: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  return { address: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, bodies };
}

const rollback: AlertEvent = {
  app: { name: 'podinfo', namespace: NS },
  severity: 'error',
  message: 'Canary podinfo rolled back',
  fields: [],
};

describe('ClusterAnalysis: alerts', () => {
  it('sends to the AlertProvider in the Canary’s namespace; a missing one is warned about and skipped', async () => {
    const { address, bodies } = await startReceiver(200);
    const { analysis, warnings } = analysisWith({
      providers: [object('AlertProvider', NS, 'hook', { type: 'webhook', address })],
    });
    const app = appOf({
      alerts: [
        { name: 'on-call', severity: 'info', providerRef: { name: 'hook' } },
        { name: 'chat', severity: 'info', providerRef: { name: 'slack', namespace: 'ops' } },
      ],
    });
    const deliveries = await analysis.alerts(app)?.dispatch(rollback);
    expect(deliveries?.map((d) => [d.alert, d.outcome])).toEqual([['on-call', 'sent']]);
    expect(bodies).toMatchObject([
      { app: { name: 'podinfo', namespace: NS }, message: 'Canary podinfo rolled back' },
    ]);
    expect(warnings).toEqual([
      'podinfo AlertProviderWarning AlertProvider ops/slack not found; create it, or correct the providerRef of alert "chat" (alert "chat" is not sent)',
    ]);
  });

  it('names an invalid provider and reports a delivery that failed', async () => {
    const { address } = await startReceiver(500);
    const { analysis, warnings } = analysisWith({
      providers: [
        object('AlertProvider', NS, 'bad', { type: 'webhook', address: 'hooks.example.com' }),
        object('AlertProvider', NS, 'down', { type: 'webhook', address }),
      ],
    });
    const app = appOf({
      alerts: [
        { name: 'a', providerRef: { name: 'bad' } },
        { name: 'b', providerRef: { name: 'down' } },
      ],
    });
    await analysis.alerts(app)?.dispatch(rollback);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toBe(
      'podinfo AlertProviderWarning AlertProvider shop/bad: spec.address: expected an http(s) URL (alert "a" is not sent)',
    );
    expect(warnings[1]).toMatch(
      /^podinfo AlertProviderWarning AlertProvider shop\/down: alert "b" not delivered: .*500/,
    );
  });

  it('has no alerts for a Canary without analysis.alerts', () => {
    expect(analysisWith({}).analysis.alerts(appOf({}))).toBeUndefined();
  });
});
