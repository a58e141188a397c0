/**
 * The release manager: runs an app from one file of versions and weights, as a Helm values
 * file's `canaryConfig` list did on App Mesh (docs/adr/0007-release-file.md).
 * Each entry runs as target app `<app>-<entry>` (role `primary`) and is a version of the
 * app's route. An edit starts new entries and waits for them, then sets the weights in one
 * router change; a removed entry goes to weight 0, leaves routing after the drain time, and
 * only then are its processes stopped. An app the rollout controller drives is handed over
 * once its rollout is settled. See docs/adr/0007-release-file.md.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppSpec } from '../../config/app-schema.js';
import { ConfigError } from '../../config/config-error.js';
import type { Release } from '../../config/release-schema.js';
import { AviaryError } from '../../errors.js';
import type { ProcessSpec } from '../../target/process/version-spec.js';
import { emptyManagedRelease, ManagedReleases, type ManagedRelease } from './managed-releases.js';
import { KeyedQueue } from '../../keyed-queue.js';
import { entrySpecs, revertEntries, startEntries, stopEntries } from './release-entries.js';
import { entryArtifactsOrThrow, parseWithArtifacts } from './release-artifacts.js';
import { assertNoCollision, assertSettled } from './release-handover.js';
import {
  releaseSettingsOf,
  releaseTimingsOf,
  type ReleaseManagerOptions,
  type ReleaseTimings,
} from './release-manager-options.js';
import { releaseChanges, type ReleaseChanges } from './release-plan.js';
import { ReleaseRouteSync } from './release-route-sync.js';
import { ReleaseStore } from './release-store.js';
import { waitForEntries } from './release-readiness.js';
import {
  describeRelease,
  ReleaseEventLog,
  releaseRolloutView,
  type ReleaseEvent,
  type ReleaseRolloutView,
  type ReleaseView,
} from './release-view.js';

export type { ReleaseControllerPort } from './release-handover.js';
export type { ReleaseManagerOptions } from './release-manager-options.js';

/** What `apply` did. */
export interface ReleaseResult extends ReleaseChanges {
  readonly app: string;
  /** True when the app was taken over from the rollout controller by this apply. */
  readonly handedOver: boolean;
  readonly release: ReleaseView;
}

/**
 * Runs apps from release files; emits `event` ({@link ReleaseEvent}) and, after each event of
 * an app it runs, `status` ({@link ReleaseRolloutView}), as the rollout controller does.
 */
