import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJudgeConfig, type JudgeConfig } from '../config/app-judge.js';
import type { BucketCounts } from './bucket-counts.js';
import { moreCanaryRequestsFor } from './harm-bounds.js';
import { assess, mayAdvance, type JudgeVerdict, type NextMove } from './judge-decision.js';
import { initJudgeState, type JudgeState } from './judge-state.js';
import { bucketIndex } from './latency-sketch.js';

/** Bucket counts spread over ~60 buckets from about 25 ms: shapes fast-check varies. */
const bucketCounts = fc
  .tuple(fc.integer({ min: -20, max: 20 }), fc.array(fc.nat({ max: 400 }), { minLength: 1, maxLength: 60 }))
  .map(([shift, counts]): BucketCounts => {
    const total = counts.reduce((a, b) => a + b, 0);
    return total === 0
      ? { firstIndex: 0, counts: [], total: 0 }
      : { firstIndex: bucketIndex(25) + shift, counts, total };
  });

const version = fc
  .tuple(fc.integer({ min: 0, max: 200_000 }), fc.double({ min: 0, max: 0.2, noNaN: true }))
  .map(([requests, rate]) => ({ requests, errors: Math.round(requests * rate) }));

/** Judge states with the totals and latency counts the harm bounds read. */
const judgeState = fc
  .record({ primary: version, canary: version, primaryLatency: bucketCounts, canaryLatency: bucketCounts })
  .map(({ primary, canary, primaryLatency, canaryLatency }): JudgeState => {
    const init = initJudgeState();
    return {
      ...init,
      primary,
      canary,
      latency: { ...init.latency, primary: primaryLatency, canary: canaryLatency },
    };
  });

const judgeConfig = fc
  .record({
    absolute: fc.double({ min: 0.0005, max: 0.05, noNaN: true }),
    relative: fc.double({ min: 0, max: 3, noNaN: true }),
    latencyRelative: fc.double({ min: 0, max: 1, noNaN: true }),
    absoluteMs: fc.double({ min: 0.5, max: 50, noNaN: true }),
    minCanaryRequests: fc.constantFrom(0, 100),
  })
  .map(({ absolute, relative, latencyRelative, absoluteMs, minCanaryRequests }) =>
    parseJudgeConfig({
      minCanaryRequests,
      maxHarm: { errorRate: { absolute, relative }, latency: { relative: latencyRelative, absoluteMs } },
    }),
  );

const nextMove: fc.Arbitrary<NextMove> = fc.oneof(
  fc.constant({ kind: 'promotion' } as const),
  fc.integer({ min: 1, max: 100 }).map((weight) => ({ kind: 'step', weight }) as const),
);

/**
 * Whether the displayed bounds allow the move, recomputed here from the bounds alone (not
 * from `allowedWeight` or `withinMaxHarm`): a step to weight w needs the error-rate excess
 * spread over w % of traffic within maxHarm; promotion needs errors and every quantile within.
 */
function boundsAllow(verdict: JudgeVerdict, config: JudgeConfig, next: NextMove, slack = 1): boolean {
  const { errors, latency } = verdict.evidence.harm!;
  const share = next.kind === 'promotion' ? 1 : next.weight / 100;
  const { errorRate, latency: tolerance } = config.maxHarm;
  const errorTolerance = Math.max(errorRate.absolute, errorRate.relative * errors.primaryLower);
  if ((errors.canaryUpper - errors.primaryLower) * share * slack > errorTolerance * (1 + 1e-9)) return false;
  if (next.kind === 'step') return true;
  return latency.every((l) => {
    if (l.canaryUpperMs === null || l.primaryLowerMs === null) return false;
    const allowed = Math.max(tolerance.absoluteMs, tolerance.relative * l.primaryLowerMs);
    return (l.canaryUpperMs - l.primaryLowerMs) * slack <= allowed * (1 + 1e-9);
  });
}

