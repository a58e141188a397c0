import { describe, expect, it } from 'vitest';
import { config, withAnalysis, VALID_APP } from './app-schema-test-support.js';
import { parseAviaryConfig } from './app-schema.js';

const BAD_SPECS: readonly (readonly [string, Record<string, unknown>, string, RegExp])[] = [
  [
    'wrong apiVersion',
    { ...config(), apiVersion: 'flagger.app/v1beta1' },
    'apiVersion',
    /expected one of "aviary\.dev\/v1alpha1"/,
  ],
  ['unknown top-level field', { ...config(), routers: {} }, 'routers', /unknown field/],
  ['no apps', { ...config(), apps: [] }, 'apps', /at least 1/],
  [
    'api on the router port',
    config({}, { router: { port: 9000 }, api: { port: 9000 } }),
    'api.port',
    /used by the router/,
  ],
  ['upper-case app name', config({ name: 'CatalogDetail' }), 'apps[0].name', /lower-case name/],
  ['app without hosts or path', config({ path: undefined }), 'apps[0]', /hosts and\/or path/],
  [
    'PORT in env',
    config({ process: { command: 'node', env: { PORT: '3000' } } }),
    'apps[0].process.env.PORT',
    /reserved/,
  ],
  [
    'zero replicas',
    config({ process: { command: 'node', replicas: 0 } }),
    'apps[0].process.replicas',
    />= 1/,
  ],
  [
    'probe period given twice',
    config({
      process: {
        command: 'node',
        readinessProbe: { httpGet: { path: '/ping' }, interval: '1s', periodSeconds: 1 },
      },
    }),
    'apps[0].process.readinessProbe.periodSeconds',
    /not both/,
  ],
  [
    'stepWeight above 100',
    withAnalysis({ stepWeight: 150 }),
    'apps[0].canary.analysis.stepWeight',
    /<= 100, got 150/,
  ],
  [
    'stepWeights not ascending',
    withAnalysis({ stepWeight: undefined, maxWeight: undefined, stepWeights: [10, 40, 30] }),
    'apps[0].canary.analysis.stepWeights[2]',
    /ascending order, got 30 after 40/,
  ],
  ['maxWeight above 100', withAnalysis({ maxWeight: 120 }), 'apps[0].canary.analysis.maxWeight', /<= 100/],
  [
    'maxWeight disagreeing with stepWeights',
    withAnalysis({ stepWeight: undefined, stepWeights: [10, 20] }),
    'apps[0].canary.analysis.maxWeight',
    /last stepWeights entry \(20\)/,
  ],
  ['threshold 0', withAnalysis({ threshold: 0 }), 'apps[0].canary.analysis.threshold', />= 1/],
  [
    'interval that is no duration',
    withAnalysis({ interval: 'soon' }),
    'apps[0].canary.analysis.interval',
    /expected a duration/,
  ],
  [
    'interval under 10s',
    withAnalysis({ interval: '2s' }),
    'apps[0].canary.analysis.interval',
    /at least 10s, got 2s; set minAnalysisInterval/,
  ],
  [
    'unknown webhook type',
    withAnalysis({ webhooks: [{ name: 'gate', type: 'pre-rollut', url: 'http://127.0.0.1:1/' }] }),
    'apps[0].canary.analysis.webhooks[0].type',
    /expected one of "confirm-rollout", "pre-rollout", "rollout", .*"event", got "pre-rollut"/,
  ],
  [
    'webhook URL that is not http',
    withAnalysis({ webhooks: [{ name: 'gate', url: 'ftp://example.com/' }] }),
    'apps[0].canary.analysis.webhooks[0].url',
    /expected an http\(s\) URL or aviary:gate/,
  ],
  [
    'a built-in gate URL on a hook type without a gate',
    withAnalysis({ webhooks: [{ name: 'gate', type: 'rollout', url: 'aviary:gate' }] }),
    'apps[0].canary.analysis.webhooks[0].url',
    /aviary:gate works only on confirm-rollout, confirm-traffic-increase, confirm-promotion, rollback hooks/,
  ],
  [
    'an unknown built-in gate URL',
    withAnalysis({ webhooks: [{ name: 'gate', type: 'confirm-promotion', url: 'aviary:gates' }] }),
    'apps[0].canary.analysis.webhooks[0].url',
    /unknown built-in gate URL "aviary:gates"/,
  ],
  [
    'a webhook timeout of zero',
    withAnalysis({ webhooks: [{ name: 'gate', url: 'http://127.0.0.1:1/', timeout: '0s' }] }),
    'apps[0].canary.analysis.webhooks[0].timeout',
    /expected a positive duration/,
  ],
  [
    'duplicate webhook names',
    withAnalysis({
      webhooks: [
        { name: 'a', url: 'http://127.0.0.1:1/' },
        { name: 'a', url: 'http://127.0.0.1:2/' },
      ],
    }),
    'apps[0].canary.analysis.webhooks[1].name',
    /duplicate name "a"/,
  ],
  [
    'threshold that is not a number',
    withAnalysis({
      metrics: [
        VALID_APP.canary.analysis.metrics[0],
        { name: 'request-duration', thresholdRange: { min: 'high' } },
      ],
    }),
    'apps[0].canary.analysis.metrics[1].thresholdRange.min',
    /expected a number, got "high"/,
  ],
  [
    'unknown built-in metric',
    withAnalysis({ metrics: [{ name: 'error-rate', thresholdRange: { max: 1 } }] }),
    'apps[0].canary.analysis.metrics[0].name',
    /unknown built-in metric "error-rate"; expected one of request-success-rate, request-duration, or set templateRef/,
  ],
  [
    'alert severity Flagger does not know',
    withAnalysis({ alerts: [{ name: 'on-call', severity: 'critical', providerRef: { name: 'slack' } }] }),
    'apps[0].canary.analysis.alerts[0].severity',
    /expected one of "info", "warn", "error"/,
  ],
  [
    'unknown retry event',
    config({
      canary: { ...VALID_APP.canary, service: { retries: { attempts: 3, retryOn: 'gateway-error,teapot' } } },
    }),
    'apps[0].canary.service.retries.retryOn',
    /unknown retry event "teapot"/,
  ],
  [
    'A/B match without iterations',
    withAnalysis({ match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }),
    'apps[0].canary.analysis.match',
    /needs iterations/,
  ],
  [
    'header match with two kinds',
    withAnalysis({
      iterations: 10,
      match: [{ headers: { 'x-canary': { exact: 'insider', prefix: 'in' } } }],
    }),
    'apps[0].canary.analysis.match[0].headers.x-canary',
    /only one of exact, prefix, suffix, regex/,
  ],
  [
    'weighted canary without steps',
    withAnalysis({ stepWeight: undefined }),
    'apps[0].canary.analysis.stepWeight',
    /expected stepWeight or stepWeights/,
  ],
  [
    'misspelt analysis field',
    withAnalysis({ stepweight: 5 }),
    'apps[0].canary.analysis.stepweight',
    /unknown field/,
  ],
  [
    'mirrorWeight above 100',
    withAnalysis({ iterations: 5, mirror: true, mirrorWeight: 101 }),
    'apps[0].canary.analysis.mirrorWeight',
    /<= 100/,
  ],
  [
    'session cookie max age 0',
    withAnalysis({ sessionAffinity: { cookieName: 'canary', maxAge: 0 } }),
    'apps[0].canary.analysis.sessionAffinity.maxAge',
    />= 1/,
  ],
];

