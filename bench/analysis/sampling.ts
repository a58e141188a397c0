/**
 * Discrete draws for the traffic model: Poisson arrivals, binomial splits and failures, and
 * Vose's alias method for latency buckets. A second of traffic is a handful of counts, not
 * one object per request, so a 200 rps rollout costs microseconds per simulated second.
 */
import type { Random } from './random.js';

/** Poisson(mean) by inversion; means above 500 are split so e^-mean never underflows. */
export function poisson(random: Random, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 500) return poisson(random, mean / 2) + poisson(random, mean / 2);
  let k = 0;
  let term = Math.exp(-mean);
  let cumulative = term;
  const u = random.uniform();
  while (u > cumulative && term > 0) {
    k++;
    term *= mean / k;
    cumulative += term;
  }
  return k;
}

/** Binomial(n, p) by inversion (expected cost about n·min(p, 1 − p) steps). */
export function binomial(random: Random, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(random, n, 1 - p);
  const odds = p / (1 - p);
  let term = Math.pow(1 - p, n);
  let cumulative = term;
  let k = 0;
  const u = random.uniform();
  while (u > cumulative && k < n) {
    term *= ((n - k) / (k + 1)) * odds;
    k++;
    cumulative += term;
  }
  return k;
}

/**
 * Draws indices `first .. first + pmf.length − 1` with the given probabilities in O(1) each
 * (Vose, "A linear algorithm for generating random numbers with a given distribution", 1991).
 */
export class AliasTable {
  private readonly keep: Float64Array;
  private readonly alias: Int32Array;

  constructor(
    readonly first: number,
    pmf: readonly number[],
  ) {
    const n = pmf.length;
    const total = pmf.reduce((a, b) => a + b, 0);
    const scaled = pmf.map((p) => (p * n) / total);
    this.keep = new Float64Array(n).fill(1);
    this.alias = new Int32Array(n).map((_, i) => i);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.keep[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
  }

  /** One index. */
  draw(random: Random): number {
    const x = random.uniform() * this.keep.length;
    const i = Math.floor(x);
    return this.first + (x - i < this.keep[i]! ? i : this.alias[i]!);
  }
}
