/**
 * When a data plane no longer holds what a router set through it (an `aviary proxy`
 * restarted empty, or edited by hand): the typed error such a router's `getRoutes` rejects
 * with, the comparison of several instances' services against the one expected, and the
 * periodic read-back with which the controller and the release manager notice it and apply
 * the routes again.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ProxyConfig, ServiceConfig } from '../config/proxy-schema.js';
import { serviceSchema } from '../config/proxy-service-schema.js';
import { AviaryError } from '../errors.js';
import { routeStateOfService } from './service-config.js';
import type { TrafficRouter } from './traffic-router.js';

/** How often the routes of a router that can diverge are read back, by default. */
export const DEFAULT_ROUTE_CHECK_MS = 5_000;

/** One data plane instance whose routes differ, and how. */
export interface DivergedInstance {
  /** The instance, e.g. its admin API URL. */
  readonly instance: string;
  /** What differs, e.g. `has no routes for the app`. */
  readonly reason: string;
}

/**
 * `getRoutes` found instances that do not hold what was set (`AVIARY_ROUTE_DIVERGED`). The
 * next `reconcile` and `setRoutes` write the routes to every instance again.
 */
export class RouteDivergenceError extends AviaryError {
  /** The instances whose routes differ. */
  readonly diverged: readonly DivergedInstance[];

  constructor(app: string, diverged: readonly DivergedInstance[], instances: number) {
    const list = diverged.map((d) => `${d.instance} ${d.reason}`).join('; ');
    super(
      'AVIARY_ROUTE_DIVERGED',
      `app ${app}: routes differ on ${diverged.length} of ${instances} router instance(s): ${list}; reconcile and setRoutes apply them to every instance again`,
    );
    this.diverged = diverged;
  }
}

/** A service document as a router holds it once validated, in JSON form: what `GET /config` answers. */
export function normalisedService(document: Record<string, unknown>): ServiceConfig {
  return JSON.parse(JSON.stringify(serviceSchema.parse(document))) as ServiceConfig;
}

/**
 * What every instance should hold for an app: its service, `null` for no routes at all, or
 * undefined when unknown (nothing was set through this router yet), in which case the
 * instances are compared with the first one that has routes.
 */
export type ExpectedService = ServiceConfig | null | undefined;

/** One instance's configuration as read from it. */
export interface ObservedConfig {
  readonly instance: string;
  readonly config: ProxyConfig;
}

function describeWeights(service: ServiceConfig): string {
  return JSON.stringify(routeStateOfService(service).weights);
}

function difference(
  service: ServiceConfig | undefined,
  reference: ServiceConfig | undefined,
  against: string,
): string | undefined {
  if (isDeepStrictEqual(service, reference)) return undefined;
  if (!service) return 'has no routes for the app';
  if (!reference) return `has routes for the app where ${against} has none`;
  const weights = describeWeights(service);
  const expected = describeWeights(reference);
  if (weights !== expected) return `routes ${weights} where ${against} routes ${expected}`;
  return `has other versions, endpoints or route settings than ${against}`;
}

/** The instances whose service for `app` differs from `expected` (or, when unknown, from the first instance that has one). */
export function divergedInstances(
  app: string,
  expected: ExpectedService,
  observed: readonly ObservedConfig[],
): DivergedInstance[] {
  const services = observed.map((o) => ({
    instance: o.instance,
    service: o.config.services.find((s) => s.name === app),
  }));
  const first = services.find((s) => s.service !== undefined);
  const reference = expected === undefined ? first?.service : (expected ?? undefined);
  const against = expected === undefined ? (first?.instance ?? '') : 'what was set through this router';
  const diverged: DivergedInstance[] = [];
  for (const { instance, service } of services) {
    const reason = difference(service, reference, against);
    if (reason !== undefined) diverged.push({ instance, reason });
  }
  return diverged;
}

/**
 * True when `router` can diverge and its routes are due to be read back: never read back
 * yet, or last read `intervalMs` ago. Always false, at the cost of one property read, for a
 * router that cannot diverge, so ticks over an in-process router do no extra work.
 */
export function routeCheckDue(
  router: TrafficRouter,
  lastCheckedAt: number | undefined,
  now: number,
  intervalMs = DEFAULT_ROUTE_CHECK_MS,
): boolean {
  return router.canDiverge === true && (lastCheckedAt === undefined || now - lastCheckedAt >= intervalMs);
}

/**
 * Reads an app's routes back: undefined when the router holds them, else the error that
 * says why not (diverged, unknown app, an instance unreachable). Rejects only when `signal`
 * aborted.
 */
export async function routeDivergence(
  router: TrafficRouter,
  app: string,
  signal?: AbortSignal,
): Promise<Error | undefined> {
  try {
    await router.getRoutes(app, signal);
    return undefined;
  } catch (error) {
    if (signal?.aborted) throw error;
    return error instanceof Error ? error : new Error(String(error));
  }
}
