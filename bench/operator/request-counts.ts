/**
 * API requests of the operator, read from Prometheus text: either the operator's own
 * `aviary_kube_api_requests_total{verb,resource}` (src/kubernetes/kube-api.ts), or, when the
 * operator serves no metrics, the API server's `apiserver_request_total`, of which only the
 * writes that no other client of the bench's cluster makes are the operator's: server-side
 * applies (verb APPLY; the bench itself creates with POST and patches with PATCH, the
 * controllers update with PUT) and merge patches of `canaries/status`.
 */

/** Requests of one verb on one resource (`canaries/status` for a subresource). */
export interface RequestCount {
  readonly verb: string;
  readonly resource: string;
  readonly count: number;
}

/** Where the counts came from. */
export type CountSource = 'operator' | 'apiserver';

const WRITE_VERBS = new Set(['apply', 'patch', 'create', 'update', 'delete', 'deletecollection']);

/** True for a verb that changes the cluster. */
export function isWrite(verb: string): boolean {
  return WRITE_VERBS.has(verb.toLowerCase());
}

/** Labels and value of each sample of `metric` in Prometheus text exposition format. */
export function samplesOf(text: string, metric: string): { labels: Record<string, string>; value: number }[] {
  const samples: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const close = line.lastIndexOf('}');
    const labelText = close === -1 ? '' : line.slice(metric.length + 1, close);
    const value = Number(
      line
        .slice(close === -1 ? metric.length : close + 1)
        .trim()
        .split(' ')[0],
    );
    const labels: Record<string, string> = {};
    for (const match of labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]!] = match[2]!;
    samples.push({ labels, value });
  }
  return samples;
}

/** The operator's counts from its `aviary_kube_api_requests_total`. */
export function operatorCounts(text: string): RequestCount[] {
  return samplesOf(text, 'aviary_kube_api_requests_total').map((s) => ({
    verb: s.labels.verb ?? '',
    resource: s.labels.resource ?? '',
    count: s.value,
  }));
}

/**
 * The operator's writes from the API server's `apiserver_request_total`: APPLY on any
 * resource and PATCH of `canaries/status`, summed over response codes, verbs in lower case
 * (`apply`, `patch`). Reads cannot be told apart from the bench's own and are left out.
 */
export function apiserverOperatorWrites(text: string): RequestCount[] {
  const sums = new Map<string, RequestCount>();
  for (const { labels, value } of samplesOf(text, 'apiserver_request_total')) {
    const resource = labels.subresource
      ? `${labels.resource}/${labels.subresource}`
      : (labels.resource ?? '');
    const ours = labels.verb === 'APPLY' || (labels.verb === 'PATCH' && resource === 'canaries/status');
    if (!ours) continue;
    const verb = labels.verb!.toLowerCase();
    const key = `${verb} ${resource}`;
    sums.set(key, { verb, resource, count: (sums.get(key)?.count ?? 0) + value });
  }
  return [...sums.values()];
}

/** `after - before` per verb and resource, dropping those that did not move. */
export function countsBetween(
  before: readonly RequestCount[],
  after: readonly RequestCount[],
): RequestCount[] {
  const earlier = new Map(before.map((c) => [`${c.verb} ${c.resource}`, c.count]));
  return after
    .map((c) => ({ ...c, count: c.count - (earlier.get(`${c.verb} ${c.resource}`) ?? 0) }))
    .filter((c) => c.count !== 0)
    .sort((a, b) => a.resource.localeCompare(b.resource) || a.verb.localeCompare(b.verb));
}

/** Total writes and reads of `counts`. */
export function totals(counts: readonly RequestCount[]): { writes: number; reads: number } {
  let writes = 0;
  let reads = 0;
  for (const c of counts) {
    if (isWrite(c.verb)) writes += c.count;
    else reads += c.count;
  }
  return { writes, reads };
}
