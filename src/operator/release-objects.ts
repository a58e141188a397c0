/**
 * A release on Kubernetes as objects (docs/adr/0024-releases-on-kubernetes.md): each entry a
 * Deployment and a Service `<app>-<entry>`, and the app one HTTPRoute `<app>` whose default
 * rule lists every entry's Service with its weight, as the seed's App Mesh VirtualRouter
 * listed weighted targets. The HTTPRoute also carries the applied release in an annotation,
 * so a restarted operator knows what runs and what was still draining. Pure: the objects
 * for server-side apply, and the state read back from a route.
 */
import type { KubernetesObject, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ReleaseEntry } from '../config/release-schema.js';
import { targetAppOf } from '../config/release-schema.js';
import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  renderHttpRoute,
  type HttpRoute,
} from '../router/gateway-api/http-route.js';
import type { ReleaseTemplate } from './release-template.js';

/** Label on every object of a release: the app it belongs to. */
export const RELEASE_LABEL = 'aviary.dev/release';
/** Label on an entry's Deployment, Service and pods: the entry's name. */
export const RELEASE_ENTRY_LABEL = 'aviary.dev/release-entry';
/** Annotation of the HTTPRoute holding the applied release ({@link AppliedRelease}, JSON). */
export const RELEASE_STATE_ANNOTATION = 'aviary.dev/release';
/** Annotation of an entry's Deployment: the tag it runs (a label value cannot hold every tag). */
export const TAG_ANNOTATION = 'aviary.dev/tag';

/** What the operator last applied to an app, as kept on its HTTPRoute. */
export interface AppliedRelease {
  readonly entries: readonly ReleaseEntry[];
  /** Removed entries at weight 0, still routed until their drain time ends. */
  readonly draining: readonly string[];
  readonly template: ReleaseTemplate;
  /** Epoch milliseconds. */
  readonly appliedAt: number;
  /** Who applied it (`X-Aviary-User`, else `api`). */
  readonly by: string;
}

function labelsOf(app: string, entry?: string): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    'app.kubernetes.io/name': app,
    [RELEASE_LABEL]: app,
    ...(entry !== undefined ? { [RELEASE_ENTRY_LABEL]: entry } : {}),
  };
}

/** The selector of an entry's pods; also the Service's selector. */
function selectorOf(app: string, entry: string): Record<string, string> {
  return { [RELEASE_LABEL]: app, [RELEASE_ENTRY_LABEL]: entry };
}

/** The image an entry runs: the template's repository and the entry's tag. */
export function imageOf(template: ReleaseTemplate, entry: ReleaseEntry): string {
  return `${template.imageRepository}:${entry.tag}`;
}

/** The Deployment `<app>-<entry>` of one entry. */
export function entryDeployment(
  app: string,
  namespace: string,
  entry: ReleaseEntry,
  template: ReleaseTemplate,
): V1Deployment {
  const selector = selectorOf(app, entry.name);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: targetAppOf(app, entry.name),
      namespace,
      labels: labelsOf(app, entry.name),
      annotations: { [TAG_ANNOTATION]: entry.tag },
    },
    spec: {
      replicas: template.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, 'app.kubernetes.io/name': app } },
        spec: {
          containers: [
            {
              name: 'app',
              image: imageOf(template, entry),
              ...(template.pullPolicy !== undefined ? { imagePullPolicy: template.pullPolicy } : {}),
              ports: [{ name: 'http', containerPort: template.port }],
              // As a release entry's process gets them under `aviary up` (ADR 0007).
              env: [
                { name: 'AVIARY_TAG', value: entry.tag },
                { name: 'AVIARY_RELEASE', value: entry.name },
              ],
            },
          ],
        },
      },
    },
  };
}

/** The Service `<app>-<entry>` in front of one entry's pods. */
export function entryService(
  app: string,
  namespace: string,
  entry: string,
  template: ReleaseTemplate,
): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: targetAppOf(app, entry), namespace, labels: labelsOf(app, entry) },
    spec: {
      type: 'ClusterIP',
      selector: selectorOf(app, entry),
      ports: [{ name: 'http', port: template.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * The app's HTTPRoute: the release's entries at their weights and the draining ones at 0, in
 * one rule (`PathPrefix /`), with `state` in its annotation. Rendered by the Gateway API
 * router's own `renderHttpRoute`, so a release's route has the shape a Canary's has.
 */
export function releaseRoute(app: string, namespace: string, state: AppliedRelease): HttpRoute {
  const names = [...state.entries.map((e) => e.name), ...state.draining.filter((n) => !hasEntry(state, n))];
  const weights = Object.fromEntries(state.entries.map((e) => [e.name, e.weight]));
  const route = renderHttpRoute(
    {
      app,
      versions: names.map((name) => ({
        name,
        service: { name: targetAppOf(app, name), namespace, port: state.template.port },
      })),
    },
    { weights },
    { namespace, parentRefs: state.template.parentRefs, hostnames: state.template.hostnames },
  );
  return {
    ...route,
    metadata: {
      ...route.metadata,
      labels: labelsOf(app),
      annotations: { [RELEASE_STATE_ANNOTATION]: JSON.stringify(state) },
    },
  };
}

function hasEntry(state: AppliedRelease, name: string): boolean {
  return state.entries.some((e) => e.name === name);
}

/** True when `object` belongs to the release of `app` (Aviary made it for that app). */
export function belongsTo(object: KubernetesObject | undefined, app: string): boolean {
  return object?.metadata?.labels?.[RELEASE_LABEL] === app;
}

/** The release kept on an HTTPRoute, or undefined when it carries none (or an unreadable one). */
export function appliedReleaseOf(route: HttpRoute | undefined): AppliedRelease | undefined {
  const text = route?.metadata?.annotations?.[RELEASE_STATE_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const state = JSON.parse(text) as Partial<AppliedRelease>;
    if (!Array.isArray(state.entries) || !Array.isArray(state.draining) || state.template === undefined)
      return undefined;
    return state as AppliedRelease;
  } catch {
    return undefined;
  }
}

/** Each Service's weight in the route's default rule (its last), by entry name. */
export function routeWeightsOf(app: string, route: HttpRoute | undefined): Record<string, number> {
  const prefix = `${app}-`;
  const refs = route?.spec.rules.at(-1)?.backendRefs ?? [];
  return Object.fromEntries(
    refs
      .filter((ref) => ref.name.startsWith(prefix))
      .map((ref) => [ref.name.slice(prefix.length), ref.weight ?? 1]),
  );
}

/**
 * Why an entry's Deployment is not rolled out yet, or undefined once it is: `kubectl rollout
 * status`'s test (the controller saw the latest spec; every replica is updated and available,
 * and no old one is left), with the Deployment's own failure condition when it has one.
 */
export function rolloutPendingOf(deployment: V1Deployment | undefined): string | undefined {
  if (deployment === undefined) return 'the Deployment does not exist';
  const want = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const failed = status.conditions?.find(
    (c) => (c.type === 'Progressing' || c.type === 'ReplicaFailure') && c.status === 'False',
  );
  const reason = failed !== undefined ? ` (${failed.reason ?? failed.type}: ${failed.message ?? ''})` : '';
  if ((status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0))
    return `waiting for the Deployment controller to observe generation ${deployment.metadata?.generation}`;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < want) return `${updated} of ${want} replicas updated${reason}`;
  if ((status.replicas ?? 0) > updated)
    return `${(status.replicas ?? 0) - updated} old replicas are pending termination${reason}`;
  if (available < updated) return `${available} of ${updated} updated replicas available${reason}`;
  return undefined;
}
