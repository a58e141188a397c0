/**
 * Canary specs for test/kubernetes/crds.test.ts: valid ones for each strategy (and one with
 * every Aviary field), and bad ones, each with a single defect, the path of the field the API
 * server must name and the words it must say. The bad ones mirror what Aviary's own schema
 * (src/config/app-canary.ts, app-analysis.ts, …) refuses.
 */
/** A JSON object. */
export type Fields = Record<string, unknown>;

const BASE_ANALYSIS: Fields = { interval: '30s', threshold: 2, maxWeight: 50, stepWeight: 10 };
/** A minimal valid Canary spec: a weighted canary of 10 % steps up to 50 %. */
export const BASE_SPEC: Fields = {
  targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
  service: { port: 80 },
  analysis: BASE_ANALYSIS,
};

/** A Canary document in namespace default. */
export const canary = (name: string, spec: Fields): Fields => ({
  apiVersion: 'aviary.dev/v1alpha1',
  kind: 'Canary',
  metadata: { name, namespace: 'default' },
  spec,
});
const withSpec = (fields: Fields): Fields => ({ ...BASE_SPEC, ...fields });
const withAnalysis = (fields: Fields): Fields => withSpec({ analysis: { ...BASE_ANALYSIS, ...fields } });
const withService = (fields: Fields): Fields => withSpec({ service: { port: 80, ...fields } });

/** Valid Canaries beyond the minimal one: each strategy, and every Aviary field at once. */
export const VALID: readonly { name: string; spec: Fields }[] = [
  { name: 'minimal', spec: BASE_SPEC },
  {
    name: 'everything',
    spec: withSpec({
      provider: 'gatewayapi:v1',
      autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' },
      service: {
        port: 9898,
        targetPort: 'http',
        hosts: ['podinfo.example.com'],
        gatewayRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
        meshName: 'global',
        backends: ['backend.default.svc.cluster.local'],
        timeout: '15s',
        backendTimeout: '5s',
        trafficDistribution: 'PreferClose',
        retries: { attempts: 2, perTryTimeout: '5s', retryOn: 'gateway-error,503,5xx' },
        headers: { request: { set: { 'x-aviary': '1' }, remove: ['x-debug'] } },
        rewrite: { uri: '/' },
      },
      analysis: {
        interval: '1m',
        threshold: 3,
        stepWeights: [5, 10, 25, 50],
        stepWeightPromotion: 50,
        primaryReadyThreshold: 80,
        deadlineAction: 'hold',
        baseline: 'fresh',
        judge: { alpha: 0.05, lookInterval: '500ms', quantiles: [0.5, 0.99], maxHarm: { errorRate: {} } },
        metrics: [
          { name: 'request-success-rate', interval: '1m', thresholdRange: { min: 99 }, minRequests: 50 },
          {
            name: 'queue-depth',
            templateRef: { name: 'queue-depth', namespace: 'aviary-system' },
            templateVariables: { queue: 'orders' },
            thresholdRange: { max: 10 },
            failOnNoData: true,
          },
        ],
        webhooks: [
          { name: 'load', type: 'rollout', url: 'http://loadtester.test/', metadata: { cmd: 'hey' } },
          { name: 'approval', type: 'confirm-promotion', url: 'aviary:gate' },
          { name: 'always', type: 'pre-rollout', url: 'aviary:gate/approve', timeout: '30s', retries: 2 },
        ],
        alerts: [{ name: 'on-call', severity: 'error', providerRef: { name: 'slack' } }],
      },
    }),
  },
  {
    name: 'ab-testing',
    spec: withSpec({
      analysis: {
        interval: '1m',
        iterations: 10,
        match: [
          { headers: { 'x-canary': { exact: 'insider' } } },
          { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } },
        ],
        sessionAffinity: { cookieName: 'flagger-cookie', maxAge: 3600 },
        judge: { enabled: false },
      },
    }),
  },
  { name: 'blue-green', spec: withSpec({ analysis: { iterations: 5, mirror: true, mirrorWeight: 50 } }) },
];

