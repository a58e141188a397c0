/**
 * What the sequential judge reads of each version's traffic: exact counts and latency buckets
 * over a window of whole seconds. The proxy's rolling windows provide it
 * (`proxy.metrics.versionTraffic`); the judge never reaches into the proxy itself.
 */
import type { LatencyBuckets } from './bucket-counts.js';

/** What the judge reads of one version's traffic over [fromMs, toMs) (`TrafficSnapshot` fits). */
export interface TrafficCounts {
  readonly requests: number;
  readonly errors5xx: number;
  readonly latency: LatencyBuckets;
}

/** Per-version traffic, e.g. `proxy.metrics.versionTraffic(app, version)`. */
export type TrafficSource = (
  app: string,
  version: 'primary' | 'canary',
) => { snapshot(fromMs: number, toMs: number): TrafficCounts };
