/**
 * Executes the state machine's actions at the edge: processes through the target, routes
 * through the router, hooks, alerts and events. Routing always follows what is ready: a
 * role without ready endpoints gets no traffic, whatever the weights say.
 */
import type { AppSpec } from '../../config/app-schema.js';
import type { AlertDispatcher } from '../../notify/alert-dispatcher.js';
import type { AlertEvent } from '../../notify/alert-types.js';
import type { Target, VersionRole, VersionSpec } from '../../target/target.js';
import { routeCheckDue, routeDivergence } from '../../router/route-divergence.js';
import type { RouteState, TrafficRouter } from '../../router/traffic-router.js';
import type { RolloutAction } from '../step/actions.js';
import { appRouteSpec, routeStateOf, type RoleEndpoints } from './app-routes.js';
import type { RolloutStatus } from '../step/rollout-status.js';
import type { WebhookClient } from '../webhooks/webhook-client.js';
import { runWebhookStage, sendEventToHooks } from '../webhooks/webhook-verdict.js';

/** One entry of a rollout's event history. */
export interface RolloutEventRecord {
  readonly at: number;
  readonly app: string;
  readonly reason: string;
  readonly message: string;
  readonly severity: 'info' | 'warning';
  readonly phase: string;
  readonly canaryWeight: number;
  /** Check results behind a decision, when the tick ran checks. */
  readonly evidence?: unknown;
}

/** What the executor drives. */
export interface ExecutorDeps {
  readonly target: Target;
  readonly router: TrafficRouter;
  readonly webhooks: WebhookClient;
  readonly alerts: (app: AppSpec) => AlertDispatcher | undefined;
  readonly namespace: string;
  readonly onEvent: (event: RolloutEventRecord) => void;
  readonly onError: (app: string, message: string) => void;
  /**
   * How often the routes of a router that can diverge (`router.canDiverge`, e.g. remote
   * `aviary proxy` instances) are read back and, when they no longer hold, applied again;
   * default 5 s. Routers that cannot diverge are never read back.
   */
  readonly routeCheckMs?: number;
}

/** Routing state remembered per app so endpoint changes can re-apply it. */
export interface AppRouting {
  lastAction: Extract<RolloutAction, { kind: 'set-routes' }>;
  /** What the router was last brought in line with; undefined until then (and after a restart). */
  applied?: { readonly app: AppSpec; readonly action: AppRouting['lastAction']; readonly endpoints: string };
  /** When (`performance.now()`) the routes were last applied or read back. */
  checkedAt?: number;
}

/** Endpoints of both roles as the target reports them now. */
export async function roleEndpoints(target: Target, app: string): Promise<RoleEndpoints> {
  const [primary, canary, baseline] = await Promise.all([
    target.status(app, 'primary'),
    target.status(app, 'canary'),
    target.status(app, 'baseline'),
  ]);
  return {
    primary: primary?.endpoints ?? [],
    canary: canary?.endpoints ?? [],
    baseline: baseline?.endpoints ?? [],
  };
}

/** Drops versions that cannot answer; undefined when nothing can. */
function routable(state: RouteState, endpoints: RoleEndpoints): RouteState | undefined {
  const weights: Record<string, number> = {};
  for (const [version, weight] of Object.entries(state.weights)) {
    if ((endpoints as unknown as Record<string, readonly string[]>)[version]?.length)
      weights[version] = weight;
  }
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  if (total <= 0) {
    // Everything was weighted to a role that has no endpoint: send it to whichever can answer.
    if (endpoints.primary.length > 0) return { weights: { primary: 100 } };
    if (endpoints.canary.length > 0) return { weights: { canary: 100 } };
    return undefined;
  }
  return { ...state, weights };
}

