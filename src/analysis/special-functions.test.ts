import { describe, expect, it } from 'vitest';
import { logAddExp, logBeta, logGamma } from './special-functions.js';

/** ln((n−1)!) by summing logarithms: an independent route to ln Γ(n) for whole n. */
function logFactorialOf(nMinusOne: number): number {
  let sum = 0;
  for (let k = 2; k <= nMinusOne; k++) sum += Math.log(k);
  return sum;
}

describe('logGamma', () => {
  // Reference values from mpmath.loggamma at 25 significant digits (strings: more digits than
  // a double holds).
  const known: [number, string][] = [
    [0.5, '0.5723649429247000870717137'], // ln √π
    [1, '0'],
    [2, '0'],
    [3.7, '1.428072326665387921872381'],
    [10, '12.80182748008146961120772'], // ln 362880
    [100, '359.134205369575398776044'],
    [1000.5, '5908.674175848677488683875'],
    [1e6, '12815504.56914761165997697'],
    [1e10, '220258509288.8105814700419'],
    [0.001, '6.907178885383853682512345'],
    [1e-8, '18.42068073818020890537531'],
  ];
  it.each(known)('ln Γ(%s) matches the reference value', (x, expected) => {
    const value = Number(expected);
    const tolerance = Math.max(1e-13, Math.abs(value) * 1e-14);
    expect(Math.abs(logGamma(x) - value)).toBeLessThan(tolerance);
  });

  it('agrees with ln((n−1)!) summed term by term for n up to 170', () => {
    for (const n of [3, 7, 20, 57, 100, 170]) {
      expect(logGamma(n)).toBeCloseTo(logFactorialOf(n - 1), 10);
    }
  });

  it('agrees with Γ(n + ½) = (2n)! √π / (4ⁿ n!) at half-integers', () => {
    for (const n of [1, 5, 30, 150]) {
      const expected = logFactorialOf(2 * n) + 0.5 * Math.log(Math.PI) - n * Math.log(4) - logFactorialOf(n);
      expect(logGamma(n + 0.5)).toBeCloseTo(expected, 9);
    }
  });

  it('agrees with the Stirling series at large arguments', () => {
    for (const x of [50.25, 1234.5, 98765.4321]) {
      const stirling =
        (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
      expect(Math.abs(logGamma(x) - stirling)).toBeLessThan(Math.abs(stirling) * 1e-14 + 1e-10);
    }
  });

  it('satisfies the recurrence ln Γ(x + 1) = ln Γ(x) + ln x across the reflection boundary', () => {
    for (const x of [1e-6, 0.01, 0.3, 0.49, 0.5, 0.51, 0.9, 2.5, 17.3]) {
      expect(logGamma(x + 1)).toBeCloseTo(logGamma(x) + Math.log(x), 12);
    }
  });

  it('returns NaN outside its domain', () => {
    expect(logGamma(0)).toBeNaN();
    expect(logGamma(-1.5)).toBeNaN();
    expect(logGamma(Number.NaN)).toBeNaN();
  });
});

describe('logBeta', () => {
  it('matches reference values (mpmath)', () => {
    expect(logBeta(0.5, 0.5)).toBeCloseTo(Math.log(Math.PI), 13); // B(½, ½) = π
    expect(logBeta(50, 150)).toBeCloseTo(Number('-113.3584553241851227013763'), 9);
    expect(logBeta(1e-3, 1000)).toBeCloseTo(Number('6.900271629687954953960311'), 10);
  });

  it('gives B(1, n) = 1/n', () => {
    for (const n of [1, 2, 10, 1000]) expect(logBeta(1, n)).toBeCloseTo(-Math.log(n), 12);
  });
});

describe('logAddExp', () => {
  it('adds in log space without overflow', () => {
    expect(logAddExp(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 14);
    expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.log(2), 10);
    expect(logAddExp(-Infinity, 4)).toBe(4);
    expect(logAddExp(4, -Infinity)).toBe(4);
  });
});
