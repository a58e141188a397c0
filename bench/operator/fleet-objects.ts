/**
 * The objects of the operator bench's fleet in one namespace: a Gateway, and per Canary a
 * target Deployment (one KWOK pod) and a Canary whose analysis needs no traffic (no metrics,
 * no judge: each interval passes), so no data plane or Prometheus is involved and what is
 * measured is the operator's own work against the API server.
 */

/** The Gateway every Canary's HTTPRoute attaches to. */
export const GATEWAY_NAME = 'edge';

/** The container image the fleet starts with, and the one the bench rolls out. */
export const IMAGES = { initial: 'example.invalid/app:1', next: 'example.invalid/app:2' } as const;

/** The Canary analysis of every member: two weight steps (10, 50) at a short interval. */
export interface FleetAnalysis {
  /** `analysis.interval`, e.g. `1s` (needs the operator's `--min-interval` at most this). */
  readonly interval: string;
  readonly stepWeights: readonly number[];
}

/** Name of the `index`-th member (its Deployment and its Canary). */
export function memberName(index: number): string {
  return `app-${String(index).padStart(4, '0')}`;
}

/** The Namespace. */
export function namespaceObject(namespace: string) {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
}

/** The Gateway of the test class, whose acceptance the bench's gateway controller plays. */
export function gatewayObject(namespace: string) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: GATEWAY_NAME, namespace },
    spec: { gatewayClassName: 'test', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
  };
}

/** The target Deployment `name`: one replica of `image`. */
export function targetDeployment(namespace: string, name: string, image: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}

/** The Canary `name` over the Deployment of the same name. */
export function canaryObject(namespace: string, name: string, analysis: FleetAnalysis) {
  return {
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name, namespace },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      service: { port: 8080, gatewayRefs: [{ name: GATEWAY_NAME }] },
      analysis: {
        interval: analysis.interval,
        threshold: 1,
        stepWeights: [...analysis.stepWeights],
        judge: { enabled: false },
      },
    },
  };
}

/** A strategic merge patch that sets the container `app` of a target to `image`. */
export function imagePatch(name: string, namespace: string, image: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { template: { spec: { containers: [{ name: 'app', image }] } } },
  };
}
