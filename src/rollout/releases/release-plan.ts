/**
 * The pure half of applying a release: what changes between the running release and the
 * edited one, and which versions and weights the router gets for a set of ready endpoints.
 * The release manager performs the effects; everything here is tested without processes.
 */
import type { ReleaseEntry } from '../../config/release-schema.js';
import type { RoutedVersion } from '../../router/traffic-router.js';
import { revisionOf, type ProcessSpec } from '../../target/process/version-spec.js';

/** What an edit does to each entry, by entry name. */
export interface ReleaseChanges {
  /** New entries: their processes start. */
  readonly started: readonly string[];
  /** Entries whose process changed (a new tag): their processes are replaced, surge-style. */
  readonly updated: readonly string[];
  /** Entries that run as before (a weight change at most). */
  readonly unchanged: readonly string[];
  /** Entries no longer listed: drained, taken out of routing, then stopped. */
  readonly removed: readonly string[];
}

/** Compares the running entries' specs with the edited ones. */
export function releaseChanges(
  running: ReadonlyMap<string, ProcessSpec>,
  next: ReadonlyMap<string, ProcessSpec>,
): ReleaseChanges {
  const started: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  for (const [name, spec] of next) {
    const before = running.get(name);
    if (before === undefined) started.push(name);
    else if (revisionOf(before) !== revisionOf(spec) || before.replicas !== spec.replicas) updated.push(name);
    else unchanged.push(name);
  }
  const removed = [...running.keys()].filter((name) => !next.has(name));
  return { started, updated, unchanged, removed };
}

/** Versions and weights for the router; `weights` is absent when no weighted version can answer. */
export interface ReleaseRouting {
  readonly versions: readonly RoutedVersion[];
  readonly weights?: Readonly<Record<string, number>>;
}

/**
 * Routing for the release's entries plus the draining ones (weight 0, still routed so that
 * requests in flight finish), given each version's ready endpoints. A version without a
 * ready endpoint is left out: traffic never points at a version that cannot answer.
 */
export function releaseRouting(
  entries: readonly ReleaseEntry[],
  draining: Iterable<string>,
  endpoints: ReadonlyMap<string, readonly string[]>,
): ReleaseRouting {
  const versions: RoutedVersion[] = [];
  const weights: Record<string, number> = {};
  const add = (name: string, weight: number): void => {
    const ready = endpoints.get(name) ?? [];
    if (ready.length === 0 || name in weights) return;
    versions.push({ name, endpoints: [...ready].sort() });
    weights[name] = weight;
  };
  for (const entry of entries) add(entry.name, entry.weight);
  for (const name of draining) add(name, 0);
  const total = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
  return total > 0 ? { versions, weights } : { versions };
}

/**
 * Each version's share of the traffic in percent, one decimal: App Mesh weights are
 * relative, so a version's share is its weight over the sum.
 */
export function sharesOf(weights: Readonly<Record<string, number>>): Record<string, number> {
  const total = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
  const shares: Record<string, number> = {};
  for (const [name, weight] of Object.entries(weights))
    shares[name] = total > 0 ? Math.round((1000 * weight) / total) / 10 : 0;
  return shares;
}
