/**
 * Anytime-valid confidence sequences for a rate of events among trials: one version's error
 * rate, or the share of its requests slower than a latency value. The harm bounds
 * (harm-bounds.ts) are built from them; see docs/adr/0015-harm-bounds.md.
 *
 * Construction (a discrete mixture of exponential test martingales, after Robbins 1970 and
 * Howard et al., "Time-uniform, nonparametric, nonasymptotic confidence sequences", AoS 2021).
 * Let X_1, X_2, … ∈ {0, 1} be the outcomes in the order they happen, p_t = P(X_t = 1 | past)
 * (free to vary over time, e.g. in an incident), S_n = Σ X_t and p̄_n = (1/n) Σ p_t.
 * For a fixed λ, with f_λ(p) = ln(1 + p(e^λ − 1)):
 *   M_n^λ = exp(λ S_n − Σ_t f_λ(p_t)) is a martingale with M_0 = 1 (E[e^{λX_t} | past] = e^{f_λ(p_t)});
 *   f_λ is concave in p (f″ = −(e^λ − 1)² / (1 + p(e^λ − 1))² ≤ 0), so Σ f_λ(p_t) ≤ n f_λ(p̄_n)
 *   (Jensen) and therefore exp(λ S_n − n f_λ(p̄_n)) ≤ M_n^λ.
 * For fixed weights w_j ≥ 0 summing to 1, G_n(p) = Σ_j w_j exp(λ_j S_n − n f_{λ_j}(p)) satisfies
 * G_n(p̄_n) ≤ Σ_j w_j M_n^{λ_j}, a nonnegative martingale with mean 1. Ville's inequality gives
 * P(∃n: G_n(p̄_n) ≥ 1/α) ≤ α, so {p : G_n(p) < 1/α} covers p̄_n at every n at once, under
 * continuous monitoring and optional stopping. With every λ_j < 0, G_n increases with p and the
 * set is [0, upper); with every λ_j > 0 it decreases and the set is (lower, 1]. The two sides are
 * separate sequences, each at its own α. Only the assumption above is needed: each outcome's
 * probability given the past (requests of one user that fail together break it).
 */

/** |λ| grid: 0.02 × 1.6^k, k = 0..15 (0.02 to 23). Neighbours lose < 3 % of the exponent. */
const LAMBDA_MAGNITUDES: readonly number[] = Array.from({ length: 16 }, (_, k) => 0.02 * 1.6 ** k);
/**
 * Weights: a normal in ln|λ| around |λ| = 0.3 (sd 1.2), normalised. The bounds that gate
 * promotion (error rates near 0.1–2 % over thousands of requests, latency shares over tens of
 * thousands) are tightest at |λ| ≈ 0.05–1, where this pays 1.9–2.5 nats instead of equal
 * weights' ln 16 ≈ 2.8; large |λ| (a few events, far from the bound) pays more, where the
 * data are strong anyway.
 */
const LOG_WEIGHTS: readonly number[] = (() => {
  const raw = LAMBDA_MAGNITUDES.map((m) => -0.5 * ((Math.log(m) - Math.log(0.3)) / 1.2) ** 2);
  const max = Math.max(...raw);
  const logSum = max + Math.log(raw.reduce((sum, r) => sum + Math.exp(r - max), 0));
  return raw.map((r) => r - logSum);
})();

/** Which side a sequence bounds. */
export type BoundSide = 'upper' | 'lower';

/** λ_j and e^{λ_j} − 1 of each side: negative λ bound from above, positive from below. */
const LAMBDAS: Readonly<Record<BoundSide, readonly number[]>> = {
  upper: LAMBDA_MAGNITUDES.map((m) => -m),
  lower: LAMBDA_MAGNITUDES,
};
const EXPM1: Readonly<Record<BoundSide, readonly number[]>> = {
  upper: LAMBDAS.upper.map(Math.expm1),
  lower: LAMBDAS.lower.map(Math.expm1),
};

/**
 * ln G_n(p) of the side's mixture after `events` out of `trials` (counts may be fractional
 * when a caller projects future data).
 */
export function logMixture(events: number, trials: number, p: number, side: BoundSide): number {
  const lambdas = LAMBDAS[side];
  const expm1 = EXPM1[side];
  const terms = new Array<number>(lambdas.length);
  let max = -Infinity;
  for (let j = 0; j < lambdas.length; j++) {
    const term = LOG_WEIGHTS[j]! + lambdas[j]! * events - trials * Math.log1p(p * expm1[j]!);
    terms[j] = term;
    if (term > max) max = term;
  }
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (const term of terms) sum += Math.exp(term - max);
  return max + Math.log(sum);
}

/**
 * Whether the data rule out the rate `p` at level α on one side: for `upper`, "the average
 * rate is at least p" is rejected (p lies above the upper bound); for `lower`, "at most p".
 */
export function rejects(events: number, trials: number, p: number, alpha: number, side: BoundSide): boolean {
  if (trials <= 0) return false;
  if (side === 'upper' && p <= 0) return false;
  if (side === 'lower' && p >= 1) return false;
  return logMixture(events, trials, p, side) >= Math.log(1 / alpha);
}

/** Bounds are found to this relative precision by default (far below anything displayed or compared). */
const PRECISION = 1e-7;

/** A first step from the observed rate towards a bound: about its normal-theory width. */
function firstStep(events: number, trials: number, alpha: number): number {
  const rate = events / trials;
  const log = Math.log(1 / alpha);
  return Math.sqrt((2 * rate * (1 - rate) * log) / trials) + log / trials;
}

/**
 * Anytime-valid upper bound on the average event probability: with probability ≥ 1 − α it
 * holds at every number of trials at once. 1 before any trial. `precision` is relative.
 */
export function rateUpperBound(events: number, trials: number, alpha: number, precision = PRECISION): number {
  if (trials <= 0 || events >= trials || !rejects(events, trials, 1, alpha, 'upper')) return 1;
  // G is at most 1 at the observed rate (Jensen), so the boundary lies above it: gallop, then bisect.
  let lo = events / trials;
  let step = firstStep(events, trials, alpha);
  let hi = Math.min(1, lo + step);
  while (!rejects(events, trials, hi, alpha, 'upper')) {
    lo = hi;
    step *= 2;
    hi = Math.min(1, lo + step);
  }
  while (hi - lo > precision * hi) {
    const mid = (lo + hi) / 2;
    if (rejects(events, trials, mid, alpha, 'upper')) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Anytime-valid lower bound on the average event probability: with probability ≥ 1 − α it
 * holds at every number of trials at once. 0 before any event. `precision` is relative.
 */
export function rateLowerBound(events: number, trials: number, alpha: number, precision = PRECISION): number {
  if (trials <= 0 || events <= 0 || !rejects(events, trials, 0, alpha, 'lower')) return 0;
  let hi = events / trials;
  let step = firstStep(events, trials, alpha);
  let lo = Math.max(0, hi - step);
  while (!rejects(events, trials, lo, alpha, 'lower')) {
    hi = lo;
    step *= 2;
    lo = Math.max(0, hi - step);
  }
  while (hi - lo > precision * hi) {
    const mid = (lo + hi) / 2;
    if (rejects(events, trials, mid, alpha, 'lower')) lo = mid;
    else hi = mid;
  }
  return lo;
}
