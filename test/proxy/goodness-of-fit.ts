/**
 * The statistics behind the weight-split suites: Pearson's chi-square goodness-of-fit test
 * and exact binomial bounds. Kept here rather than pulled from a package so the suites have
 * no dependency beyond the project's own; the maths is Numerical Recipes (Press et al.,
 * 3rd ed., §6.1–6.2 for the incomplete gamma function, §14.3 for chi-square).
 */

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; ~15 significant digits). */
export function lnGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let sum = coefficients[0]!;
  for (let i = 1; i < coefficients.length; i++) sum += coefficients[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function upperIncompleteGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    // Series for P(a, x), which converges fast below a + 1.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - sum * Math.exp(logPrefix);
  }
  // Lentz's continued fraction for Q(a, x), which converges fast above a + 1.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(logPrefix) * h;
}

/** Pearson's statistic Σ (O − E)² / E. */
export function chiSquareStatistic(observed: readonly number[], expected: readonly number[]): number {
  let statistic = 0;
  observed.forEach((o, i) => {
    const e = expected[i]!;
    statistic += ((o - e) * (o - e)) / e;
  });
  return statistic;
}

/** P(χ²_df ≥ statistic): the p-value of a goodness-of-fit test with `df` degrees of freedom. */
export function chiSquareSurvival(statistic: number, df: number): number {
  return upperIncompleteGamma(df / 2, statistic / 2);
}

/**
 * p-value of "these counts were drawn with these weights" (df = categories − 1). Weights
 * need not sum to anything in particular.
 */
export function goodnessOfFit(observed: readonly number[], weights: readonly number[]): number {
  const n = observed.reduce((a, b) => a + b, 0);
  const total = weights.reduce((a, b) => a + b, 0);
  const expected = weights.map((w) => (n * w) / total);
  return chiSquareSurvival(chiSquareStatistic(observed, expected), observed.length - 1);
}

/**
 * Exact binomial acceptance bounds: the smallest `low` and largest `high` with
 * P(X < low) ≤ α/2 and P(X > high) ≤ α/2 for X ~ Binomial(n, p).
 */
export function binomialBounds(n: number, p: number, alpha: number): { low: number; high: number } {
  const logPmf = (k: number): number =>
    lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log(1 - p);
  let low = 0;
  let below = 0;
  while (below + Math.exp(logPmf(low)) <= alpha / 2) below += Math.exp(logPmf(low++));
  let high = n;
  let above = 0;
  while (above + Math.exp(logPmf(high)) <= alpha / 2) above += Math.exp(logPmf(high--));
  return { low, high };
}
