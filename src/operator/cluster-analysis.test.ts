import { afterEach, describe, expect, it } from 'vitest';
import {
  answerJson,
  startFakePrometheus,
  vectorAnswer,
  type FakePrometheus,
} from '../../test/fakes/prometheus-fake-api.js';
import { analysisWith, appOf, evaluate, NS, object } from './cluster-analysis-test-support.js';

let prometheus: FakePrometheus | undefined;
afterEach(async () => {
  await prometheus?.close();
  prometheus = undefined;
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

  it('renders Flagger’s variables for a Canary: name is the Canary’s, target the targetRef’s, service the apex Service’s', async () => {
    // Before, target and service were the Canary's name: right only when all three agree.
    const { address, requests } = await prometheusAnswering('1');
    const query = 'q{name="{{ name }}",target="{{ target }}",service="{{ service }}",ns="{{ namespace }}"}';
    const { analysis } = analysisWith({
      templates: [object('MetricTemplate', NS, 'q', { provider: { type: 'prometheus', address }, query })],
    });
    const app = appOf(
      { metrics: [{ name: 'q', templateRef: { name: 'q' }, thresholdRange: { max: 5 } }] },
      { canary: 'web-release', service: { name: 'frontend' } },
    );
    await evaluate(analysis, app);
    expect(requests.map((r) => r.query)).toEqual([
      'q{name="web-release",target="podinfo",service="frontend",ns="shop"}',
    ]);
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
