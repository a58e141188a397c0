import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logMixture, rateLowerBound, rateUpperBound, rejects } from './confidence-sequence.js';
import { binomialDraw, binomialQuantile, createRandom, poisson } from './test-support.js';

/** The textbook fixed-sample 95%-per-side Wald interval, wrongly reused at every look. */
const Z = 1.959963984540054;
function waldBounds(events: number, trials: number): { lower: number; upper: number } {
  const p = events / trials;
  const half = Z * Math.sqrt((p * (1 - p)) / trials);
  return { lower: p - half, upper: p + half };
}

/**
 * Plays `runs` monitored runs of `looks` looks, each adding Poisson(20) trials whose event
 * probability is 2%, ×5 during looks 30–44 (an incident, so the average p̄ the sequences bound
 * moves over time), and counts the runs in which some look's bounds missed p̄.
 */
function simulateCoverage(runs: number, looks: number, alphaPerSide: number) {
  const random = createRandom(20261203);
  let missed = 0;
  let naiveMissed = 0;
  for (let run = 0; run < runs; run++) {
    let events = 0;
    let trials = 0;
    let probabilitySum = 0;
    let miss = false;
    let naiveMiss = false;
    for (let look = 0; look < looks; look++) {
      const p = look >= 30 && look < 45 ? 0.1 : 0.02;
      const n = poisson(random, 20);
      events += binomialDraw(random, n, p);
      trials += n;
      probabilitySum += n * p;
      if (trials === 0) continue;
      const average = probabilitySum / trials;
      const upper = rateUpperBound(events, trials, alphaPerSide);
      const lower = rateLowerBound(events, trials, alphaPerSide);
      if (upper < average || lower > average) miss = true;
      const naive = waldBounds(events, trials);
      if (naive.upper < average || naive.lower > average) naiveMiss = true;
    }
    if (miss) missed++;
    if (naiveMiss) naiveMissed++;
  }
  return { missed, naiveMissed };
}

describe('rate confidence sequences', () => {
  it('hold at every look of a run in ≥ 1 − α of runs, and the test catches a fixed-n interval', () => {
    // 1,000 seeded runs × 80 looks, α = 0.05 over both sides (0.025 each). A correct pair of
    // sequences misses in at most 5% of runs (measured: 6 runs, 0.6%); the tolerance is the
    // 99.9% quantile of Binomial(1000, 0.05) = 74 misses. Power: the fixed-n 95% Wald interval
    // reused at every look (the wrong implementation this test exists to catch) misses in 766
    // of these runs (asserted below on the same data); any construction with a true 10% miss
    // rate exceeds the tolerance in 99.6% of seeds.
    const runs = 1000;
    const { missed, naiveMissed } = simulateCoverage(runs, 80, 0.025);
    const tolerance = binomialQuantile(runs, 0.05, 0.999);
    expect(missed).toBeLessThanOrEqual(tolerance);
    expect(naiveMissed).toBeGreaterThan(tolerance);
  });

  it('bounds are the edges of the set the mixture does not reject', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(0.001, 0.01, 0.05),
        (trials, share, alpha) => {
          const events = Math.round(share * trials);
          const upper = rateUpperBound(events, trials, alpha);
          const lower = rateLowerBound(events, trials, alpha);
          expect(lower).toBeLessThanOrEqual(events / trials);
          expect(upper).toBeGreaterThanOrEqual(events / trials);
          if (upper < 0.999) {
            expect(rejects(events, trials, Math.min(1, upper * 1.001 + 1e-9), alpha, 'upper')).toBe(true);
            expect(rejects(events, trials, upper * 0.999, alpha, 'upper')).toBe(false);
          }
          if (lower > 0.001) {
            expect(rejects(events, trials, lower * 0.999, alpha, 'lower')).toBe(true);
            expect(rejects(events, trials, Math.min(1, lower * 1.001), alpha, 'lower')).toBe(false);
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('narrows as trials accrue and widens as α shrinks', () => {
    expect(rateUpperBound(0, 0, 0.01)).toBe(1);
    expect(rateLowerBound(0, 0, 0.01)).toBe(0);
    const widths = [1_000, 10_000, 100_000].map(
      (n) => rateUpperBound(n / 200, n, 0.01) - rateLowerBound(n / 200, n, 0.01),
    );
    expect(widths[1]!).toBeLessThan(widths[0]!);
    expect(widths[2]!).toBeLessThan(widths[1]!);
    expect(rateUpperBound(25, 5000, 0.001)).toBeGreaterThan(rateUpperBound(25, 5000, 0.01));
    // No events in 1,000 trials: the rate is shown below 2%, never above 0.
    expect(rateUpperBound(0, 1000, 0.01)).toBeLessThan(0.02);
    expect(rateLowerBound(0, 1000, 0.01)).toBe(0);
  });

  it('has mean at most 1 at the true rate, by enumeration (the martingale the proof uses)', () => {
    // E[G_n(p)] = Σ_j w_j E[exp(λ_j S − n f(p))] = 1 exactly for i.i.d. Bernoulli(p).
    for (const [n, p] of [
      [5, 0.1],
      [40, 0.02],
      [200, 0.5],
    ] as const) {
      for (const side of ['upper', 'lower'] as const) {
        let mean = 0;
        let logChoose = 0;
        for (let s = 0; s <= n; s++) {
          if (s > 0) logChoose += Math.log((n - s + 1) / s);
          const logProbability = logChoose + s * Math.log(p) + (n - s) * Math.log1p(-p);
          mean += Math.exp(logProbability + logMixture(s, n, p, side));
        }
        expect(mean).toBeCloseTo(1, 9);
      }
    }
  });
});
