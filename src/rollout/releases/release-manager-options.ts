/**
 * Options of the release manager and the defaults they resolve to: how long a removed entry
 * drains, how often ready endpoints are re-read into the routes, and which release settings
 * an app gets. Kept apart from `release-manager.ts`, as `process-target-options.ts` is from
 * the process target, so every default of the manager is set in one place and the manager
 * itself reads only resolved values.
 */
import type { AppSpec } from '../../config/app-schema.js';
import { DEFAULT_RELEASE_SETTINGS, type ReleaseSettings } from '../../config/release-schema.js';
import type { TrafficRouter } from '../../router/traffic-router.js';
import type { Target } from '../../target/target.js';
import type { ArtifactResolver } from './release-artifacts.js';
import type { ReleaseControllerPort } from './release-handover.js';

/** Options of a `ReleaseManager`. */
export interface ReleaseManagerOptions {
  /** State lives in `<stateDir>/releases/`. */
  readonly stateDir: string;
  readonly target: Target;
  /** The router the manager drives (not the guarded one the controller is given). */
  readonly router: TrafficRouter;
  /** Told which apps the manager owns, so the controller's router calls for them are ignored. */
  readonly guard: { claim(app: string): void };
  readonly controller?: ReleaseControllerPort;
  /** The apps of the current `aviary.yaml`: each is the template of its release's entries. */
  readonly apps: () => readonly AppSpec[];
  /**
   * An app's `releases` settings. Default: the app's `releases` block in `aviary.yaml`, else
   * {@link DEFAULT_RELEASE_SETTINGS}.
   */
  readonly settingsFor?: (app: AppSpec) => ReleaseSettings | undefined;
  /**
   * Resolves (app, tag) to its published artifact directory, for apps whose
   * `releases.artifacts` is true (e.g. `(app, tag) => store.resolve(app, tag)` of the
   * pipelines' `ArtifactStore`). Absent: such apps' release files are refused.
   */
  readonly resolveArtifact?: ArtifactResolver;
  /** Time a removed entry stays routed at weight 0 before it leaves routing. Default {@link DEFAULT_DRAIN_MS}. */
  readonly drainMs?: number;
  /** How often ready endpoints are re-read into the routes. Default {@link DEFAULT_SYNC_MS}. */
  readonly syncMs?: number;
  readonly now?: () => number;
}

/** Default time a removed entry (or a handed-over app's old routes) drains: 1 s. */
export const DEFAULT_DRAIN_MS = 1000;

/** Default interval of re-reading ready endpoints into the routes: 500 ms. */
export const DEFAULT_SYNC_MS = 500;

/** The manager's timings with their defaults applied. */
export interface ReleaseTimings {
  readonly drainMs: number;
  readonly syncMs: number;
}

/** `drainMs` and `syncMs` of `options`, defaults applied. */
export function releaseTimingsOf(options: ReleaseManagerOptions): ReleaseTimings {
  return { drainMs: options.drainMs ?? DEFAULT_DRAIN_MS, syncMs: options.syncMs ?? DEFAULT_SYNC_MS };
}

/** The release settings of `template`'s app: `settingsFor`, else its `releases` block, else the defaults. */
export function releaseSettingsOf(options: ReleaseManagerOptions, template: AppSpec): ReleaseSettings {
  return options.settingsFor?.(template) ?? template.releases ?? DEFAULT_RELEASE_SETTINGS;
}
