/**
 * Release files on Kubernetes (issue 14, docs/adr/0024-releases-on-kubernetes.md): the
 * operator's counterpart of the release manager. Each entry of a release document runs as a
 * Deployment and a Service `<app>-<entry>`; the app's HTTPRoute `<app>` carries one weighted
 * `backendRef` per entry, as the seed's App Mesh router carried weighted targets. An apply,
 * one at a time per app: Deployments and Services first, then wait until every entry is
 * rolled out, then the weights in one HTTPRoute change (counted once its gateways accept it);
 * a removed entry stays routed at weight 0 for the drain time, then leaves the route, and only
 * then are its Deployment and Service deleted. The applied release lives in an annotation of
 * the HTTPRoute, so a restarted operator knows it and finishes a drain it was in.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { DEFAULT_RELEASE_SETTINGS, parseReleaseDocument, targetAppOf } from '../config/release-schema.js';
import { AviaryError } from '../errors.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { KubeApi, ObjectRef } from '../kubernetes/kube-api.js';
import { GATEWAY_API_VERSION, type HttpRoute } from '../router/gateway-api/http-route.js';
import { waitUntilAccepted } from '../router/gateway-api/route-acceptance.js';
import type { ReleaseResult } from '../rollout/releases/release-manager.js';
import { sharesOf } from '../rollout/releases/release-plan.js';
import {
  ReleaseEventLog,
  releaseRolloutView,
  type ReleaseEvent,
  type ReleaseRolloutView,
  type ReleaseView,
} from '../rollout/releases/release-view.js';
import {
  appliedReleaseOf,
  belongsTo,
  RELEASE_LABEL,
  releaseRoute,
  routeWeightsOf,
  type AppliedRelease,
} from './release-objects.js';
import { releaseTemplateOf, type ReleaseTemplateDefaults } from './release-template.js';
import { ReleaseEntryObjects } from './cluster-release-entries.js';
import { clusterReleaseChanges } from './cluster-release-plan.js';

/** How the operator runs release files; every field has a default. */
export interface ClusterReleaseOptions {
  /** Image repository, port, replicas and Gateways of every app's entries (see release-template.ts). */
  readonly defaults?: ReleaseTemplateDefaults;
  /** Tags accepted besides `v1.2.3`-style ones (e.g. a pipeline's short SHAs); default none. */
  readonly allowedTags?: readonly string[];
  /** How long a removed entry stays routed at weight 0 before it is deleted; default 10 s. */
  readonly drainMs?: number;
  /** How long new or changed entries may take to roll out before the edit is undone; default 60 s. */
  readonly readyTimeoutMs?: number;
  /** How long a weight change waits for the gateways to accept the HTTPRoute; default 10 s. */
  readonly acceptanceTimeoutMs?: number;
  /** Time between reads while waiting; default 250 ms. */
  readonly pollMs?: number;
}

const DEFAULTS = { drainMs: 10_000, readyTimeoutMs: 60_000, acceptanceTimeoutMs: 10_000, pollMs: 250 };

/** Runs release files as Deployments, Services and one HTTPRoute per app in one namespace. */
export class ClusterReleases extends EventEmitter {
  readonly #api: KubeApi;
  readonly #namespace: string;
  readonly #options: ClusterReleaseOptions & typeof DEFAULTS;
  readonly #queue = new KeyedQueue();
  readonly #events = new ReleaseEventLog();
  readonly #abort = new AbortController();
  readonly #apps = new Set<string>();
  readonly #entries: ReleaseEntryObjects;

  constructor(api: KubeApi, namespace: string, options: ClusterReleaseOptions = {}) {
    super();
    this.#api = api;
    this.#namespace = namespace;
    this.#options = { ...DEFAULTS, ...options };
    this.#entries = new ReleaseEntryObjects(api, namespace);
  }

