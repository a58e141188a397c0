/**
 * Weighted splitting through the real router: the observed split of many requests must pass
 * a chi-square goodness-of-fit test against the configured weights, and the same test must
 * reject a split that is only slightly wrong (so the suite can fail).
 */
import { describe, expect, it } from 'vitest';
import { binomialBounds, chiSquareSurvival, goodnessOfFit, upperIncompleteGamma } from './goodness-of-fit.js';
import { inParallel, routeConfig, send, tally, targets, useFixtures } from './support.js';

const fx = useFixtures();

/**
 * Fixed significance of the goodness-of-fit test: a correct router fails a case about once
 * in 10,000 runs, while the splits a few points off below are still rejected.
 */
const SIGNIFICANCE = 1e-4;
const REQUESTS = 10_000;
const CONCURRENCY = 32;
/** Generous: on a loaded two-core machine 10,000 proxied requests can take tens of seconds. */
const SPLIT_TEST_TIMEOUT_MS = 180_000;

/** Sends `count` keep-alive requests and returns how many each version answered. */
async function split(weights: Record<string, number>, count: number): Promise<Map<string, number>> {
  const names = Object.keys(weights);
  const endpoints: Record<string, string[]> = {};
  for (const name of names) endpoints[name] = [(await fx.backend(name)).address];
  const { origin } = await fx.proxy(routeConfig(endpoints, { targets: targets(weights) }));
  const client = fx.client(CONCURRENCY);
  const bodies: string[] = [];
  const statuses: number[] = [];
  await inParallel(count, CONCURRENCY, async () => {
    const answer = await send(`${origin}/`, { dispatcher: client });
    statuses.push(answer.status);
    bodies.push(answer.text);
  });
  expect(tally(statuses.map(String))).toEqual(new Map([['200', count]]));
  return tally(bodies);
}

describe('chi-square helpers', () => {
  it('reproduce textbook critical values', () => {
    // Upper critical values of the chi-square distribution (NIST/SEMATECH handbook, table 1.3.6.7.4).
    expect(chiSquareSurvival(3.841, 1)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(5.991, 2)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(13.816, 2)).toBeCloseTo(0.001, 5);
    expect(chiSquareSurvival(16.266, 3)).toBeCloseTo(0.001, 5);
    expect(chiSquareSurvival(18.467, 4)).toBeCloseTo(0.001, 5);
    expect(chiSquareSurvival(0, 4)).toBe(1);
    // Q(1, x) = e^-x exactly, on both sides of the series/continued-fraction switch.
    expect(upperIncompleteGamma(1, 0.5)).toBeCloseTo(Math.exp(-0.5), 12);
    expect(upperIncompleteGamma(1, 7)).toBeCloseTo(Math.exp(-7), 12);
  });

  it('give binomial bounds that bracket the mean and tighten with alpha', () => {
    const loose = binomialBounds(20_000, 0.001, 1e-2);
    const tight = binomialBounds(20_000, 0.001, 1e-6);
    expect(loose.low).toBeLessThan(20);
    expect(loose.high).toBeGreaterThan(20);
    expect(tight.low).toBeLessThan(loose.low);
    expect(tight.high).toBeGreaterThan(loose.high);
    expect(tight.low).toBeGreaterThan(0);
  });
});

describe('weighted split', () => {
  const cases: { label: string; weights: Record<string, number>; wrong: number[] }[] = [
    { label: '2 versions 50/50', weights: { v1: 50, v2: 50 }, wrong: [55, 45] },
    // Weights need not sum to 100.
    { label: '3 versions 6/3/1', weights: { v1: 6, v2: 3, v3: 1 }, wrong: [6, 2.6, 1.4] },
    {
      label: '5 versions 40/25/20/10/5',
      weights: { v1: 40, v2: 25, v3: 20, v4: 10, v5: 5 },
      wrong: [40, 25, 20, 7, 8],
    },
  ];

  it.each(cases)(
    '$label matches the weights (chi-square p > 1e-4)',
    async ({ weights, wrong }) => {
      const counts = await split(weights, REQUESTS);
      const observed = Object.keys(weights).map((v) => counts.get(v) ?? 0);
      expect(observed.reduce((a, b) => a + b, 0)).toBe(REQUESTS);
      expect(goodnessOfFit(observed, Object.values(weights))).toBeGreaterThan(SIGNIFICANCE);
      // The same data must reject a split a few points off: the test has power at this size
      // (the wrong splits sit 6+ standard deviations away, so this never fails by chance).
      expect(goodnessOfFit(observed, wrong)).toBeLessThan(SIGNIFICANCE);
    },
    SPLIT_TEST_TIMEOUT_MS,
  );

  it(
    'gives a 0.1 % canary a plausible share of 20,000 requests',
    async () => {
      const count = 20_000;
      const counts = await split({ stable: 99.9, canary: 0.1 }, count);
      const canary = counts.get('canary') ?? 0;
      const { low, high } = binomialBounds(count, 0.001, 1e-4);
      expect(canary).toBeGreaterThanOrEqual(low);
      expect(canary).toBeLessThanOrEqual(high);
      expect(counts.get('stable')).toBe(count - canary);
      // A canary at ten times its weight (1 %) would be far outside the bounds.
      expect(high).toBeLessThan(count * 0.01);
    },
    SPLIT_TEST_TIMEOUT_MS,
  );
});
