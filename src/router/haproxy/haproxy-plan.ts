/**
 * Pure translation from the router interface (each app's spec and route state) to what
 * HAProxy runs: one weighted backend per app with a fixed number of server slots per version,
 * plus an A/B backend while an A/B rule is set. The plan splits in two: its structure (backends,
 * slots, ACLs, timeouts), whose change needs a reload, and each slot's address, weight and
 * state, which the Runtime API changes in place (docs/adr/0025-haproxy-router.md).
 */
import { AviaryError } from '../../errors.js';
import { addressesOf, type AbMatchRule, type AppRouteSpec, type RouteState } from '../traffic-router.js';

/** One server line: a slot of a version, with the endpoint it holds now (if any). */
export interface ServerSlot {
  /** `<version>:<index>`: stable while the version exists, so sticky cookies stay valid. */
  readonly name: string;
  readonly version: string;
  /** The endpoint in this slot; undefined: an empty slot, in maintenance. */
  readonly address?: { readonly host: string; readonly port: number };
  /** HAProxy weight 0–256. */
  readonly weight: number;
  /** Ready to take new requests; otherwise in maintenance (empty, or its version has no weight). */
  readonly ready: boolean;
}

/** One HAProxy backend. */
export interface BackendPlan {
  readonly name: string;
  readonly servers: readonly ServerSlot[];
}

/** Everything HAProxy runs for one app. */
export interface AppPlan {
  readonly app: string;
  readonly spec: AppRouteSpec;
  readonly main: BackendPlan;
  /** Requests matching any rule go to this backend, which holds only the A/B version. */
  readonly ab?: {
    readonly version: string;
    readonly rules: readonly AbMatchRule[];
    readonly backend: BackendPlan;
  };
}

/** Slots per version of one app, kept between plans so endpoint changes need no reload. */
export type SlotCounts = ReadonlyMap<string, number>;

/** Slots kept per version: what the app had, grown by doubling to fit the endpoints. */
export function slotCountsFor(
  spec: AppRouteSpec,
  previous: SlotCounts | undefined,
  minimum: number,
): SlotCounts {
  const counts = new Map<string, number>();
  for (const version of spec.versions) {
    let slots = previous?.get(version.name) ?? minimum;
    while (slots < addressesOf(version, spec.app).length) slots *= 2;
    counts.set(version.name, slots);
  }
  return counts;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/;

function checkName(what: string, name: string, app: string): void {
  if (!NAME.test(name))
    throw new AviaryError(
      'AVIARY_ROUTER_CONFIG',
      `app ${app}: ${what} "${name}" cannot be an HAProxy name; expected letters, digits, ".", "_" or "-" (at most 63)`,
    );
}

/** `host:port` or `http://host:port` as HAProxy's runtime API takes it (an IP address). */
export function parseEndpoint(endpoint: string, app: string): { host: string; port: number } {
  const url = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (url.protocol !== 'http:' || !/^[\d.]+$|:/.test(host))
    throw new AviaryError(
      'AVIARY_ROUTER_CONFIG',
      `app ${app}: endpoint "${endpoint}" is not http://<ip>:<port>; the haproxy router changes endpoints through the Runtime API, which takes IP addresses`,
    );
  return { host, port };
}

/**
 * Server weights of a route state: a version's weight spread evenly over its ready
 * endpoints, scaled so the largest server weighs 256 (HAProxy's maximum), at least 1 when
 * the version has weight.
 */
function serverWeights(spec: AppRouteSpec, state: RouteState): Map<string, number> {
  const perServer = new Map<string, number>();
  for (const version of spec.versions) {
    const count = addressesOf(version, spec.app).length;
    const weight = state.weights[version.name] ?? 0;
    if (count > 0 && weight > 0) perServer.set(version.name, weight / count);
  }
  const largest = Math.max(0, ...perServer.values());
  const scaled = new Map<string, number>();
  for (const [version, raw] of perServer) scaled.set(version, Math.max(1, Math.round((raw * 256) / largest)));
  return scaled;
}

/**
 * The slots of one version: endpoints that held a slot before keep it (sticky cookies name
 * slots), new ones take the free slots in order.
 */
function versionSlots(
  app: string,
  version: string,
  endpoints: readonly string[],
  slots: number,
  previous: readonly ServerSlot[],
  weight: number,
  ready: boolean,
): ServerSlot[] {
  const key = (a: { host: string; port: number }) => `${a.host}:${a.port}`;
  const wanted = endpoints.map((e) => parseEndpoint(e, app));
  const placed = new Array<{ host: string; port: number } | undefined>(slots).fill(undefined);
  const left = new Map(wanted.map((a) => [key(a), a]));
  for (const [i, slot] of previous.entries()) {
    if (i < slots && slot.address && left.has(key(slot.address))) {
      placed[i] = slot.address;
      left.delete(key(slot.address));
    }
  }
  for (const address of left.values()) placed[placed.indexOf(undefined)] = address;
  return placed.map((address, i) => ({
    name: `${version}:${i}`,
    version,
    ...(address ? { address } : {}),
    weight: address ? weight : 0,
    ready: address !== undefined && ready,
  }));
}

/** The plan of one app in `state`, keeping the slot placement of `previous`. */
export function appPlanFor(
  spec: AppRouteSpec,
  state: RouteState,
  slots: SlotCounts,
  previous?: AppPlan,
): AppPlan {
  checkName('app name', spec.app, spec.app);
  if (state.mirror && state.mirror.percent > 0)
    throw new AviaryError(
      'AVIARY_ROUTER_CONFIG',
      `app ${spec.app}: mirroring to ${state.mirror.version} is not supported by the haproxy router: HAProxy 2.6 mirrors only through an external SPOE agent (spoa-mirror), which Aviary does not run; use router.kind: embedded for blue/green mirroring`,
    );
  const weights = serverWeights(spec, state);
  const servers: ServerSlot[] = [];
  const abServers: ServerSlot[] = [];
  const abVersion = state.abTesting?.version;
  for (const version of spec.versions) {
    checkName('version name', version.name, spec.app);
    const endpoints = addressesOf(version, spec.app);
    const count = slots.get(version.name) ?? endpoints.length;
    const before = previous?.main.servers.filter((s) => s.version === version.name) ?? [];
    const weight = weights.get(version.name) ?? 0;
    servers.push(...versionSlots(spec.app, version.name, endpoints, count, before, weight, weight > 0));
    if (version.name === abVersion && endpoints.length > 0)
      abServers.push(...versionSlots(spec.app, version.name, endpoints, count, before, 1, true));
  }
  return {
    app: spec.app,
    spec,
    main: { name: `app.${spec.app}`, servers },
    ...(abVersion !== undefined && abServers.length > 0 && state.abTesting!.rules.length > 0
      ? {
          ab: {
            version: abVersion,
            rules: state.abTesting!.rules,
            backend: { name: `ab.${spec.app}`, servers: abServers },
          },
        }
      : {}),
  };
}

/**
 * The part of the plans whose change needs a reload: everything but each slot's address,
 * weight and state. Two plans with the same structure differ only by Runtime API commands.
 */
export function structureOf(plans: readonly AppPlan[]): string {
  const backend = (b: BackendPlan) => ({ name: b.name, servers: b.servers.map((s) => s.name) });
  return JSON.stringify(
    plans.map((p) => ({
      spec: { ...p.spec, versions: p.spec.versions.map((v) => v.name) },
      main: backend(p.main),
      ab: p.ab ? { version: p.ab.version, rules: p.ab.rules, backend: backend(p.ab.backend) } : null,
    })),
  );
}
