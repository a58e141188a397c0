/**
 * The checks before a release takes an app: the rollout controller must not be in the
 * middle of a canary (taking over would cut an analysis short), and no entry may run under
 * a name that is already another app's.
 */
import { ConfigError, type ConfigIssue } from '../../config/config-error.js';
import { entryPath, targetAppOf, type Release } from '../../config/release-schema.js';
import { AviaryError } from '../../errors.js';

/** What the release manager needs from the rollout controller to take an app over from it. */
export interface ReleaseControllerPort {
  apps(): string[];
  view(app: string): {
    readonly status?: { readonly phase: string; readonly canaryWeight: number } | undefined;
  };
  /** The app's event history, oldest first (kept by the release manager when it takes the app). */
  events(app: string): readonly {
    readonly at: number;
    readonly app: string;
    readonly reason: string;
    readonly message: string;
    readonly severity: 'info' | 'warning';
  }[];
  /** Stops the app's processes and forgets it (its router calls must already be ignored). */
  remove(app: string): Promise<void>;
}

/** Phases in which a canary is under way. */
const BUSY_PHASES: readonly string[] = ['Progressing', 'WaitingPromotion', 'Promoting', 'Finalising'];

/** Throws `AVIARY_RELEASE_CONFLICT` while the controller runs a canary of `app`. */
export function assertSettled(controller: ReleaseControllerPort, app: string): void {
  const status = controller.view(app).status;
  if (status && BUSY_PHASES.includes(status.phase)) {
    throw new AviaryError(
      'AVIARY_RELEASE_CONFLICT',
      `app ${app}: a canary rollout is in progress (phase ${status.phase}, canary weight ${status.canaryWeight}%); wait for it to finish or abort it (aviary abort ${app}), then apply the release again`,
    );
  }
}

/**
 * Throws a {@link ConfigError} naming each entry of `release` whose target app name
 * (`<app>-<entry>`) is in `taken` (name → what holds it).
 */
export function assertNoCollision(app: string, release: Release, taken: ReadonlyMap<string, string>): void {
  const issues: ConfigIssue[] = [];
  release.entries.forEach((entry, index) => {
    const owner = taken.get(targetAppOf(app, entry.name));
    if (owner === undefined) return;
    issues.push({
      path: entryPath(release.listKey, index, 'name'),
      message: `entry "${entry.name}": runs as "${targetAppOf(app, entry.name)}", which is already ${owner}; rename the entry`,
    });
  });
  if (issues.length > 0) throw new ConfigError(`release of app ${app}`, issues);
}