/** Latency counts of `total` requests in one fixed bell shape over 41 buckets around 40 ms. */
function bell(total: number): BucketCounts {
  const shape = Array.from({ length: 41 }, (_, i) => Math.exp(-(((i - 20) / 8) ** 2) / 2));
  const sum = shape.reduce((a, b) => a + b, 0);
  return { firstIndex: bucketIndex(40) - 20, counts: shape.map((x) => (x / sum) * total), total };
}

/** A healthy-looking state: 0.5% errors for both, the same latency shape. */
function healthyState(canary: number, canaryErrors = canary / 200): JudgeState {
  const init = initJudgeState();
  return {
    ...init,
    primary: { requests: 9 * canary, errors: (9 * canary) / 200 },
    canary: { requests: canary, errors: canaryErrors },
    latency: { ...init.latency, primary: bell(9 * canary), canary: bell(canary) },
  };
}

describe('the harm gate', () => {
  it('never advances or promotes while an upper bound of the excess exceeds maxHarm', () => {
    let advanced = 0;
    fc.assert(
      fc.property(judgeState, judgeConfig, nextMove, (state, config, next) => {
        const verdict = assess(state, config);
        const answer = mayAdvance(verdict, next, config);
        if (!answer.advance) {
          expect(answer.hold.length).toBeGreaterThan(0);
          return;
        }
        advanced++;
        expect(verdict.decision).toBe('pass');
        expect(boundsAllow(verdict, config, next)).toBe(true);
      }),
      { seed: 12, numRuns: 400 },
    );
    // The property must be exercised on both sides: some generated cases do advance.
    expect(advanced).toBeGreaterThan(20);
  });

  it('advances whenever the bounds show the move within maxHarm and nothing else holds', () => {
    fc.assert(
      fc.property(judgeState, judgeConfig, nextMove, (state, config, next) => {
        const verdict = assess(state, config);
        const free = verdict.decision === 'pass';
        // A hair inside the tolerance, so rounding cannot decide the case.
        if (free && boundsAllow(verdict, config, next, 1.0001)) {
          expect(mayAdvance(verdict, next, config).advance).toBe(true);
        }
      }),
      { seed: 13, numRuns: 400 },
    );
  });

  it('holds with "gathering evidence" and the estimate of the canary requests still needed', () => {
    const config = parseJudgeConfig({});
    const state = healthyState(1_000);
    const verdict = assess(state, config);
    expect(verdict.decision).toBe('pass');
    const expected = moreCanaryRequestsFor(state, config, 100);
    expect(expected).toBeGreaterThan(0);
    const answer = mayAdvance(verdict, { kind: 'promotion' }, config);
    expect(answer).toEqual({
      advance: false,
      hold: expect.stringMatching(
        new RegExp(`^gathering evidence before promotion: ~${expected} more canary requests`),
      ),
    });
    expect(verdict.evidence.harm!.moreCanaryRequestsToPromote).toBe(expected);
    const step = mayAdvance(verdict, { kind: 'step', weight: 100 }, config);
    expect(step.advance).toBe(false);
  });

  it('says when more data at the observed rates would never clear maxHarm', () => {
    const config = parseJudgeConfig({});
    const state = healthyState(1_000, 25);
    const verdict = assess(state, config);
    expect(verdict.decision).toBe('pass');
    const answer = mayAdvance(verdict, { kind: 'promotion' }, config);
    expect(answer.advance).toBe(false);
    expect(!answer.advance && answer.hold).toMatch(
      /beyond maxHarm; more data at these rates would not clear it/,
    );
  });

  it('shows evidence leaning towards a regression without holding the move the bounds allow', () => {
    const config = parseJudgeConfig({});
    const cleared = healthyState(60_000);
    const leaning: JudgeState = { ...cleared, errors: { ...cleared.errors, logBayesFactor: 0.5 } };
    const verdict = assess(leaning, config);
    expect(verdict.evidence.leansToRegression).toBe(true);
    expect(mayAdvance(verdict, { kind: 'step', weight: 50 }, config)).toEqual({ advance: true });
    expect(mayAdvance(verdict, { kind: 'promotion' }, config)).toEqual({ advance: true });
  });
});
