/**
 * A Canary object (`aviary.dev/v1alpha1`, Flagger's spec shape) and its target Deployment
 * read as an app the rollout controller drives (docs/adr/0019-kubernetes-operator.md). The
 * analysis goes through Aviary's own Flagger loader (src/config/flagger-canary.ts), so a
 * Canary means here what it means in a file; the Kubernetes fields that loader has no use for
 * in a file — the target's kind, the Service ports, `gatewayRefs`, `hosts` — become the
 * `deployment` workload and the HTTPRoute's options. Fields Gateway API has no use for
 * (App Mesh's, Istio's) are reported as ignored, never silently dropped.
 */
import type { V1Deployment, V1OwnerReference } from '@kubernetes/client-node';
import type { DeploymentSpec } from '../config/app-deployment.js';
import type { AppSpec } from '../config/app-schema.js';
import { canonicalCopy } from '../config/canonical-json.js';
import { targetPortOf } from './canary-target-port.js';
import { ConfigError } from '../config/config-error.js';
import { loadFlaggerCanary, type IgnoredField } from '../config/flagger-canary.js';
import type { HttpRouteOptions } from '../router/gateway-api/http-route.js';
import { ignoredFieldsOf } from '../router/gateway-api/ignored-fields.js';

export const CANARY_API_VERSION = 'aviary.dev/v1alpha1';

/** A Canary as the API server returns it (the fields read here). */
export interface CanaryObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
}

/** What the operator runs for one Canary. */
export interface CanaryApp {
  readonly app: AppSpec;
  readonly route: HttpRouteOptions;
  /** Fields present but without effect here, with why (reported on the Canary). */
  readonly ignored: readonly IgnoredField[];
}

type Fields = Record<string, unknown>;

