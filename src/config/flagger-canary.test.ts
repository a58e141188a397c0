import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { appSchema } from './app-schema.js';
import { ConfigError } from './config-error.js';
import { loadFlaggerCanary } from './flagger-canary.js';

const SEED = parseYaml(
  readFileSync(new URL('../../test/fixtures/flagger-canary-seed.yaml', import.meta.url), 'utf8'),
) as Record<string, unknown>;

type Doc = Record<string, unknown>;

function withSpec(patch: (spec: Doc) => void): Doc {
  const doc = structuredClone(SEED);
  patch(doc.spec as Doc);
  return doc;
}

function issuesOf(document: unknown, options = {}): { path: string; message: string }[] {
  try {
    loadFlaggerCanary(document, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected the document to be rejected');
}

describe('loadFlaggerCanary: an App Mesh Canary (test/fixtures/flagger-canary-seed.yaml)', () => {
  const loaded = loadFlaggerCanary(SEED);

  it('names the app after targetRef and reads the analysis as Flagger does', () => {
    expect(loaded.appName).toBe('webapp');
    expect(loaded.canary.progressDeadlineSeconds).toBe(60);
    const a = loaded.canary.analysis;
    expect({
      interval: a.interval,
      threshold: a.threshold,
      maxWeight: a.maxWeight,
      stepWeight: a.stepWeight,
    }).toEqual({
      interval: 60_000,
      threshold: 5,
      maxWeight: 50,
      stepWeight: 10,
    });
    // Flagger's two checks, then the judge's, on by default for a weighted canary.
    expect(a.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'request-duration', 'judge']);
    expect(a.metrics[0]).toMatchObject({
      name: 'request-success-rate',
      thresholdRange: { min: 99 },
      interval: 60_000,
    });
    expect(a.metrics[1]).toMatchObject({
      name: 'request-duration',
      thresholdRange: { max: 500 },
      interval: 30_000,
    });
  });

  it('reads the service block: timeout, retries, match and rewrite', () => {
    const service = loaded.canary.service;
    expect(service.timeout).toBe(15_000);
    expect(service.retries).toEqual({
      attempts: 3,
      perTryTimeout: 5_000,
      retryOn: ['gateway-error', 'client-error', 'stream-error'],
    });
    expect(service.match).toEqual([{ uri: { prefix: '/' } }]);
    expect(service.rewrite).toEqual({ uri: '/' });
  });

  it('reads service.appProtocol (grpc: the router speaks HTTP/2 to the versions), and names a value it cannot use', () => {
    const grpc = loadFlaggerCanary(withSpec((spec) => ((spec.service as Doc).appProtocol = 'grpc')));
    expect(grpc.canary.service.appProtocol).toBe('grpc');
    expect(grpc.ignored.map((field) => field.path)).not.toContain('spec.service.appProtocol');
    const issues = issuesOf(withSpec((spec) => ((spec.service as Doc).appProtocol = 'tcp')));
    expect(issues.map((issue) => issue.path)).toContain('spec.service.appProtocol');
  });

  it('lists every field it leaves out, with a reason', () => {
    expect(loaded.ignored.map((field) => field.path)).toEqual([
      'metadata.namespace',
      'spec.provider',
      'spec.targetRef.apiVersion',
      'spec.targetRef.kind',
      'spec.service.port',
      'spec.service.targetPort',
    ]);
    for (const field of loaded.ignored) expect(field.reason).not.toBe('');
  });

  it('reads the Canary as apps[].canary reads the same spec in aviary.yaml', () => {
    const { analysis, progressDeadlineSeconds } = SEED.spec as Doc;
    const app = appSchema.parse({
      name: 'webapp',
      path: '/',
      process: { command: 'node' },
      canary: { analysis, progressDeadlineSeconds },
    });
    // spec.service keeps Kubernetes-only fields (port, targetPort) that the loader reports as ignored.
    expect(app.canary.analysis).toEqual(loaded.canary.analysis);
    expect(app.canary.progressDeadlineSeconds).toBe(loaded.canary.progressDeadlineSeconds);
  });
});

describe('loadFlaggerCanary: other documents', () => {
  it('reports Kubernetes-only fields as ignored instead of failing', () => {
    const doc = withSpec((spec) => {
      spec.autoscalerRef = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'webapp' };
      (spec.service as Doc).gateways = ['public-gateway.istio-system.svc.cluster.local'];
      (spec.service as Doc).corsPolicy = { allowOrigins: [{ exact: 'https://example.com' }] };
    });
    doc.metadata = { name: 'webapp-canary', namespace: 'prod', labels: { team: 'shop' } };
    const paths = loadFlaggerCanary(doc).ignored.map((field) => field.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'spec.autoscalerRef',
        'spec.service.gateways',
        'spec.service.corsPolicy',
        'metadata.labels',
        'metadata.name',
      ]),
    );
  });

  it('reads A/B match rules and webhooks with Flagger names', () => {
    const doc = withSpec((spec) => {
      spec.analysis = {
        interval: '1m',
        threshold: 2,
        iterations: 10,
        match: [
          { headers: { 'x-canary': { exact: 'insider' } } },
          { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } },
        ],
        webhooks: [
          { name: 'gate', type: 'confirm-rollout', url: 'http://flagger-loadtester.test/gate/check' },
          {
            name: 'load',
            url: 'http://flagger-loadtester.test/',
            timeout: '5s',
            metadata: { cmd: 'hey -z 1m -q 10 http://webapp/' },
          },
        ],
      };
    });
    const { canary } = loadFlaggerCanary(doc);
    expect(canary.analysis.iterations).toBe(10);
    expect(canary.analysis.match[1]!.headers!.cookie!.regex).toBe('^(.*?;)?(canary=always)(;.*)?$');
    expect(canary.analysis.webhooks.map((w) => [w.type, w.timeout])).toEqual([
      ['confirm-rollout', 10_000],
      ['rollout', 5_000],
    ]);
  });

  it.each([
    [
      'an unknown analysis field',
      withSpec((spec) => ((spec.analysis as Doc).stepweight = 5)),
      'spec.analysis.stepweight',
    ],
    [
      'the judge asked for with session affinity (it cannot be valid there, ADR 0016)',
      withSpec((spec) => {
        const analysis = spec.analysis as Doc;
        analysis.judge = {};
        analysis.sessionAffinity = { cookieName: 'user' };
      }),
      'spec.analysis.judge',
    ],
    ['a wrong apiVersion', { ...SEED, apiVersion: 'flagger.app/v1alpha3' }, 'apiVersion'],
    ['a wrong kind', { ...SEED, kind: 'MetricTemplate' }, 'kind'],
    [
      'no targetRef name',
      withSpec((spec) => (spec.targetRef = { kind: 'Deployment' })),
      'spec.targetRef.name',
    ],
    [
      'an interval under 10s',
      withSpec((spec) => ((spec.analysis as Doc).interval = '5s')),
      'spec.analysis.interval',
    ],
    [
      'a bad threshold range',
      withSpec(
        (spec) =>
          ((spec.analysis as Doc).metrics = [{ name: 'request-duration', thresholdRange: { max: 'slow' } }]),
      ),
      'spec.analysis.metrics[0].thresholdRange.max',
    ],
    ['an unknown top-level field', { ...SEED, specs: {} }, 'specs'],
  ])('rejects %s at its path', (_name, document, path) => {
    expect(issuesOf(document).map((issue) => issue.path)).toEqual([path]);
  });

  it('accepts short intervals when the caller lowers the minimum', () => {
    const doc = withSpec((spec) => ((spec.analysis as Doc).interval = '2s'));
    expect(loadFlaggerCanary(doc, { minAnalysisIntervalMs: 1000 }).canary.analysis.interval).toBe(2000);
  });

  it('names the document in the error', () => {
    expect(() => loadFlaggerCanary('not a canary', { source: 'canary.yaml' })).toThrow(
      /^canary\.yaml is invalid/,
    );
  });
});
