/**
 * The releases the release manager runs, by app: for each, the template its entries are
 * built from (the app in `aviary.yaml`), the committed release, the entries' version specs
 * and the removed entries still draining. It answers what an apply asks before it touches
 * anything: which template an app's entries come from, and which target app names are taken.
 */
import type { AppSpec } from '../../config/app-schema.js';
import { targetAppOf, type Release } from '../../config/release-schema.js';
import { AviaryError } from '../../errors.js';
import type { ProcessSpec } from '../../target/process/version-spec.js';
import type { RoutedRelease } from './release-route-sync.js';

/** A release the manager runs. */
export interface ManagedRelease extends RoutedRelease {
  /** Version spec of each running entry, by entry name. */
  readonly specs: Map<string, ProcessSpec>;
  /** Removed entries still routed at weight 0, not yet stopped. */
  readonly draining: Set<string>;
  readonly appliedAt: number;
}

/** A managed release with no running entry yet and nothing routed. */
export function emptyManagedRelease(
  template: AppSpec,
  release: Release,
  draining: readonly string[],
  appliedAt: number,
): ManagedRelease {
  const specs = new Map<string, ProcessSpec>();
  return { template, release, specs, draining: new Set(draining), appliedAt, lastRouted: '' };
}

/** The managed releases by app, against the apps of the current `aviary.yaml`. */
export class ManagedReleases {
  readonly #byApp = new Map<string, ManagedRelease>();

  /** `configuredApps` returns the apps of the current `aviary.yaml`. */
  constructor(private readonly configuredApps: () => readonly AppSpec[]) {}

  get(app: string): ManagedRelease | undefined {
    return this.#byApp.get(app);
  }

  set(app: string, managed: ManagedRelease): void {
    this.#byApp.set(app, managed);
  }

  has(app: string): boolean {
    return this.#byApp.has(app);
  }

  /** Apps run from release files. */
  apps(): string[] {
    return [...this.#byApp.keys()];
  }

  /** Apps whose release runs `targetApp` as an entry, draining or not. */
  *appsRunning(targetApp: string): Generator<string> {
    for (const [app, managed] of this.#byApp) {
      const names = [...managed.specs.keys(), ...managed.draining];
      if (names.some((name) => targetAppOf(app, name) === targetApp)) yield app;
    }
  }

  /**
   * The template of `app`: its spec in `aviary.yaml`, else the one its release last ran with.
   * Throws `AVIARY_NOT_FOUND` listing the configured apps when there is neither.
   */
  templateOf(app: string): AppSpec {
    const template = this.configuredApps().find((a) => a.name === app) ?? this.#byApp.get(app)?.template;
    if (template === undefined) {
      const known = this.configuredApps().map((a) => a.name);
      throw new AviaryError(
        'AVIARY_NOT_FOUND',
        `app ${app} is not in aviary.yaml; a release runs versions of a configured app (known: ${known.join(', ') || 'none'})`,
      );
    }
    return template;
  }

  /**
   * True when `app`'s release names `tag`, or an entry of any release runs in `dir`: the
   * artifact published as (`app`, `tag`) in `dir` is in use and must not be collected.
   */
  usesArtifact(app: string, tag: string, dir: string): boolean {
    if (this.#byApp.get(app)?.release.entries.some((entry) => entry.tag === tag) === true) return true;
    return [...this.#byApp.values()].some((managed) =>
      [...managed.specs.values()].some((spec) => spec.cwd === dir),
    );
  }

  /** Target app names already in use, apart from `app`'s own entries, with what holds each. */
  takenNames(app: string): Map<string, string> {
    const taken = new Map<string, string>();
    for (const other of this.configuredApps()) taken.set(other.name, `app ${other.name} of aviary.yaml`);
    for (const [other, managed] of this.#byApp) {
      if (other === app) continue;
      for (const name of managed.specs.keys())
        taken.set(targetAppOf(other, name), `entry ${name} of app ${other}`);
    }
    return taken;
  }
}
