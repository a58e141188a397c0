/**
 * Configuration changes of the proxy: their outcome, the queue that runs them one at a
 * time so generations are strictly ordered, and the checks and edits a change makes before
 * the new configuration is compiled.
 */
import type { ConfigIssue } from '../config/config-error.js';
import type { ProxyConfig } from '../config/proxy-schema.js';

/** Outcome of a configuration change. */
export type ApplyResult =
  | { readonly ok: true; readonly generation: number }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** A refused configuration change. */
export type RefusedChange = Extract<ApplyResult, { readonly ok: false }>;

/** A change refused for one reason, named by its configuration path. */
export function refusedChange(path: string, message: string): RefusedChange {
  return { ok: false, issues: [{ path, message }] };
}

/**
 * Runs changes one after another in call order, so read-modify-write updates from several
 * callers never lose each other's edits. A change that throws rejects only its own promise.
 */
export class ChangeQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `change` once every change queued before it has settled. */
  run<T>(change: () => T | PromiseLike<T>): Promise<T> {
    const next = this.tail.then(change);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** Refuses a change made against a generation that is no longer in force, if it is one. */
export function staleGeneration(expected: number | undefined, current: number): RefusedChange | undefined {
  if (expected === undefined || expected === current) return undefined;
  return refusedChange(
    'generation',
    `expected generation ${expected}, but the router is at ${current}; reload and retry`,
  );
}

/**
 * Replaces the targets of one route of `config` (a private copy, edited in place) with
 * `weights`, keyed by version name. Returns a refusal when the service or route is unknown.
 */
export function setRouteTargets(
  config: ProxyConfig,
  service: string,
  route: string,
  weights: Readonly<Record<string, number>>,
): RefusedChange | undefined {
  const svcIndex = config.services.findIndex((s) => s.name === service);
  const svc = config.services[svcIndex];
  if (!svc) return refusedChange('service', `unknown service "${service}"`);
  const target = svc.routes.find((r) => r.name === route);
  if (!target) {
    return refusedChange(`services[${svcIndex}].routes`, `unknown route "${route}" in service "${service}"`);
  }
  target.targets = Object.entries(weights).map(([version, weight]) => ({ version, weight }));
  return undefined;
}
