import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAviaryConfig, type AviaryConfig } from '../../config/app-schema.js';
import { appWithMetrics } from '../../config/app-schema-test-support.js';
import { metricsVerdict } from '../step/check-verdicts.js';
import type { MetricResult } from '../step/observations.js';
import { observations } from '../../../test/support/rollout-scenario.js';
import { TemplateEvaluator } from './metric-template-evaluator.js';
import {
  answerJson,
  startFakePrometheus,
  vectorAnswer,
  type FakeApiRequest,
  type FakePrometheus,
} from '../../../test/fakes/prometheus-fake-api.js';

let fake: FakePrometheus | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const never = new AbortController().signal;

interface Setup {
  readonly address?: string;
  readonly metric?: Record<string, unknown>;
  readonly metricsServer?: boolean;
  readonly secretRef?: boolean;
}

function configFor(address: string, setup: Setup = {}): AviaryConfig {
  const metric = setup.metric ?? {
    name: 'success',
    templateRef: { name: 'success-rate' },
    templateVariables: { version: 'canary' },
    thresholdRange: { min: 99 },
    interval: '30s',
  };
  const result = parseAviaryConfig(
    appWithMetrics([metric], {
      ...(setup.metricsServer ? { metricsServer: address } : {}),
      metricTemplates: [
        {
          name: 'success-rate',
          provider: {
            type: 'prometheus',
            address,
            ...(setup.secretRef ? { secretRef: { name: 'prom-auth' } } : {}),
          },
          query: 'rate_of("{{ name }}", "{{ namespace }}", "{{ variables.version }}")[{{ interval }}]',
        },
      ],
    }),
  );
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

/** Starts a fake Prometheus and an evaluator reading a config that points at it. */
async function evaluatorWith(
  answer: (request: FakeApiRequest, res: ServerResponse) => void,
  setup: Setup = {},
): Promise<{ evaluator: TemplateEvaluator; config: AviaryConfig }> {
  fake = await startFakePrometheus(answer);
  const config = configFor(setup.address ?? fake.address, setup);
  return { evaluator: new TemplateEvaluator({ config: () => config }), config };
}

async function evaluateFirst(evaluator: TemplateEvaluator, config: AviaryConfig): Promise<MetricResult> {
  const app = config.apps[0]!;
  const result = await evaluator.evaluate(app, app.canary.analysis.metrics[0]!, 0, never);
  if (result === undefined) throw new Error('expected the evaluator to answer');
  return result;
}

function verdictOf(config: AviaryConfig, result: MetricResult) {
  return metricsVerdict(
    config.apps[0]!.canary.analysis,
    observations({ checks: { webhooks: [], metrics: [result] } }),
  );
}

describe('TemplateEvaluator: templateRef metrics', () => {
  it("renders the template for the app and judges the value against the metric's range", async () => {
    const { evaluator, config } = await evaluatorWith((_req, res) =>
      answerJson(res, 200, vectorAnswer('97.5')),
    );
    const result = await evaluateFirst(evaluator, config);
    const query = 'rate_of("catalogdetail", "default", "canary")[30s]';
    expect(fake?.requests[0]?.query).toBe(query);
    expect(result).toEqual({
      name: 'success',
      value: 97.5,
      passed: false,
      detail: '97.50 < min 99',
      evidence: { provider: `prometheus ${fake!.address}/`, query },
    });
    expect(verdictOf(config, result)).toEqual({
      kind: 'fail',
      message: 'metric success 97.50 < min 99 outside threshold',
    });
  });

  it('no values and NaN follow the no-data policy: a hold, or a failed check with failOnNoData', async () => {
    const answers = [vectorAnswer(), vectorAnswer('NaN')];
    const { evaluator, config } = await evaluatorWith((_req, res) => answerJson(res, 200, answers.shift()));
    for (const expected of ['no values found for', 'value is NaN']) {
      const result = await evaluateFirst(evaluator, config);
      expect(result).toMatchObject({ value: null, passed: false, detail: expect.stringContaining(expected) });
      expect(result.error).toBeUndefined();
      expect(verdictOf(config, result).kind).toBe('hold');
      const strict = configFor(fake!.address);
      const metric = { ...strict.apps[0]!.canary.analysis.metrics[0]!, failOnNoData: true };
      const analysis = { ...strict.apps[0]!.canary.analysis, metrics: [metric] };
      const checks = observations({ checks: { webhooks: [], metrics: [result] } });
      expect(metricsVerdict(analysis, checks).kind).toBe('fail');
    }
  });

  it('several series, a bad query and an unreachable provider are failed checks with their reason', async () => {
    const answers: ((res: ServerResponse) => void)[] = [
      (res) => answerJson(res, 200, vectorAnswer('1', '2')),
      (res) =>
        answerJson(res, 400, {
          status: 'error',
          errorType: 'bad_data',
          error: 'parse error: unexpected "}"',
        }),
    ];
    const { evaluator, config } = await evaluatorWith((_req, res) => answers.shift()!(res));
    const several = await evaluateFirst(evaluator, config);
    expect(verdictOf(config, several)).toEqual({
      kind: 'fail',
      message: expect.stringContaining('metric success query failed: query returned 2 series, expected 1'),
    });
    const bad = await evaluateFirst(evaluator, config);
    expect(verdictOf(config, bad)).toEqual({
      kind: 'fail',
      message: expect.stringContaining('rejected the query (bad_data): parse error: unexpected "}"'),
    });
    await fake!.close();
    const unreachable = await evaluateFirst(evaluator, config);
    expect(unreachable.error).toMatch(/^provider unreachable: prometheus http:\/\/127\.0\.0\.1:\d+\/ /);
    expect(verdictOf(config, unreachable).kind).toBe('fail');
  });

  it('rejects when the tick is cancelled instead of reporting a failed check', async () => {
    const { evaluator, config } = await evaluatorWith(() => undefined);
    const controller = new AbortController();
    const app = config.apps[0]!;
    const pending = evaluator.evaluate(app, app.canary.analysis.metrics[0]!, 0, controller.signal);
    await expect.poll(() => fake?.requests.length).toBe(1);
    controller.abort(new Error('controller stopped'));
    await expect(pending).rejects.toThrow('controller stopped');
  });
});

describe('TemplateEvaluator: built-in checks through metricsServer', () => {
  const builtin = { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' };

  it('runs the built-in PromQL and the request count, so minRequests still applies', async () => {
    const { evaluator, config } = await evaluatorWith(
      (req, res) =>
        answerJson(res, 200, vectorAnswer(req.query?.startsWith('sum(increase') ? '239.6' : '99.6')),
      { metric: builtin, metricsServer: true },
    );
    const result = await evaluateFirst(evaluator, config);
    expect(result).toMatchObject({
      name: 'request-success-rate',
      value: 99.6,
      sampleSize: 240,
      passed: true,
    });
    const queries = fake!.requests.map((r) => r.query);
    expect(queries).toContain(
      '100 * sum(rate(aviary_proxy_requests_total{service="catalogdetail",version="canary",code!~"5.."}[1m])) / sum(rate(aviary_proxy_requests_total{service="catalogdetail",version="canary"}[1m]))',
    );
    expect(queries).toContain(
      'sum(increase(aviary_proxy_requests_total{service="catalogdetail",version="canary"}[1m]))',
    );
  });

  it('no canary traffic yet (NaN, no series) is a hold with sample size 0', async () => {
    const { evaluator, config } = await evaluatorWith(
      (req, res) =>
        answerJson(res, 200, req.query?.startsWith('sum(increase') ? vectorAnswer() : vectorAnswer('NaN')),
      { metric: builtin, metricsServer: true },
    );
    const result = await evaluateFirst(evaluator, config);
    expect(result).toMatchObject({ value: null, sampleSize: 0, passed: false });
    expect(verdictOf(config, result)).toEqual({
      kind: 'hold',
      message: 'metric request-success-rate: 0 requests, 10 needed',
    });
  });

  it('leaves built-ins to the in-process observer without metricsServer', async () => {
    const { evaluator, config } = await evaluatorWith(() => undefined, { metric: builtin });
    const app = config.apps[0]!;
    expect(await evaluator.evaluate(app, app.canary.analysis.metrics[0]!, 0, never)).toBeUndefined();
    expect(fake!.requests).toHaveLength(0);
  });
});

describe('TemplateEvaluator.checkProviders (at rollout start)', () => {
  it('says nothing when every provider is ready', async () => {
    const { evaluator, config } = await evaluatorWith((_req, res) => res.writeHead(200).end());
    expect(await evaluator.checkProviders(config.apps[0]!, never)).toEqual([]);
    expect(fake!.requests.map((r) => r.path)).toEqual(['/-/ready']);
  });

  it('names an offline provider and the metrics that depend on it', async () => {
    const { evaluator, config } = await evaluatorWith((_req, res) => res.writeHead(503).end());
    expect(await evaluator.checkProviders(config.apps[0]!, never)).toEqual([
      {
        reason: 'MetricProviderOffline',
        severity: 'warning',
        message: `Metric provider prometheus ${fake!.address}/ of catalogdetail is offline (metrics success); their checks fail until it answers`,
      },
    ]);
  });

  it('reports an ignored secretRef of a template the app uses, with its path', async () => {
    const { evaluator, config } = await evaluatorWith((_req, res) => res.writeHead(200).end(), {
      secretRef: true,
    });
    expect(await evaluator.checkProviders(config.apps[0]!, never)).toEqual([
      {
        reason: 'MetricTemplateWarning',
        severity: 'info',
        message: expect.stringMatching(/^metricTemplates\[0\]\.provider\.secretRef: not supported/),
      },
    ]);
  });
});