/** Brings the router in line with the target's endpoints and the last route action. */
export async function syncRoutes(
  deps: ExecutorDeps,
  app: AppSpec,
  routing: AppRouting,
  signal: AbortSignal,
): Promise<void> {
  const endpoints = await roleEndpoints(deps.target, app.name);
  // Most ticks change nothing here: the same spec, route action and endpoints as last time.
  const endpointsKey = `${endpoints.primary.join(' ')}|${endpoints.canary.join(' ')}|${(endpoints.baseline ?? []).join(' ')}`;
  const { applied, lastAction } = routing;
  const unchanged =
    applied?.app === app && applied.action === lastAction && applied.endpoints === endpointsKey;
  if (unchanged && !(await routesLost(deps, app.name, routing, signal))) return;
  const state = routable(routeStateOf(app, lastAction, endpoints), endpoints);
  await deps.router.reconcile(appRouteSpec(app, endpoints), signal);
  if (state) await deps.router.setRoutes(app.name, state, signal);
  routing.applied = { app, action: lastAction, endpoints: endpointsKey };
  if (deps.router.canDiverge) routing.checkedAt = performance.now();
}

/**
 * True when the routes applied last no longer hold on a router that can diverge (an
 * instance restarted empty): read back every `routeCheckMs`, and reported as an error event.
 */
async function routesLost(
  deps: ExecutorDeps,
  app: string,
  routing: AppRouting,
  signal: AbortSignal,
): Promise<boolean> {
  if (!deps.router.canDiverge) return false;
  const now = performance.now();
  if (!routeCheckDue(deps.router, routing.checkedAt, now, deps.routeCheckMs)) return false;
  routing.checkedAt = now;
  const divergence = await routeDivergence(deps.router, app, signal);
  if (divergence)
    deps.onError(app, `routes no longer hold on the router; applying them again: ${divergence.message}`);
  return divergence !== undefined;
}

/** Executes one tick's actions in order. */
export async function executeActions(
  deps: ExecutorDeps,
  app: AppSpec,
  specFor: (revision: string) => VersionSpec,
  status: RolloutStatus,
  actions: readonly RolloutAction[],
  routing: AppRouting,
  signal: AbortSignal,
): Promise<void> {
  const context = {
    name: app.name,
    namespace: deps.namespace,
    phase: status.phase,
    checksum: status.lastAppliedSpec,
  };
  const runRevision = (role: VersionRole, revision: string, replicas: number) =>
    deps.target.ensureVersion(app.name, role, deps.target.withReplicas(specFor(revision), replicas), signal);
  // Events and alerts go out once every effect has: an event never tells of a step whose
  // route change or scaling then failed (the controller takes the step again next tick).
  const told = (a: RolloutAction) => a.kind === 'event' || a.kind === 'alert';
  for (const action of [...actions.filter((a) => !told(a)), ...actions.filter(told)]) {
    switch (action.kind) {
      case 'start-canary':
        await runRevision('canary', action.revision, action.replicas);
        break;
      case 'start-baseline':
        await runRevision('baseline', action.revision, action.replicas);
        break;
      case 'promote-spec':
        await runRevision('primary', action.revision, action.replicas);
        break;
      case 'scale':
        await deps.target.scale(app.name, action.role, action.replicas, signal);
        break;
      case 'stop':
        // Traffic leaves the role first; its processes stop only once nothing is routed to them.
        await syncRoutes(deps, app, routing, signal);
        await deps.target.stop(app.name, action.role, signal);
        break;
      case 'set-routes':
        routing.lastAction = action;
        await syncRoutes(deps, app, routing, signal);
        break;
      case 'run-hooks':
        void runWebhookStage(deps.webhooks, app.canary.analysis.webhooks, action.type, {
          ...context,
          phase: action.phase,
        }).catch((err: unknown) => deps.onError(app.name, `post-rollout hooks: ${(err as Error).message}`));
        break;
      case 'alert': {
        const alert: AlertEvent = {
          app: { name: app.name, namespace: deps.namespace },
          severity: action.severity,
          message: action.message,
          fields: [
            { name: 'Phase', value: status.phase },
            { name: 'Canary weight', value: `${status.canaryWeight}%` },
            { name: 'Failed checks', value: String(status.failedChecks) },
          ],
        };
        void deps.alerts(app)?.dispatch(alert);
        break;
      }
      case 'event': {
        deps.onEvent({
          at: Date.now(),
          app: app.name,
          reason: action.reason,
          message: action.message,
          severity: action.severity,
          phase: status.phase,
          canaryWeight: status.canaryWeight,
        });
        void sendEventToHooks(deps.webhooks, app.canary.analysis.webhooks, context, {
          message: action.message,
          type: action.severity === 'warning' ? 'Warning' : 'Normal',
        }).catch(() => undefined);
        break;
      }
    }
  }
}