const isRecord = (value: unknown): value is Fields =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Why the operator leaves out a field the Flagger loader reports (its reasons are `aviary up`'s). */
const GATEWAY_API =
  'the operator routes with a Gateway API HTTPRoute attached to spec.service.gatewayRefs; this field configures another mesh or ingress';
const OPERATOR_REASONS: Readonly<Record<string, string>> = {
  'spec.provider': GATEWAY_API,
  'spec.ingressRef': GATEWAY_API,
  'spec.routeRef': GATEWAY_API,
  'spec.upstreamRef': GATEWAY_API,
  'spec.service.gateways': GATEWAY_API,
  'spec.service.delegation': GATEWAY_API,
  'spec.service.trafficPolicy': GATEWAY_API,
  'spec.service.backends': GATEWAY_API,
  'spec.service.meshName': GATEWAY_API,
};
const NOT_READ = 'not read by the operator: it has no effect';

/** Where each field `ignoredFieldsOf` names comes from in a Canary. */
const ROUTE_FIELD_PATHS: Readonly<Record<string, string>> = {
  'retries.attempts': 'spec.service.retries.attempts',
  'retries.retryOn': 'spec.service.retries.retryOn',
  'retries.perTryTimeoutMs': 'spec.service.retries.perTryTimeout',
  sessionAffinity: 'spec.analysis.sessionAffinity',
};

/**
 * The fields the HTTPRoute cannot carry: the router's list (retries, session persistence) at
 * their paths in the Canary, and `service.match` and `service.headers`, which no router
 * reads on the Gateway API (the route matches `path` only; `analysis.match` makes A/B rules).
 */
function routeIgnored(name: string, canary: FlaggerCanaryResult['canary']): IgnoredField[] {
  const { service, analysis } = canary;
  const retries = service.retries;
  const affinity = analysis.sessionAffinity;
  const fromRouter = ignoredFieldsOf({
    app: name,
    versions: [],
    ...(service.timeout !== undefined ? { timeoutMs: service.timeout } : {}),
    ...(retries !== undefined
      ? {
          retries: {
            attempts: retries.attempts,
            retryOn: retries.retryOn,
            ...(retries.perTryTimeout !== undefined ? { perTryTimeoutMs: retries.perTryTimeout } : {}),
          },
        }
      : {}),
    ...(affinity !== undefined
      ? { sessionAffinity: { cookieName: affinity.cookieName, maxAgeSeconds: affinity.maxAge } }
      : {}),
  }).map((field) => ({ path: ROUTE_FIELD_PATHS[field.path] ?? field.path, reason: field.reason }));
  const match =
    'the HTTPRoute matches every request under the path prefix; requests for the canary are matched by spec.analysis.match';
  const headers = 'header changes are not written to the HTTPRoute';
  return [
    ...fromRouter,
    ...(service.match.length > 0 ? [{ path: 'spec.service.match', reason: match }] : []),
    ...(service.headers !== undefined ? [{ path: 'spec.service.headers', reason: headers }] : []),
  ];
}

type FlaggerCanaryResult = ReturnType<typeof loadFlaggerCanary>;

/**
 * How many replicas each role runs. The target is scaled to 0 after each promotion and
 * rollback, so its size then says nothing: as Flagger's ScaleFromZero does without an
 * autoscaler, the target's own replicas when above 0, else the primary's, else 1. Reading
 * the 0 would scale the primary to 0 after a promotion and start the next canary with none.
 */
function replicasOf(target: V1Deployment, primary: V1Deployment | undefined): number {
  const own = target.spec?.replicas ?? 1;
  if (own > 0) return own;
  const primaryReplicas = primary?.spec?.replicas ?? 0;
  return primaryReplicas > 0 ? primaryReplicas : 1;
}

/** The Kubernetes-side `service` fields, taken out before the analysis is loaded. */
const SERVICE_FIELDS = ['name', 'port', 'targetPort', 'portName', 'gatewayRefs', 'hosts'] as const;

/**
 * Fields of Flagger's Canary that the CRD accepts (so current Flagger Canaries apply) but the
 * Flagger loader does not know, since they mean nothing in a file: taken out before it runs
 * and reported, not refused as misspelt.
 */
const KUBERNETES_ONLY: readonly (readonly [parent: 'spec' | 'service', key: string, reason: string])[] = [
  ['spec', 'metricsServer', 'the operator reads metrics from its own --prometheus address'],
  [
    'service',
    'backendTimeout',
    'the HTTPRoute timeouts come from spec.service.timeout and spec.service.retries.perTryTimeout',
  ],
  ['service', 'headless', 'not applied to the Services the operator creates'],
  ['service', 'trafficDistribution', 'not applied to the Services the operator creates'],
  ['service', 'unmanagedMetadata', 'not applied to the Services the operator creates'],
];

/**
 * The app for `canary`, whose target is `target` (undefined when it does not exist).
 * @throws ConfigError naming each field at its path in the Canary (`spec.service.port`).
 */
export function canaryApp(
  canary: CanaryObject,
  target: V1Deployment | undefined,
  options: {
    readonly minAnalysisIntervalMs?: number;
    /** The Canary's `<target>-primary` Deployment, when it exists: its size once the target is at 0. */
    readonly primary?: V1Deployment;
  } = {},
): CanaryApp {
  const name = canary.metadata?.name ?? '';
  const namespace = canary.metadata?.namespace ?? 'default';
  const source = `Canary ${namespace}/${name}`;
  const spec = isRecord(canary.spec) ? canary.spec : {};
  const targetRef = isRecord(spec.targetRef) ? spec.targetRef : {};
  const service = isRecord(spec.service) ? spec.service : {};
  const issues: { path: string; message: string }[] = [];
  if (targetRef.kind !== undefined && targetRef.kind !== 'Deployment') {
    issues.push({
      path: 'spec.targetRef.kind',
      message: `expected "Deployment", got ${JSON.stringify(targetRef.kind)}`,
    });
  }
  const targetName = typeof targetRef.name === 'string' ? targetRef.name : '';
  if (target === undefined && targetName !== '') {
    issues.push({ path: 'spec.targetRef.name', message: `Deployment ${namespace}/${targetName} not found` });
  }
  const port = typeof service.port === 'number' ? service.port : undefined;
  if (port === undefined)
    issues.push({ path: 'spec.service.port', message: 'is required (expected a port number)' });
  const gatewayRefs = Array.isArray(service.gatewayRefs) ? service.gatewayRefs.filter(isRecord) : [];
  if (gatewayRefs.length === 0) {
    issues.push({
      path: 'spec.service.gatewayRefs',
      message:
        'expected at least one Gateway for the HTTPRoute; the operator routes with the Gateway API, so name the Gateway that serves this app',
    });
  }

  // The analysis, read by the same loader as a Flagger Canary in a file.
  const analysis = isRecord(spec.analysis) ? { ...spec.analysis } : undefined;
  if (analysis !== undefined && isRecord(analysis.judge)) {
    const { enabled, ...settings } = analysis.judge;
    analysis.judge = enabled === false ? false : settings;
  }
  const kubernetesOnly: IgnoredField[] = [];
  const without = (fields: Fields, parent: 'spec' | 'service', kept: readonly string[] = []): Fields =>
    Object.fromEntries(
      Object.entries(fields).filter(([key]) => {
        const known = KUBERNETES_ONLY.find(([p, k]) => p === parent && k === key);
        if (known !== undefined)
          kubernetesOnly.push({
            path: parent === 'spec' ? `spec.${key}` : `spec.service.${key}`,
            reason: known[2],
          });
        return known === undefined && !kept.includes(key);
      }),
    );
  const rest = without(service, 'service', SERVICE_FIELDS);
  const specRest = without(spec, 'spec');
  let loaded: ReturnType<typeof loadFlaggerCanary> | undefined;
  try {
    loaded = loadFlaggerCanary(
      {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'Canary',
        metadata: { name: targetName },
        spec: {
          ...specRest,
          targetRef: { name: targetName },
          service: rest,
          ...(analysis !== undefined ? { analysis } : {}),
        },
      },
      {
        source,
        ...(options.minAnalysisIntervalMs !== undefined
          ? { minAnalysisIntervalMs: options.minAnalysisIntervalMs }
          : {}),
      },
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  const targetPort = targetPortOf(service.targetPort, port, target);
  if (typeof targetPort === 'object') issues.push(targetPort);
  if (issues.length > 0 || loaded === undefined || target === undefined || port === undefined) {
    throw new ConfigError(source, issues);
  }
  // Plain data with sorted keys: the same template from a list and from a watch event (key
  // orders differ) must be the same spec, or every tick would write the Canary's status.
  const template = canonicalCopy((target.spec?.template ?? {}) as unknown as Record<string, unknown>);
  const owner = { apiVersion: CANARY_API_VERSION, kind: 'Canary', name, uid: canary.metadata?.uid ?? '' };
  const serviceName = typeof service.name === 'string' ? service.name : targetName;
  const workload: DeploymentSpec = {
    kind: 'deployment',
    namespace,
    targetName,
    selector: target.spec?.selector.matchLabels ?? {},
    template,
    replicas: replicasOf(target, options.primary),
    service: {
      name: serviceName,
      port,
      targetPort: typeof targetPort === 'object' ? port : (targetPort ?? port),
      portName: typeof service.portName === 'string' ? service.portName : 'http',
    },
    owner,
  };
  const hosts = Array.isArray(service.hosts)
    ? service.hosts.filter((h): h is string => typeof h === 'string')
    : [];
  const ownerReference: V1OwnerReference = { ...owner, controller: true, blockOwnerDeletion: true };
  return {
    app: { name, path: '/', ...(hosts.length > 0 ? { hosts } : {}), workload, canary: loaded.canary },
    route: {
      name: serviceName,
      namespace,
      parentRefs: gatewayRefs as unknown as HttpRouteOptions['parentRefs'],
      ...(hosts.length > 0 ? { hostnames: hosts } : {}),
      ownerReference,
    },
    ignored: [
      ...loaded.ignored
        .filter((field) => field.path !== 'metadata.name')
        .map((field) => ({ path: field.path, reason: OPERATOR_REASONS[field.path] ?? NOT_READ })),
      ...routeIgnored(name, loaded.canary),
      ...kubernetesOnly,
    ],
  };
}