export class ReleaseManager extends EventEmitter {
  readonly #options: ReleaseManagerOptions;
  readonly #timings: ReleaseTimings;
  readonly #store: ReleaseStore;
  readonly #managed: ManagedReleases;
  readonly #restored = new Map<string, { release: Release; draining: readonly string[] }>();
  readonly #applying = new KeyedQueue();
  readonly #events = new ReleaseEventLog();
  readonly #abort = new AbortController();
  readonly #routes: ReleaseRouteSync;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ReleaseManagerOptions) {
    super();
    this.#options = options;
    this.#timings = releaseTimingsOf(options);
    this.#store = new ReleaseStore(options.stateDir);
    this.#managed = new ManagedReleases(() => options.apps());
    this.#routes = new ReleaseRouteSync(options.target, options.router, this.#abort.signal);
  }

  /** Reads the releases of a previous run and claims their apps. Call before the controller starts. */
  async load(): Promise<void> {
    const documents = await this.#store.loadAll((file, message) =>
      this.#event('', 'StateUnreadable', `${file}: ${message}`, 'warning'),
    );
    for (const doc of documents) {
      this.#restored.set(doc.app, { release: doc.release, draining: doc.draining });
      this.#options.guard.claim(doc.app);
    }
  }

  /** Brings loaded releases back (adopted processes keep running) and starts re-reading endpoints. */
  async start(): Promise<void> {
    await this.#options.target.recover(this.#abort.signal);
    for (const [app, saved] of this.#restored) {
      await this.#applying
        .run(app, async () => {
          const template = this.#managed.templateOf(app);
          this.#managed.set(app, this.#emptyManaged(template, saved.release, saved.draining));
          await this.#applyRelease(template, saved.release, 'restore');
        })
        .catch((err: unknown) => this.#event(app, 'RestoreFailed', (err as Error).message, 'warning'));
    }
    this.#restored.clear();
    this.#timer = setInterval(() => this.#syncAll(), this.#timings.syncMs);
    this.#timer.unref();
  }

  /** True when the app is run from a release file (or will be, once `start` restores it). */
  owns(app: string): boolean {
    return this.#managed.has(app) || this.#restored.has(app);
  }

  /** Apps run from release files. */
  apps(): string[] {
    return this.#managed.apps();
  }

  /** True when a running release names (`app`, `tag`) or runs an entry in `dir`: see {@link ManagedReleases.usesArtifact}. */
  usesArtifact(app: string, tag: string, dir: string): boolean {
    return this.#managed.usesArtifact(app, tag, dir);
  }

  /**
   * Validates and applies a release document to `app`. An invalid document, a version that
   * does not become ready, or an app in the middle of a canary analysis leaves the running
   * split as it was and rejects: `AVIARY_CONFIG_INVALID` (issues name the entry),
   * `AVIARY_RELEASE_NOT_READY`, `AVIARY_RELEASE_CONFLICT`; an app not in aviary.yaml is
   * `AVIARY_NOT_FOUND`. Resolves once removed entries are drained and stopped.
   */
  apply(app: string, document: unknown, by = 'api'): Promise<ReleaseResult> {
    return this.#applying.run(app, async () => {
      const template = this.#managed.templateOf(app);
      const settings = releaseSettingsOf(this.#options, template);
      const checked = await parseWithArtifacts(this.#options.resolveArtifact, app, document, settings);
      if (!checked.ok) {
        const paths = checked.issues.map((issue) => issue.path || '(root)').join(', ');
        this.#event(app, 'ReleaseRejected', `release from ${by} rejected (${paths}); split kept`, 'warning');
        throw new ConfigError(`release of app ${app}`, checked.issues);
      }
      const { release, artifacts } = checked.value;
      return this.#applyRelease(template, release, 'edit', by, artifacts);
    });
  }

  /** Re-applies releases whose template (process or exposure) changed in a new `aviary.yaml`. */
  updateApps(apps: readonly AppSpec[]): void {
    for (const template of apps) {
      const managed = this.#managed.get(template.name);
      if (!managed || JSON.stringify(managed.template) === JSON.stringify(template)) continue;
      void this.#applying
        .run(template.name, () =>
          this.#applyRelease(template, this.#managed.get(template.name)!.release, 'edit', 'aviary.yaml'),
        )
        .catch((err: unknown) =>
          this.#event(template.name, 'TemplateUpdateFailed', (err as Error).message, 'warning'),
        );
    }
  }

  /** Re-reads the endpoints of the release that runs `targetApp` into the routes (a replica is leaving). */
  async resync(targetApp: string): Promise<void> {
    for (const app of this.#managed.appsRunning(targetApp)) await this.#sync(app);
  }

  /** The running release with readiness and each version's share of the routed traffic. */
  async view(app: string): Promise<ReleaseView> {
    const managed = this.#managed.get(app);
    if (!managed) {
      throw new AviaryError(
        'AVIARY_NOT_FOUND',
        `app ${app} is not run from a release file; apply one first (aviary apply -f release.yaml --app ${app})`,
      );
    }
    const routes = await this.#options.router.getRoutes(app).catch(() => undefined);
    return describeRelease(this.#options.target, app, managed, routes);
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

  /** Stops re-reading endpoints and cancels applies in progress. Processes are the target's to stop. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#abort.abort();
    await Promise.allSettled([this.#applying.settled(), this.#routes.idle()]);
  }

  async #applyRelease(
    template: AppSpec,
    release: Release,
    mode: 'edit' | 'restore',
    by = 'restart',
    resolvedArtifacts?: ReadonlyMap<string, string>,
  ): Promise<ReleaseResult> {
    const { target, controller } = this.#options;
    const app = template.name;
    const signal = this.#abort.signal;
    const settings = releaseSettingsOf(this.#options, template);
    const previous = this.#managed.get(app);
    const handedOver = previous === undefined && (controller?.apps().includes(app) ?? false);
    if (handedOver && controller) assertSettled(controller, app);
    assertNoCollision(app, release, this.#managed.takenNames(app));
    const artifacts =
      resolvedArtifacts ??
      (await entryArtifactsOrThrow(this.#options.resolveArtifact, app, release, settings));
    const specs = entrySpecs(template, release, settings, artifacts);
    const running = mode === 'restore' ? new Map<string, ProcessSpec>() : (previous?.specs ?? new Map());
    const changes = releaseChanges(running, specs);
    await startEntries(target, app, specs, changes, signal);
    try {
      await waitForEntries(target, app, release, specs, changes, settings.readyTimeout, signal);
    } catch (err) {
      if (mode === 'edit') await revertEntries(target, app, running, changes);
      this.#event(app, 'ReleaseNotReady', `${(err as Error).message}`, 'warning');
      if (mode === 'edit') throw err;
    }
    const draining = new Set([...(previous?.draining ?? []), ...changes.removed]);
    const managed: ManagedRelease = { ...this.#emptyManaged(template, release, [...draining]), specs };
    this.#managed.set(app, managed);
    if (handedOver) this.#options.guard.claim(app);
    await this.#sync(app);
    await this.#persist(managed);
    const split = release.entries.map((e) => `${e.name} ${e.tag} ${e.weight}`).join(', ');
    this.#event(app, 'ReleaseApplied', `release from ${by} applied: ${split}`, 'info');
    if (handedOver && controller) {
      await sleep(this.#timings.drainMs, undefined, { signal });
      this.#events.prepend(app, controller.events(app));
      await controller.remove(app);
      this.#event(app, 'HandedOver', `app ${app} taken over from the rollout controller`, 'info');
    }
    if (draining.size > 0) await this.#drain(app, managed, [...draining], signal);
    return { app, handedOver, ...changes, release: await this.view(app) };
  }

  async #drain(
    app: string,
    managed: ManagedRelease,
    names: readonly string[],
    signal: AbortSignal,
  ): Promise<void> {
    const list = names.join(', ');
    this.#event(app, 'Draining', `${list}: weight 0, requests in flight finish`, 'info');
    await sleep(this.#timings.drainMs, undefined, { signal });
    for (const name of names) managed.draining.delete(name);
    await this.#sync(app);
    this.#event(app, 'RemovedFromRouting', `${list}: out of routing`, 'info');
    await stopEntries(this.#options.target, app, names, signal);
    await this.#persist(managed);
    this.#event(app, 'VersionsStopped', `${list}: processes stopped`, 'info');
  }

  #emptyManaged(template: AppSpec, release: Release, draining: readonly string[]): ManagedRelease {
    return emptyManagedRelease(template, release, draining, this.#now());
  }

  #sync(app: string): Promise<void> {
    return this.#routes.sync(app, () => this.#managed.get(app));
  }

  #syncAll(): void {
    for (const app of this.#managed.apps()) {
      if (this.#routes.busy(app)) continue;
      this.#sync(app).catch((err: unknown) => {
        if (!this.#abort.signal.aborted) this.#event(app, 'SyncFailed', (err as Error).message, 'warning');
      });
    }
  }

  #persist({ template, release, draining, appliedAt }: ManagedRelease): Promise<void> {
    return this.#store.save({ version: 1, app: template.name, release, draining: [...draining], appliedAt });
  }

  #event(app: string, reason: string, message: string, severity: ReleaseEvent['severity']): void {
    const event: ReleaseEvent = { at: this.#now(), app, reason, message, severity };
    if (!this.#events.record(event)) return;
    this.emit('event', event);
    if (!this.#managed.has(app)) return;
    this.rolloutView(app).then(
      (view) => this.emit('status', view),
      () => undefined,
    );
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}
