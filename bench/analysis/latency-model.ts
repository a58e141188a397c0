/**
 * Latency distributions of the simulated versions, read straight into the router's sketch
 * buckets (src/analysis/latency-sketch.ts): a log-normal body (median 40 ms × factor, p99
 * 100 ms × factor) and an optional tail share delayed by a fixed amount (stalls). Each
 * distribution becomes a probability per bucket, so a second of traffic is drawn bucket by
 * bucket and the oracles read exact likelihoods per bucket.
 */
import { bucketIndex, bucketUpperBound } from '../../src/analysis/latency-sketch.js';
import { AliasTable } from './sampling.js';

/** Median of the base latency distribution, in ms. */
export const BASE_MEDIAN_MS = 40;
/** Log-space standard deviation giving p99 = 100 ms: ln(100/40) / z₀.₉₉. */
export const LATENCY_SIGMA = Math.log(100 / BASE_MEDIAN_MS) / 2.3263478740408408;

/** How one version's latency is distributed at some moment. */
export interface LatencyShape {
  /** Every latency of the log-normal body is multiplied by this. */
  readonly factor: number;
  /** Share of requests delayed by `tailAddMs` on top of their body latency. */
  readonly tailShare: number;
  readonly tailAddMs: number;
}

/** A shape's probability per sketch bucket, and a sampler of buckets. */
export interface BucketDistribution {
  readonly key: string;
  readonly first: number;
  readonly pmf: Float64Array;
  readonly sampler: AliasTable;
}

/** Standard normal CDF via erfc (Numerical Recipes' erfcc, relative error < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

function bodyCdf(ms: number, factor: number, addMs: number): number {
  const x = ms - addMs;
  if (x <= 0) return 0;
  return normalCdf(Math.log(x / (BASE_MEDIAN_MS * factor)) / LATENCY_SIGMA);
}

const SPAN_Z = 7;
const cache = new Map<string, BucketDistribution>();

/** The bucket distribution of `shape` (cached: shapes repeat across seconds and seeds). */
export function bucketDistribution(shape: LatencyShape): BucketDistribution {
  const key = `${shape.factor}|${shape.tailShare}|${shape.tailAddMs}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const median = BASE_MEDIAN_MS * shape.factor;
  const lowMs = median * Math.exp(-SPAN_Z * LATENCY_SIGMA);
  const highMs = median * Math.exp(SPAN_Z * LATENCY_SIGMA) + (shape.tailShare > 0 ? shape.tailAddMs : 0);
  const first = bucketIndex(lowMs);
  const last = bucketIndex(highMs);
  const cdf = (ms: number): number =>
    (1 - shape.tailShare) * bodyCdf(ms, shape.factor, 0) +
    shape.tailShare * bodyCdf(ms, shape.factor, shape.tailAddMs);
  const pmf = new Float64Array(last - first + 1);
  for (let b = first; b <= last; b++)
    pmf[b - first] = cdf(bucketUpperBound(b)) - cdf(bucketUpperBound(b - 1));
  const made: BucketDistribution = { key, first, pmf, sampler: new AliasTable(first, [...pmf]) };
  cache.set(key, made);
  return made;
}

/** Probability of bucket `index` under `d` (0 outside its span). */
export function bucketProbability(d: BucketDistribution, index: number): number {
  const i = index - d.first;
  return i >= 0 && i < d.pmf.length ? d.pmf[i]! : 0;
}
