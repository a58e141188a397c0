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
import { ConfigError } from '../config/config-error.js';
import { loadFlaggerCanary, type IgnoredField } from '../config/flagger-canary.js';
import type { HttpRouteOptions } from '../router/gateway-api/http-route.js';

export const CANARY_API_VERSION = 'aviary.dev/v1alpha1';

/** A Canary as the API server returns it (the fields read here). */
export interface CanaryObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { name?: string; namespace?: string; uid?: string; generation?: number };
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

/** The Kubernetes-side `service` fields, taken out before the analysis is loaded. */
const SERVICE_FIELDS = ['name', 'port', 'targetPort', 'portName', 'gatewayRefs', 'hosts'] as const;

/**
 * The app for `canary`, whose target is `target` (undefined when it does not exist).
 * @throws ConfigError naming each field at its path in the Canary (`spec.service.port`).
 */
export function canaryApp(
  canary: CanaryObject,
  target: V1Deployment | undefined,
  options: { readonly minAnalysisIntervalMs?: number } = {},
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
      message: 'expected at least one Gateway for the HTTPRoute',
    });
  }

  // The analysis, read by the same loader as a Flagger Canary in a file.
  const analysis = isRecord(spec.analysis) ? { ...spec.analysis } : undefined;
  if (analysis !== undefined && isRecord(analysis.judge)) {
    const { enabled, ...settings } = analysis.judge;
    analysis.judge = enabled === false ? false : settings;
  }
  const rest = Object.fromEntries(
    Object.entries(service).filter(([k]) => !(SERVICE_FIELDS as readonly string[]).includes(k)),
  );
  let loaded: ReturnType<typeof loadFlaggerCanary> | undefined;
  try {
    loaded = loadFlaggerCanary(
      {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'Canary',
        metadata: { name: targetName },
        spec: {
          ...spec,
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
  if (issues.length > 0 || loaded === undefined || target === undefined || port === undefined) {
    throw new ConfigError(source, issues);
  }
  const template = (target.spec?.template ?? {}) as unknown as Record<string, unknown>;
  const owner = { apiVersion: CANARY_API_VERSION, kind: 'Canary', name, uid: canary.metadata?.uid ?? '' };
  const serviceName = typeof service.name === 'string' ? service.name : targetName;
  const workload: DeploymentSpec = {
    kind: 'deployment',
    namespace,
    targetName,
    selector: target.spec?.selector.matchLabels ?? {},
    template,
    replicas: target.spec?.replicas ?? 1,
    service: {
      name: serviceName,
      port,
      targetPort: typeof service.targetPort === 'number' ? service.targetPort : port,
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
    ignored: loaded.ignored.filter((field) => field.path !== 'metadata.name'),
  };
}