  /** Finds the releases in the namespace and finishes any drain a previous run left unfinished. */
  async start(): Promise<void> {
    const routes = await this.#api.list<HttpRoute>(
      GATEWAY_API_VERSION,
      'HTTPRoute',
      this.#namespace,
      RELEASE_LABEL,
    );
    for (const route of routes) {
      const app = route.metadata?.labels?.[RELEASE_LABEL] ?? '';
      const state = appliedReleaseOf(route);
      if (state === undefined || app !== route.metadata?.name) continue;
      this.#apps.add(app);
      if (state.draining.length > 0)
        void this.#queue
          .run(app, () => this.#finishDrain(app, state, this.#options.drainMs))
          .catch((error: unknown) => this.#event(app, 'DrainFailed', (error as Error).message, 'warning'));
    }
  }

  /** Apps run from release files in the namespace. */
  apps(): string[] {
    return [...this.#apps].sort();
  }

  /**
   * Validates and applies a release document to `app`. Rejects, leaving the running split as
   * it was: `AVIARY_CONFIG_INVALID` (issues name the entry or the values key),
   * `AVIARY_RELEASE_NOT_READY` (new and changed entries are undone), `AVIARY_RELEASE_CONFLICT`
   * (an object of that name that is not this release's, e.g. a Canary's HTTPRoute). Resolves
   * once removed entries are drained and deleted.
   */
  apply(app: string, document: unknown, by = 'api'): Promise<ReleaseResult> {
    return this.#queue.run(app, () => this.#apply(app, document, by));
  }

  /** The running release: each entry's tag, weight, share of the route and rolled-out replicas. */
  async view(app: string): Promise<ReleaseView> {
    const route = await this.#api.read<HttpRoute>(this.#routeRef(app));
    const state = belongsTo(route, app) ? appliedReleaseOf(route) : undefined;
    if (state === undefined)
      throw new AviaryError(
        'AVIARY_NOT_FOUND',
        `app ${app} is not run from a release file in namespace ${this.#namespace}; apply one first (aviary apply -f release.yaml --app ${app})`,
      );
    const shares = sharesOf(routeWeightsOf(app, route));
    const versions = await Promise.all(
      state.entries.map(async (entry) => {
        const deployment = await this.#api.read<V1Deployment>(
          this.#entries.ref(['apps/v1', 'Deployment'], app, entry.name),
        );
        return {
          name: entry.name,
          tag: entry.tag,
          weight: entry.weight,
          share: shares[entry.name] ?? 0,
          targetApp: targetAppOf(app, entry.name),
          revision: deployment?.spec?.template.spec?.containers[0]?.image ?? null,
          readyReplicas: deployment?.status?.readyReplicas ?? 0,
          desiredReplicas: deployment?.spec?.replicas ?? 0,
          pids: [],
        };
      }),
    );
    return { app, appliedAt: state.appliedAt, versions, draining: [...state.draining] };
  }

  /** The release as the control API lists it beside the rollouts (`kind: 'release'`). */
  async rolloutView(app: string): Promise<ReleaseRolloutView> {
    return releaseRolloutView(await this.view(app));
  }

  /** Recent events of one app, oldest first. */
  events(app: string): readonly ReleaseEvent[] {
    return this.#events.of(app);
  }

  /** Recent events of every app (or of `app`) after `since` (ms), oldest first. */
  eventsSince(since: number, app?: string): ReleaseEvent[] {
    return this.#events.since(since, app);
  }

  /** Cancels applies and drains in progress; the cluster's objects stay as they are. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#queue.settled();
  }

  async #apply(app: string, document: unknown, by: string): Promise<ReleaseResult> {
    const settings = { ...DEFAULT_RELEASE_SETTINGS, allowedTags: [...(this.#options.allowedTags ?? [])] };
    const parsed = parseReleaseDocument(document, { app, settings });
    const template = releaseTemplateOf(app, document, this.#options.defaults ?? {});
    if (!parsed.ok || !template.ok) {
      const issues: ConfigIssue[] = [
        ...(parsed.ok ? [] : parsed.issues),
        ...(template.ok ? [] : template.issues),
      ];
      const paths = issues.map((issue) => issue.path || '(root)').join(', ');
      this.#event(app, 'ReleaseRejected', `release from ${by} rejected (${paths}); split kept`, 'warning');
      throw new ConfigError(`release of app ${app}`, issues);
    }
    const { entries } = parsed.value;
    const route = await this.#api.read<HttpRoute>(this.#routeRef(app));
    if (route !== undefined && !belongsTo(route, app))
      throw this.#conflict(app, `HTTPRoute ${this.#namespace}/${app}`);
    const previous = appliedReleaseOf(route);
    const selector = `${RELEASE_LABEL}=${app}`;
    const [deployments, services] = await Promise.all([
      this.#api.list<V1Deployment>('apps/v1', 'Deployment', this.#namespace, selector),
      this.#api.list<V1Service>('v1', 'Service', this.#namespace, selector),
    ]);
    const changes = clusterReleaseChanges(entries, template.value, { deployments, services, previous });
    const { started, updated, removed } = changes;
    for (const name of started) {
      const foreign = await this.#entries.foreign(app, name);
      if (foreign !== undefined) throw this.#conflict(app, foreign);
    }
    await this.#entries.apply(app, entries, template.value);
    try {
      const names = entries.map((e) => e.name);
      await this.#entries.waitRolledOut(app, names, {
        timeoutMs: this.#options.readyTimeoutMs,
        pollMs: this.#options.pollMs,
        signal: this.#abort.signal,
      });
    } catch (error) {
      await this.#entries.undo(app, started, updated, previous);
      this.#event(app, 'ReleaseNotReady', (error as Error).message, 'warning');
      throw error;
    }
    const routed = routeWeightsOf(app, route);
    const state: AppliedRelease = {
      entries,
      draining: removed.filter((name) => name in routed),
      template: template.value,
      appliedAt: Date.now(),
      by,
    };
    await this.#applyRoute(app, state);
    this.#apps.add(app);
    const split = entries.map((e) => `${e.name}=${e.weight}`).join(', ');
    this.#event(app, 'ReleaseApplied', `release from ${by}: ${split}`, 'info');
    if (removed.length > 0)
      await this.#finishDrain(
        app,
        { ...state, draining: removed },
        state.draining.length > 0 ? this.#options.drainMs : 0,
      );
    const release = await this.view(app);
    this.emit('status', releaseRolloutView(release));
    return { app, handedOver: false, ...changes, release };
  }

  /** After `drainMs`, takes the draining entries off the route, then deletes their objects. */
  async #finishDrain(app: string, state: AppliedRelease, drainMs: number): Promise<void> {
    if (drainMs > 0) {
      this.#event(app, 'Draining', `${state.draining.join(', ')} at weight 0 for ${drainMs} ms`, 'info');
      await sleep(drainMs, undefined, { signal: this.#abort.signal });
    }
    await this.#applyRoute(app, { ...state, draining: [] });
    await this.#entries.delete(app, state.draining);
    this.#event(app, 'EntriesRemoved', `drained, then deleted ${state.draining.join(', ')}`, 'info');
  }

  /** Applies the route in `state` and waits until its gateways accept it. */
  async #applyRoute(app: string, state: AppliedRelease): Promise<void> {
    const applied = await this.#api.apply(releaseRoute(app, this.#namespace, state));
    await waitUntilAccepted(`${this.#namespace}/${app}`, applied.metadata?.generation ?? 0, {
      read: () => this.#api.read<HttpRoute>(this.#routeRef(app)),
      timeoutMs: this.#options.acceptanceTimeoutMs,
      intervalMs: this.#options.pollMs,
      signal: this.#abort.signal,
    });
  }

  #conflict(app: string, object: string): AviaryError {
    return new AviaryError(
      'AVIARY_RELEASE_CONFLICT',
      `release of app ${app}: ${object} exists and is not part of this release (no label ${RELEASE_LABEL}=${app}); Aviary does not take over objects it did not create: rename the app or the entry, or delete that object`,
    );
  }

  #routeRef(app: string): ObjectRef {
    return { apiVersion: GATEWAY_API_VERSION, kind: 'HTTPRoute', namespace: this.#namespace, name: app };
  }

  #event(app: string, reason: string, message: string, severity: 'info' | 'warning'): void {
    const event: ReleaseEvent = { at: Date.now(), app, reason, message, severity };
    if (this.#events.record(event)) this.emit('event', event);
  }
}
