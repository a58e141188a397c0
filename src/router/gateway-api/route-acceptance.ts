/**
 * Whether the gateways an HTTPRoute attaches to have accepted its current generation, and
 * waiting for it. A gateway controller reports per parent in `status.parents[]`; its
 * `Accepted` condition with `observedGeneration` >= the route's `metadata.generation` says the
 * route as written now is (or is not) programmed — an older entry speaks of an older spec
 * (https://gateway-api.sigs.k8s.io/reference/spec/#routeparentstatus). Flagger's Gateway API
 * router checks the same before a step counts.
 */
import { AviaryError } from '../../errors.js';
import { GATEWAY_GROUP, type HttpRoute, type ParentReference, type RouteCondition } from './http-route.js';

/** What the parents say about a route's generation. */
export type Acceptance =
  | { readonly kind: 'accepted' }
  /** Parents with no verdict on this generation yet, each with what it last said. */
  | { readonly kind: 'pending'; readonly waiting: readonly string[] }
  | { readonly kind: 'refused'; readonly parent: string; readonly condition: RouteCondition };

function sameParent(a: ParentReference, b: ParentReference, routeNamespace: string): boolean {
  return (
    (a.group ?? GATEWAY_GROUP) === (b.group ?? GATEWAY_GROUP) &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.namespace ?? routeNamespace) === (b.namespace ?? routeNamespace) &&
    a.name === b.name &&
    a.sectionName === b.sectionName &&
    a.port === b.port
  );
}

/** `Gateway shop/public` (and `/listener`, `:port` when the ref names them). */
export function describeParent(ref: ParentReference, routeNamespace: string): string {
  const section = ref.sectionName !== undefined ? `/${ref.sectionName}` : '';
  const port = ref.port !== undefined ? `:${ref.port}` : '';
  return `${ref.kind ?? 'Gateway'} ${ref.namespace ?? routeNamespace}/${ref.name}${section}${port}`;
}

function describeCondition(condition: RouteCondition | undefined, generation: number): string {
  if (condition === undefined) return 'no Accepted condition';
  const reason = condition.reason !== undefined ? ` (${condition.reason})` : '';
  return `Accepted=${condition.status}${reason} at generation ${condition.observedGeneration ?? '?'}, route at ${generation}`;
}

/** The parents' verdict on the route's current generation; a refusal by any parent wins. */
export function acceptanceOf(route: HttpRoute): Acceptance {
  const namespace = route.metadata?.namespace ?? '';
  const generation = route.metadata?.generation ?? 0;
  const statuses = route.status?.parents ?? [];
  const waiting: string[] = [];
  for (const ref of route.spec.parentRefs) {
    const parent = describeParent(ref, namespace);
    const conditions = statuses
      .filter((s) => sameParent(s.parentRef, ref, namespace))
      .map((s) => s.conditions?.find((c) => c.type === 'Accepted'));
    const current = conditions.filter(
      (c): c is RouteCondition => c !== undefined && (c.observedGeneration ?? -1) >= generation,
    );
    if (current.some((c) => c.status === 'True')) continue;
    const refusal = current.find((c) => c.status === 'False');
    if (refusal) return { kind: 'refused', parent, condition: refusal };
    const last = conditions.find((c) => c !== undefined);
    waiting.push(
      `${parent}: ${conditions.length === 0 ? 'no status from its controller' : describeCondition(last, generation)}`,
    );
  }
  return waiting.length === 0 ? { kind: 'accepted' } : { kind: 'pending', waiting };
}

/** A route its gateways did not accept: refused, or no verdict within the wait. */
export class RouteNotAcceptedError extends AviaryError {
  /** `namespace/name` of the HTTPRoute. */
  readonly route: string;
  readonly acceptance: Exclude<Acceptance, { kind: 'accepted' }>;

  constructor(
    route: string,
    generation: number,
    acceptance: Exclude<Acceptance, { kind: 'accepted' }>,
    waitedMs: number,
  ) {
    const detail =
      acceptance.kind === 'refused'
        ? `${acceptance.parent} refused generation ${generation}: Accepted=False, reason ${acceptance.condition.reason ?? '(none)'}: ${acceptance.condition.message ?? ''}`
        : `not accepted at generation ${generation} within ${waitedMs} ms: ${acceptance.waiting.join('; ')}`;
    super(
      'AVIARY_ROUTER_UNAVAILABLE',
      `HTTPRoute ${route}: ${detail}; check the Gateway's listeners (allowedRoutes, hostnames) and that its controller runs`,
    );
    this.route = route;
    this.acceptance = acceptance;
  }
}

/** Options of {@link waitUntilAccepted}. */
export interface AcceptanceWait {
  /** Reads the route now (undefined: it is gone). */
  readonly read: () => Promise<HttpRoute | undefined>;
  /** How long to wait for a verdict; the router's default is 10 s. */
  readonly timeoutMs: number;
  /** Time between reads. */
  readonly intervalMs: number;
  readonly signal?: AbortSignal | undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves once every parent has accepted the route at `generation` or later; rejects with a
 * {@link RouteNotAcceptedError} as soon as one refuses it, or when `timeoutMs` passes without a
 * verdict, and with the signal's reason when it is aborted.
 */
export async function waitUntilAccepted(
  name: string,
  generation: number,
  wait: AcceptanceWait,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    wait.signal?.throwIfAborted();
    const route = await wait.read();
    wait.signal?.throwIfAborted();
    if (route === undefined)
      throw new AviaryError(
        'AVIARY_ROUTER_UNAVAILABLE',
        `HTTPRoute ${name}: deleted while waiting for its gateways to accept it`,
      );
    // A newer generation (someone else wrote the route meanwhile) must be accepted too.
    const current = Math.max(generation, route.metadata?.generation ?? 0);
    const acceptance = acceptanceOf(route);
    if (acceptance.kind === 'accepted') return;
    const waited = Date.now() - started;
    if (acceptance.kind === 'refused' || waited >= wait.timeoutMs)
      throw new RouteNotAcceptedError(name, current, acceptance, wait.timeoutMs);
    await sleep(Math.min(wait.intervalMs, wait.timeoutMs - waited), wait.signal);
  }
}
