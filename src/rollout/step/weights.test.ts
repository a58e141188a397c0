import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextPromotionWeight, nextWeight, promotionSchedule, strategyOf, weightSchedule } from './weights.js';

const NO_MATCH: never[] = [];
const HEADER_MATCH = [{ headers: { 'x-canary': { exact: 'insider' } } }];

describe('strategyOf', () => {
  it.each([
    ['match + iterations', { match: HEADER_MATCH, iterations: 10 }, 'ab'],
    ['iterations only', { match: NO_MATCH, iterations: 10 }, 'blue-green'],
    ['neither', { match: NO_MATCH, iterations: undefined }, 'canary'],
    ['match without iterations', { match: HEADER_MATCH, iterations: undefined }, 'canary'],
  ] as const)('%s → %s', (_name, analysis, strategy) => {
    expect(strategyOf(analysis)).toBe(strategy);
  });
});

describe('nextWeight', () => {
  it.each([
    ['stepWeight from 0', { stepWeight: 10, stepWeights: [], maxWeight: 50 }, 0, 10],
    ['stepWeight mid-way', { stepWeight: 10, stepWeights: [], maxWeight: 50 }, 40, 50],
    ['stepWeight clamped to maxWeight', { stepWeight: 30, stepWeights: [], maxWeight: 50 }, 30, 50],
    ['at maxWeight stays', { stepWeight: 10, stepWeights: [], maxWeight: 50 }, 50, 50],
    ['stepWeights first entry', { stepWeight: undefined, stepWeights: [1, 5, 25, 60], maxWeight: 60 }, 0, 1],
    ['stepWeights next entry', { stepWeight: undefined, stepWeights: [1, 5, 25, 60], maxWeight: 60 }, 5, 25],
    [
      'stepWeights from a weight set by hand',
      { stepWeight: undefined, stepWeights: [1, 5, 25, 60], maxWeight: 60 },
      12,
      25,
    ],
  ])('%s', (_name, analysis, current, expected) => {
    expect(nextWeight(analysis, current)).toBe(expected);
  });

  it('lists the schedule of stepWeight 10, maxWeight 50', () => {
    expect(weightSchedule({ stepWeight: 10, stepWeights: [], maxWeight: 50 })).toEqual([10, 20, 30, 40, 50]);
    expect(
      weightSchedule({ stepWeight: undefined, stepWeights: [5, 10, 20, 50, 80], maxWeight: 80 }),
    ).toEqual([5, 10, 20, 50, 80]);
  });
});

describe('promotion steps', () => {
  it('moves all traffic back at once without stepWeightPromotion', () => {
    expect(nextPromotionWeight(50, undefined)).toBe(0);
    expect(promotionSchedule(50, undefined)).toEqual([0]);
  });

  it('steps the canary weight down by stepWeightPromotion', () => {
    expect(promotionSchedule(50, 20)).toEqual([30, 10, 0]);
    expect(promotionSchedule(100, 50)).toEqual([50, 0]);
  });
});

const analysisArbitrary = fc.oneof(
  fc.record({
    stepWeight: fc.integer({ min: 1, max: 100 }),
    stepWeights: fc.constant<number[]>([]),
    maxWeight: fc.integer({ min: 1, max: 100 }),
  }),
  fc
    .uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 10 })
    .map((weights) => weights.sort((a, b) => a - b))
    .map((weights) => ({ stepWeight: undefined, stepWeights: weights, maxWeight: weights.at(-1)! })),
);

describe('weight maths properties', () => {
  it('keeps every weight within [0, 100] and never above maxWeight', () => {
    fc.assert(
      fc.property(analysisArbitrary, fc.integer({ min: -50, max: 150 }), (analysis, current) => {
        const next = nextWeight(analysis, current);
        expect(next).toBeGreaterThanOrEqual(0);
        expect(next).toBeLessThanOrEqual(100);
        if (current <= analysis.maxWeight) expect(next).toBeLessThanOrEqual(analysis.maxWeight);
      }),
    );
  });

  it('is monotone: a step never lowers the weight, and moves until maxWeight', () => {
    fc.assert(
      fc.property(analysisArbitrary, fc.integer({ min: 0, max: 100 }), (analysis, current) => {
        const next = nextWeight(analysis, current);
        expect(next).toBeGreaterThanOrEqual(current);
        if (current < analysis.maxWeight) expect(next).toBeGreaterThan(current);
      }),
    );
  });

  it('reaches exactly maxWeight through strictly increasing weights', () => {
    fc.assert(
      fc.property(analysisArbitrary, (analysis) => {
        const schedule = weightSchedule(analysis);
        expect(schedule.at(-1)).toBe(analysis.maxWeight);
        schedule.forEach((w, i) => i > 0 && expect(w).toBeGreaterThan(schedule[i - 1]!));
        if (analysis.stepWeights.length > 0) expect(schedule).toEqual(analysis.stepWeights);
      }),
    );
  });

  it('steps promotion down to 0 in strictly decreasing weights', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.option(fc.double({ min: -5, max: 150, noNaN: true }), { nil: undefined }),
        (weight, step) => {
          const schedule = promotionSchedule(weight, step);
          if (weight > 0) expect(schedule.at(-1)).toBe(0);
          [weight, ...schedule].forEach((w, i, all) => i > 0 && expect(w).toBeLessThan(all[i - 1]!));
          schedule.forEach((w) => expect(w).toBeGreaterThanOrEqual(0));
        },
      ),
    );
  });
});