describe('aviary.yaml schema: bad documents', () => {
  it('has at least 15 cases', () => {
    expect(BAD_SPECS.length).toBeGreaterThanOrEqual(15);
  });

  it.each(BAD_SPECS)('rejects %s at its path', (_name, document, path, message) => {
    const result = parseAviaryConfig(document);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.path)).toEqual([path]);
    expect(result.issues[0]!.message).toMatch(message);
  });

  it('reports every independent error at once, cross-field checks included', () => {
    const document = {
      ...config({}, { router: { port: 9000 }, api: { port: 9000 } }),
      apps: [
        { ...VALID_APP, canary: { analysis: { ...VALID_APP.canary.analysis, threshold: 'high' } } },
        { ...VALID_APP, process: { command: 'node', replicas: 'two' } },
        { ...VALID_APP, name: 'frontend', path: '/other' },
        {
          ...VALID_APP,
          name: 'alerts',
          path: '/alerts',
          canary: {
            analysis: {
              ...VALID_APP.canary.analysis,
              alerts: [{ name: 'a', providerRef: { name: 'nobody' } }],
            },
          },
        },
      ],
    };
    const result = parseAviaryConfig(document);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path).sort()).toEqual(
      [
        'apps[0].canary.analysis.threshold',
        'apps[1].process.replicas',
        'api.port',
        'apps[1].name',
        'apps[3].canary.analysis.alerts[0].providerRef.name',
      ].sort(),
    );
  });

  it('rejects a second app with the same name or the same exposure', () => {
    const twice = {
      ...config(),
      apps: [VALID_APP, { ...VALID_APP, path: '/other' }, { ...VALID_APP, name: 'frontend' }],
    };
    const result = parseAviaryConfig(twice);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path)).toEqual([
      'apps[1].name',
      'apps[2].path',
    ]);
  });
});
