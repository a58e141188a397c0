/**
 * What the API and the CLI show of a release: each version with its tag, weight, share of
 * the routed traffic as the router has it now, and readiness; and the manager's events.
 */
import { targetAppOf, type Release } from '../../config/release-schema.js';
import type { RouteState } from '../../router/traffic-router.js';
import type { Target } from '../../target/target.js';
import { sharesOf } from './release-plan.js';

/** One entry of the release manager's history. */
export interface ReleaseEvent {
  readonly at: number;
  /** Empty for events about no particular app (an unreadable state file). */
  readonly app: string;
  readonly reason: string;
  readonly message: string;
  readonly severity: 'info' | 'warning';
}

/** Recent events per app, kept in memory (the newest 100 per app). */
export class ReleaseEventLog {
  readonly #byApp = new Map<string, ReleaseEvent[]>();

  /** Records `event`; returns false, recording nothing, when it repeats the app's last warning. */
  record(event: ReleaseEvent): boolean {
    const history = this.#byApp.get(event.app) ?? [];
    const last = history[history.length - 1];
    if (event.severity === 'warning' && last?.reason === event.reason && last.message === event.message)
      return false;
    history.push(event);
    if (history.length > 100) history.splice(0, history.length - 100);
    this.#byApp.set(event.app, history);
    return true;
  }

  /** Events of `app`, oldest first. */
  of(app: string): readonly ReleaseEvent[] {
    return this.#byApp.get(app) ?? [];
  }

  /**
   * Puts `earlier` (the app's history under the rollout controller, which forgets it on
   * handover) before the app's events, so the history of an app survives its takeover.
   */
  prepend(app: string, earlier: readonly ReleaseEvent[]): void {
    const history = [...earlier, ...(this.#byApp.get(app) ?? [])].sort((a, b) => a.at - b.at);
    this.#byApp.set(app, history.slice(-100));
  }

  /** Events of every app (or of `app`) after `since` (ms), oldest first. */
  since(since: number, app?: string): ReleaseEvent[] {
    const lists = app === undefined ? [...this.#byApp.values()] : [this.of(app)];
    return lists.flatMap((list) => list.filter((e) => e.at > since)).sort((a, b) => a.at - b.at);
  }
}

/** One running version of a release. */
export interface ReleaseVersionView {
  readonly name: string;
  readonly tag: string;
  readonly weight: number;
  /** Percent of the app's routed traffic this version gets now (the router's weights). */
  readonly share: number;
  /** The target app that runs it (`<app>-<name>`, role `primary`). */
  readonly targetApp: string;
  readonly revision: string | null;
  readonly readyReplicas: number;
  readonly desiredReplicas: number;
  readonly pids: readonly number[];
}

/** A running release. */
export interface ReleaseView {
  readonly app: string;
  readonly appliedAt: number;
  readonly versions: readonly ReleaseVersionView[];
  /** Removed entries at weight 0, waiting for requests in flight before they stop. */
  readonly draining: readonly string[];
}

/** Describes a release from the target's statuses and the router's current weights. */
export async function describeRelease(
  target: Target,
  app: string,
  managed: { readonly release: Release; readonly draining: ReadonlySet<string>; readonly appliedAt: number },
  routes: RouteState | undefined,
): Promise<ReleaseView> {
  const shares = sharesOf(routes?.weights ?? {});
  const versions = await Promise.all(
    managed.release.entries.map(async (entry): Promise<ReleaseVersionView> => {
      const status = await target.status(targetAppOf(app, entry.name), 'primary');
      return {
        name: entry.name,
        tag: entry.tag,
        weight: entry.weight,
        share: shares[entry.name] ?? 0,
        targetApp: targetAppOf(app, entry.name),
        revision: status?.revision ?? null,
        readyReplicas: status?.readyReplicas ?? 0,
        desiredReplicas: status?.desiredReplicas ?? 0,
        pids: (status?.replicas ?? []).flatMap((replica) =>
          typeof replica.pid === 'number' ? [replica.pid] : [],
        ),
      };
    }),
  );
  return { app, appliedAt: managed.appliedAt, versions, draining: [...managed.draining] };
}

/**
 * A release app as the control API lists it beside the controller's rollouts
 * (`GET /api/v1/rollouts`, the `status` messages of the event stream): the fields of a
 * rollout view with no rollout status, `kind: 'release'`, a phase of its own and the
 * release with its versions and weights. Readers tell the two apart by `kind`.
 */
export interface ReleaseRolloutView {
  readonly kind: 'release';
  readonly app: string;
  /** The running versions' tags, `name tag` each, comma-separated. */
  readonly revision: string;
  /** `Released`, or `Draining` while removed entries wait at weight 0. */
  readonly phase: 'Released' | 'Draining';
  readonly status: undefined;
  readonly lastChecks: undefined;
  readonly routing: undefined;
  readonly pendingCommands: 0;
  readonly release: ReleaseView;
}

/** The rollout-list view of a running release. */
export function releaseRolloutView(release: ReleaseView): ReleaseRolloutView {
  return {
    kind: 'release',
    app: release.app,
    revision: release.versions.map((v) => `${v.name} ${v.tag}`).join(', '),
    phase: release.draining.length > 0 ? 'Draining' : 'Released',
    status: undefined,
    lastChecks: undefined,
    routing: undefined,
    pendingCommands: 0,
    release,
  };
}
