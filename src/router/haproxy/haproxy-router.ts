/**
 * `router.kind: haproxy`: a {@link TrafficRouter} over a real HAProxy that Aviary runs. Each
 * call computes the plans of every app (haproxy-plan.ts); when only slot addresses, weights
 * or states differ from what HAProxy runs, they change through the Runtime API, otherwise the
 * whole configuration is rendered, checked and reloaded seamlessly. A change HAProxy refuses
 * leaves the router's model and HAProxy as they were. One change at a time.
 */
import { AviaryError } from '../../errors.js';
import { KeyedQueue } from '../../keyed-queue.js';
import { assertRoutable, reconciledState } from '../service-config.js';
import { addressesOf, type AppRouteSpec, type RouteState, type TrafficRouter } from '../traffic-router.js';
import { renderHaproxyConfig, type HaproxyRuntimeSettings } from './haproxy-config.js';
import { appPlanFor, slotCountsFor, structureOf, type AppPlan, type SlotCounts } from './haproxy-plan.js';
import type { HaproxyProcess } from './haproxy-process.js';
import { runtimeCommands, planCommands } from './haproxy-runtime-api.js';

/** What the router needs of the running HAProxy (a {@link HaproxyProcess}). */
export type HaproxyControl = Pick<HaproxyProcess, 'reload' | 'workerPid' | 'masterSocket'>;

interface AppEntry {
  readonly spec: AppRouteSpec;
  readonly state: RouteState;
  readonly slots: SlotCounts;
  readonly plan: AppPlan;
}

/** The state as the built-in router keeps it: weights and the A/B version only of versions that can answer. */
function routableState(spec: AppRouteSpec, state: RouteState): RouteState {
  const routable = new Set(
    spec.versions.filter((v) => addressesOf(v, spec.app).length > 0).map((v) => v.name),
  );
  const weights = Object.fromEntries(Object.entries(state.weights).filter(([v]) => routable.has(v)));
  const ab = state.abTesting && routable.has(state.abTesting.version) ? { abTesting: state.abTesting } : {};
  return { weights, ...ab };
}

/** {@link TrafficRouter} over HAProxy; see the module header. */
export class HaproxyRouter implements TrafficRouter {
  readonly kind = 'haproxy';
  readonly #apps = new Map<string, AppEntry>();
  readonly #queue = new KeyedQueue();
  #structure = structureOf([]);
  /** Reloads since start (a test and the ADR's claim: endpoint and weight changes need none). */
  reloads = 0;

  constructor(
    private readonly haproxy: HaproxyControl,
    private readonly settings: HaproxyRuntimeSettings,
    private readonly slotsPerVersion: number,
  ) {}

  /** The whole configuration of what the router holds now, to start HAProxy again on it. */
  currentConfig(): string {
    return renderHaproxyConfig(
      this.settings,
      [...this.#apps.values()].map((e) => e.plan),
    );
  }

  /** Which app and version a log line's backend and server slot belong to. */
  readonly resolveSlot = (backend: string, server: string): { app: string; version: string } | undefined => {
    const app = backend.replace(/^(app|ab)\./, '');
    const cut = server.lastIndexOf(':');
    if (app === backend || cut <= 0) return undefined;
    return { app, version: server.slice(0, cut) };
  };

  async reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return this.#queue.run('haproxy', async () => {
      const current = this.#apps.get(spec.app);
      const state = reconciledState(current?.state, spec);
      const next = new Map(this.#apps);
      if (state === null) next.delete(spec.app);
      else {
        const slots = slotCountsFor(spec, current?.slots, this.slotsPerVersion);
        const routable = routableState(spec, state);
        next.set(spec.app, {
          spec,
          state: routable,
          slots,
          plan: appPlanFor(spec, routable, slots, current?.plan),
        });
      }
      await this.#apply(next, signal);
    });
  }

  async setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return this.#queue.run('haproxy', async () => {
      const current = this.#entryOf(app);
      assertRoutable(current.spec, state);
      const routable = routableState(current.spec, state);
      const plan = appPlanFor(current.spec, state, current.slots, current.plan);
      await this.#apply(new Map(this.#apps).set(app, { ...current, state: routable, plan }), signal);
    });
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- errors must reject, not throw
  async getRoutes(app: string, signal?: AbortSignal): Promise<RouteState> {
    signal?.throwIfAborted();
    return structuredClone(this.#entryOf(app).state);
  }

  async finalize(app: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return this.#queue.run('haproxy', async () => {
      const next = new Map(this.#apps);
      next.delete(app);
      await this.#apply(next, signal);
    });
  }

  /** The app's entry, or `AVIARY_ROUTE_UNKNOWN_APP`. */
  #entryOf(app: string): AppEntry {
    const entry = this.#apps.get(app);
    if (!entry)
      throw new AviaryError(
        'AVIARY_ROUTE_UNKNOWN_APP',
        `app ${app} has no routes on this router; reconcile it first`,
      );
    return entry;
  }

  /** Makes HAProxy run `next`: Runtime API commands when the structure is unchanged, else a reload. */
  async #apply(next: Map<string, AppEntry>, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const before = [...this.#apps.values()].map((e) => e.plan);
    const after = [...next.values()].map((e) => e.plan);
    const structure = structureOf(after);
    if (structure === this.#structure) {
      const commands = planCommands(before, after);
      await runtimeCommands(this.haproxy.masterSocket, this.haproxy.workerPid, commands, signal).catch(
        (err: unknown) => {
          // Some commands may have run: the next change renders and reloads the whole model.
          this.#structure = '';
          throw err;
        },
      );
    } else {
      await this.haproxy.reload(renderHaproxyConfig(this.settings, after), signal);
      this.#structure = structure;
      this.reloads++;
    }
    this.#apps.clear();
    for (const [app, entry] of next) this.#apps.set(app, entry);
  }
}