/** A bad Canary, its defect's path and the words the API server must say. */
export interface BadCanary {
  readonly name: string;
  readonly spec: Fields;
  readonly path: string;
  readonly says: RegExp;
  /** Why only the cluster refuses it: Aviary's schema ignores the Kubernetes fields. */
  readonly kubernetesOnly?: string;
}

/**
 * Bad Canaries, each with one defect. All but the `kubernetesOnly` ones are refused by
 * Aviary's own schema too, at the same path or below it.
 */
export const BAD: readonly BadCanary[] = [
  {
    name: 'no-steps',
    spec: withAnalysis({ stepWeight: undefined }),
    path: 'spec.analysis.stepWeight',
    says: /expected stepWeight or stepWeights/,
  },
  {
    name: 'two-step-kinds',
    spec: withAnalysis({ stepWeights: [10, 50] }),
    path: 'spec.analysis.stepWeights',
    says: /not both/,
  },
  {
    name: 'descending',
    spec: withAnalysis({ stepWeight: undefined, maxWeight: undefined, stepWeights: [20, 10] }),
    path: 'spec.analysis.stepWeights',
    says: /ascending/,
  },
  {
    name: 'step-over-100',
    spec: withAnalysis({ stepWeight: undefined, maxWeight: undefined, stepWeights: [10, 120] }),
    path: 'spec.analysis.stepWeights[1]',
    says: /less than or equal to 100/,
  },
  {
    name: 'max-not-last',
    spec: withAnalysis({ stepWeight: undefined, stepWeights: [10, 20, 40] }),
    path: 'spec.analysis.maxWeight',
    says: /last stepWeights entry/,
  },
  {
    name: 'match-no-iterations',
    spec: withAnalysis({ match: [{ headers: { 'x-canary': { exact: 'yes' } } }] }),
    path: 'spec.analysis.match',
    says: /needs iterations/,
  },
  {
    name: 'mirror-ab',
    spec: withSpec({ analysis: { iterations: 5, mirror: true, match: [{ uri: { prefix: '/' } }] } }),
    path: 'spec.analysis.mirror',
    says: /not to A\/B testing/,
  },
  {
    name: 'threshold-zero',
    spec: withAnalysis({ threshold: 0 }),
    path: 'spec.analysis.threshold',
    says: /greater than or equal to 1/,
  },
  {
    name: 'interval-word',
    spec: withAnalysis({ interval: 'soon' }),
    path: 'spec.analysis.interval',
    says: /expected a duration of at least 10s/,
  },
  {
    name: 'interval-short',
    spec: withAnalysis({ interval: '5s' }),
    path: 'spec.analysis.interval',
    says: /at least 10s/,
  },
  {
    name: 'range-inverted',
    spec: withAnalysis({ metrics: [{ name: 'request-duration', thresholdRange: { min: 500, max: 100 } }] }),
    path: 'spec.analysis.metrics[0].thresholdRange.max',
    says: /expected max >= min/,
  },
  {
    name: 'range-empty',
    spec: withAnalysis({ metrics: [{ name: 'request-duration', thresholdRange: {} }] }),
    path: 'spec.analysis.metrics[0].thresholdRange',
    says: /expected min, max or both/,
  },
  {
    name: 'unknown-metric',
    spec: withAnalysis({ metrics: [{ name: 'error-rate', thresholdRange: { max: 1 } }] }),
    path: 'spec.analysis.metrics[0].name',
    says: /built-in metric .* or a templateRef/,
  },
  {
    name: 'metric-twice',
    spec: withAnalysis({
      metrics: [
        { name: 'request-duration', thresholdRange: { max: 1 } },
        { name: 'request-duration', thresholdRange: { max: 2 } },
      ],
    }),
    path: 'spec.analysis.metrics[1]',
    says: /Duplicate value/,
  },
  {
    name: 'hook-type',
    spec: withAnalysis({ webhooks: [{ name: 'load', type: 'pre-rolout', url: 'http://t.test/' }] }),
    path: 'spec.analysis.webhooks[0].type',
    says: /Unsupported value: "pre-rolout"/,
  },
  {
    name: 'hook-url',
    spec: withAnalysis({ webhooks: [{ name: 'load', url: 'ftp://t.test/' }] }),
    path: 'spec.analysis.webhooks[0].url',
    says: /expected an http\(s\) URL, or a built-in gate/,
  },
  {
    name: 'gate-on-rollout',
    spec: withAnalysis({ webhooks: [{ name: 'gate', type: 'pre-rollout', url: 'aviary:gate' }] }),
    path: 'spec.analysis.webhooks[0].url',
    says: /aviary:gate works only on confirm-rollout/,
  },
  {
    name: 'alpha-half',
    spec: withAnalysis({ judge: { alpha: 0.5 } }),
    path: 'spec.analysis.judge.alpha',
    says: /less than 0.5/,
  },
  {
    name: 'look-slow',
    spec: withAnalysis({ judge: { lookInterval: '5m' } }),
    path: 'spec.analysis.judge.lookInterval',
    says: /from 100ms to 1m/,
  },
  {
    name: 'judge-sticky',
    spec: withAnalysis({ judge: {}, sessionAffinity: { cookieName: 'c' } }),
    path: 'spec.analysis.judge',
    says: /cannot be used with analysis.sessionAffinity/,
  },
  {
    name: 'judge-metric',
    spec: withAnalysis({ judge: {}, metrics: [{ name: 'judge', templateRef: { name: 't' } }] }),
    path: 'spec.analysis.metrics',
    says: /"judge" is reserved/,
  },
  {
    name: 'no-cookie',
    spec: withAnalysis({ judge: { enabled: false }, sessionAffinity: { maxAge: 60 } }),
    path: 'spec.analysis.sessionAffinity.cookieName',
    says: /Required value/,
  },
  {
    name: 'fresh-wide',
    spec: withAnalysis({ baseline: 'fresh', maxWeight: 80 }),
    path: 'spec.analysis.maxWeight',
    says: /at most 50 with baseline: fresh/,
  },
  {
    name: 'daemonset',
    kubernetesOnly: 'the operator rolls out Deployments only',
    spec: withSpec({ targetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent' } }),
    path: 'spec.targetRef.kind',
    says: /expected kind Deployment/,
  },
  {
    name: 'no-port',
    kubernetesOnly: 'Services need a port; aviary.yaml has none',
    spec: withSpec({ service: { targetPort: 8080 } }),
    path: 'spec.service.port',
    says: /Required value/,
  },
  {
    name: 'port-range',
    kubernetesOnly: 'Services need a valid port; aviary.yaml ignores it',
    spec: withService({ port: 70000 }),
    path: 'spec.service.port',
    says: /less than or equal to 65535/,
  },
  {
    name: 'two-matchers',
    spec: withService({ match: [{ uri: { prefix: '/', exact: '/x' } }] }),
    path: 'spec.service.match[0].uri',
    says: /exactly one of exact, prefix, suffix or regex/,
  },
  {
    name: 'retry-event',
    spec: withService({ retries: { attempts: 2, retryOn: 'gateway-error,sometimes' } }),
    path: 'spec.service.retries.retryOn',
    says: /retry events/,
  },
  {
    name: 'header-name',
    spec: withService({ headers: { request: { set: { 'x bad': '1' } } } }),
    path: 'spec.service.headers.request.set',
    says: /HTTP header names/,
  },
  {
    name: 'rewrite-relative',
    spec: withService({ rewrite: { uri: 'api' } }),
    path: 'spec.service.rewrite.uri',
    says: /should match '\^\/'/,
  },
];
