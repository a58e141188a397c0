/**
 * The router-facing interface of the rollout engine: a router turns "these versions, these
 * weights" into routing on some data plane. It is Flagger's router interface
 * (`Reconcile / SetRoutes / GetRoutes / Finalize`) generalised from primary+canary to any
 * number of versions, so the built-in proxy, remote `aviary proxy` instances, a Kubernetes
 * Gateway API HTTPRoute or HAProxy's runtime API can all sit behind it.
 */
import { AviaryError } from '../errors.js';

/**
 * A Kubernetes Service a version is reached through, as Gateway API `backendRefs` and Istio
 * destinations name it (https://gateway-api.sigs.k8s.io/reference/spec/#backendref).
 */
export interface ServiceRef {
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
}

/**
 * A version that can receive traffic, with its backend: the addresses of its ready replicas
 * (what the built-in proxy dials), or the Service a cluster router sends it to.
 */
export type RoutedVersion =
  | {
      readonly name: string;
      /** `host:port` or `http://host:port` addresses of its ready replicas. */
      readonly endpoints: readonly string[];
      readonly service?: never;
    }
  | { readonly name: string; readonly service: ServiceRef; readonly endpoints?: never };

/**
 * The addresses of a version, for a router whose data plane dials replicas itself.
 * @throws AviaryError `AVIARY_ROUTER_CONFIG` for a Service backend, naming app and version.
 */
export function addressesOf(version: RoutedVersion, app: string): readonly string[] {
  if (version.endpoints !== undefined) return version.endpoints;
  const { namespace, name, port } = version.service;
  throw new AviaryError(
    'AVIARY_ROUTER_CONFIG',
    `app ${app}, version ${version.name}: this router dials replica addresses, but the version is the Service ${namespace}/${name}:${port}; use a router that routes to Services (Gateway API, Istio)`,
  );
}

/** A header or cookie rule of an A/B route (Flagger `analysis.match[]`). */
export interface AbMatchRule {
  readonly headers?: readonly {
    name: string;
    exact?: string;
    prefix?: string;
    regex?: string;
    present?: boolean;
  }[];
  readonly cookies?: readonly {
    name: string;
    exact?: string;
    prefix?: string;
    regex?: string;
    present?: boolean;
  }[];
}

/** How an app is exposed; changes rarely (Flagger's `service` block). */
export interface AppRouteSpec {
  readonly app: string;
  /** Host header values; default any. */
  readonly hosts?: readonly string[];
  /** Path prefix the app answers; default `/`. */
  readonly pathPrefix?: string;
  /** Prefix the upstream sees instead of `pathPrefix` (Flagger `rewrite.uri`). */
  readonly rewritePrefix?: string;
  readonly versions: readonly RoutedVersion[];
  readonly timeoutMs?: number;
  readonly retries?: {
    readonly attempts: number;
    readonly perTryTimeoutMs?: number;
    readonly retryOn?: readonly string[];
  };
  readonly sessionAffinity?: { readonly cookieName: string; readonly maxAgeSeconds: number };
  /** The versions speak HTTP/2 (h2c in clear), as gRPC servers do; default HTTP/1.1. */
  readonly http2?: boolean;
}

/** Where traffic goes now; the state a rollout sets at every step. */
export interface RouteState {
  /** Weight per version name; versions not listed get none. */
  readonly weights: Readonly<Record<string, number>>;
  /** Copy requests to this version (blue/green mirroring). */
  readonly mirror?: { readonly version: string; readonly percent: number };
  /** A/B testing: requests matching any rule go to `version` only. */
  readonly abTesting?: { readonly version: string; readonly rules: readonly AbMatchRule[] };
}

/** A data plane the rollout engine can drive. Every method honours `signal`. */
export interface TrafficRouter {
  /** Registry name of the implementation, e.g. `embedded`. */
  readonly kind: string;
  /**
   * True when the data plane can lose or change routes behind this router's back (a remote
   * router restarted empty). Such a router's `getRoutes` rejects when the data plane no
   * longer holds what was set through it (`AVIARY_ROUTE_DIVERGED`), and its callers read the
   * routes back every so often and re-apply `reconcile` and `setRoutes` when it does.
   * Default false: an in-process router is never read back.
   */
  readonly canDiverge?: boolean;
  /** Creates or updates the app's routing objects (versions and endpoints), keeping its current weights. */
  reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void>;
  /** Sets where traffic goes. Atomic: a request sees the old state or the new one. */
  setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void>;
  /** Reads where traffic goes now. */
  getRoutes(app: string, signal?: AbortSignal): Promise<RouteState>;
  /** Removes the app's routing objects. */
  finalize(app: string, signal?: AbortSignal): Promise<void>;
}
