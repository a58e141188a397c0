/**
 * The requests a `KubeApi` sends, counted by verb and resource, and rendered as Prometheus
 * text (`aviary_kube_api_requests_total`): the operator's load on the API server, read off
 * its own /metrics (bench:operator reads it there).
 */

/** The verbs counted: `apply` is a server-side apply (an HTTP PATCH), `patch` a merge patch. */
export type KubeVerb = 'apply' | 'patch' | 'get' | 'list' | 'delete' | 'watch';

/** Verbs that change the cluster; the rest only read it. */
export const WRITE_VERBS: ReadonlySet<KubeVerb> = new Set(['apply', 'patch', 'delete']);

/** Requests sent for one verb and resource (e.g. `patch`, `canaries/status`). */
export interface KubeRequestCount {
  readonly verb: KubeVerb;
  readonly resource: string;
  readonly count: number;
}

/** Counts by verb and resource. */
export class RequestCounter {
  readonly #counts = new Map<string, { verb: KubeVerb; resource: string; count: number }>();

  count(verb: KubeVerb, resource: string): void {
    const key = `${verb} ${resource}`;
    const entry = this.#counts.get(key);
    if (entry === undefined) this.#counts.set(key, { verb, resource, count: 1 });
    else entry.count += 1;
  }

  /** Every count, by resource then verb. */
  counts(): KubeRequestCount[] {
    return [...this.#counts.values()]
      .map((entry) => ({ ...entry }))
      .sort((a, b) => a.resource.localeCompare(b.resource) || a.verb.localeCompare(b.verb));
  }

  /** The counts as Prometheus text. */
  metricsText(): string {
    const lines = [
      '# HELP aviary_kube_api_requests_total Requests sent to the Kubernetes API server, by verb and resource.',
      '# TYPE aviary_kube_api_requests_total counter',
      ...this.counts().map(
        (c) => `aviary_kube_api_requests_total{verb="${c.verb}",resource="${c.resource}"} ${c.count}`,
      ),
    ];
    return lines.join('\n') + '\n';
  }
}

/**
 * Why a watch was started again: `expired` — the API server answered 410 Gone (the
 * resourceVersion it resumed from was compacted away or is older than the watch cache), so
 * the cache listed everything again; `error` — it ended with an error (the API server
 * unreachable) and resumes from the last resourceVersion after a pause.
 */
export type WatchRestartReason = 'expired' | 'error';

/** Watch restarts by resource and reason: `aviary_kube_watch_restarts_total{resource,reason}`. */
export class WatchRestartCounter {
  readonly #counts = new Map<string, number>();

  count(resource: string, reason: WatchRestartReason): void {
    const key = `${resource} ${reason}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** The restarts of `resource` (every resource when undefined) for `reason`. */
  total(reason: WatchRestartReason, resource?: string): number {
    let total = 0;
    for (const [key, count] of this.#counts)
      if (key.endsWith(` ${reason}`) && (resource === undefined || key.startsWith(`${resource} `)))
        total += count;
    return total;
  }

  /** The counts as Prometheus text. */
  metricsText(): string {
    const lines = [
      '# HELP aviary_kube_watch_restarts_total Watches started again, by resource and reason (expired: 410 Gone, then a new list).',
      '# TYPE aviary_kube_watch_restarts_total counter',
      ...[...this.#counts].sort().map(([key, count]) => {
        const [resource, reason] = key.split(' ');
        return `aviary_kube_watch_restarts_total{resource="${resource}",reason="${reason}"} ${count}`;
      }),
    ];
    return lines.join('\n') + '\n';
  }
}
