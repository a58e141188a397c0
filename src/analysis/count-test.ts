/**
 * The anytime-valid count test of Lindon & Malek ("Anytime-Valid Inference for Multinomial
 * Count Data", NeurIPS 2022), for two versions whose traffic split changes over time.
 *
 * Each version's events (errors, or requests slower than a threshold) form a Poisson process.
 * Given that an event happened during an observation window where the canary served a share ρ
 * of the requests, it came from the canary with probability θ = ρe^δ / (ρe^δ + 1 − ρ), where δ is
 * the log ratio of the canary's per-request event rate to the primary's. The unknown and
 * time-varying baseline rate cancels, which is what makes incidents shared by both versions
 * harmless. H0 is δ = 0 (θ = ρ).
 *
 * The paper mixes over θ with a Dirichlet prior, which is conjugate only while ρ is constant.
 * We mix over δ instead, which is the same in every window whatever the split, with a discrete
 * prior on a fixed grid: for each grid value the product of per-window likelihood ratios is a
 * test supermartingale under H0, so any fixed mixture of them is one too (Ville's inequality
 * then gives validity under continuous monitoring). See docs/adr/0002-sequential-judge.md.
 */

/** Spacing of the δ grid (log rate ratio). 0.1 costs under 1% of power against any δ. */
export const GRID_STEP = 0.1;
/** The grid spans δ ∈ [−6, 6], i.e. rate ratios from 1/400 to 400. */
const GRID_HALF_WIDTH = 60;
const GRID_SIZE = 2 * GRID_HALF_WIDTH + 1;
/** Grid index of δ = 0. */
const ZERO_INDEX = GRID_HALF_WIDTH;

/** δ value of each grid index. */
export const DELTA_GRID: readonly number[] = Array.from(
  { length: GRID_SIZE },
  (_, i) => (i - ZERO_INDEX) * GRID_STEP,
);

/**
 * Default scale of the prior on δ, used by the error test: weights ∝ exp(−δ²/(2·2²)), so two
 * thirds of the mass of the δ > 0 half (the regression test's alternative) lies on rate ratios
 * 1 to e² ≈ 7.4, where the error regressions that are hard to see live (+1 to +5 points on a
 * 0.5% baseline is ×3 to ×11); larger effects such as a crash are detected within a handful of
 * events whatever the prior. Bench: scale 1 or 1.5 slows +5 pp and low traffic, 3 slows +1 pp.
 */
export const ERROR_PRIOR_SCALE = 2;

/** Prior weights on the grid and the masses the tests renormalise by. */
interface Prior {
  readonly log: readonly number[];
  readonly logMassAboveZero: number;
}

/** ln Σ_{i ∈ [from, to)} exp(logPrior[i] + llr[i]), shifted by the maximum for stability. */
function logPriorSum(
  logPrior: readonly number[],
  llr: readonly number[] | undefined,
  from: number,
  to: number,
): number {
  let max = -Infinity;
  for (let i = from; i < to; i++) max = Math.max(max, logPrior[i]! + (llr?.[i] ?? 0));
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = from; i < to; i++) sum += Math.exp(logPrior[i]! + (llr?.[i] ?? 0) - max);
  return max + Math.log(sum);
}

const priors = new Map<number, Prior>();

/** The N(0, scale²) prior on the grid; computed once per scale. */
function priorOf(scale: number): Prior {
  const known = priors.get(scale);
  if (known !== undefined) return known;
  const log = DELTA_GRID.map((d) => (-0.5 * d * d) / (scale * scale));
  const prior: Prior = {
    log,
    logMassAboveZero: logPriorSum(log, undefined, ZERO_INDEX + 1, GRID_SIZE),
  };
  priors.set(scale, prior);
  return prior;
}
const EXPM1_DELTA: readonly number[] = DELTA_GRID.map((d) => Math.expm1(d));

/** Serialisable state of one count test. */
export interface CountTestState {
  /** Σ over windows of the log likelihood ratio of each grid δ against δ = 0. */
  readonly logLikelihoodRatio: readonly number[];
  /** Current log Bayes factor (log e-value) against "canary not worse" (δ ≤ 0). */
  readonly logBayesFactor: number;
  /** Running maximum of {@link logBayesFactor}; the p-value is exp(−max). */
  readonly maxLogBayesFactor: number;
  readonly canaryEvents: number;
  readonly primaryEvents: number;
  /** Scale of the normal prior on δ; absent in states saved before it existed (then 2). */
  readonly priorScale?: number;
}

/** Events seen in one window, and the canary's share of the window's requests. */
export interface CountWindow {
  readonly canaryEvents: number;
  readonly primaryEvents: number;
  /** Realised share of requests served by the canary in the window, in [0, 1]. */
  readonly canaryShare: number;
}

/**
 * Fresh state: no evidence either way. `priorScale` (default {@link ERROR_PRIOR_SCALE}) is the
 * standard deviation of the prior on δ; any fixed value keeps validity, it only moves power
 * between small and large effects.
 */
export function initCountTest(priorScale = ERROR_PRIOR_SCALE): CountTestState {
  return {
    priorScale,
    logLikelihoodRatio: new Array<number>(GRID_SIZE).fill(0),
    logBayesFactor: 0,
    maxLogBayesFactor: 0,
    canaryEvents: 0,
    primaryEvents: 0,
  };
}

/**
 * Adds one window. The caller guarantees canaryEvents = 0 when canaryShare = 0 and
 * primaryEvents = 0 when canaryShare = 1 (events come from requests).
 */
export function updateCountTest(state: CountTestState, window: CountWindow): CountTestState {
  const { canaryEvents, primaryEvents, canaryShare: rho } = window;
  const events = canaryEvents + primaryEvents;
  if (events === 0 || rho <= 0 || rho >= 1) {
    // No events, or a window one version did not serve: the likelihood ratio is exactly 1.
    return {
      ...state,
      canaryEvents: state.canaryEvents + canaryEvents,
      primaryEvents: state.primaryEvents + primaryEvents,
    };
  }
  const llr = state.logLikelihoodRatio.slice();
  for (let i = 0; i < GRID_SIZE; i++) {
    const delta = DELTA_GRID[i]!;
    // log[(θ/ρ)^x_c ((1−θ)/(1−ρ))^x_p] with θ = ρe^δ/(ρe^δ + 1 − ρ).
    llr[i]! += canaryEvents * delta - events * Math.log1p(rho * EXPM1_DELTA[i]!);
  }
  // Regression test: prior restricted to δ > 0, against δ = 0 (whose ratio is always 1).
  // Valid against the composite H0 δ ≤ 0 too, because θ increases with δ, so a smaller true δ
  // only lowers each factor's mean.
  const prior = priorOf(state.priorScale ?? ERROR_PRIOR_SCALE);
  const logBayesFactor = logPriorSum(prior.log, llr, ZERO_INDEX + 1, GRID_SIZE) - prior.logMassAboveZero;
  return {
    ...state,
    logLikelihoodRatio: llr,
    logBayesFactor,
    maxLogBayesFactor: Math.max(state.maxLogBayesFactor, logBayesFactor),
    canaryEvents: state.canaryEvents + canaryEvents,
    primaryEvents: state.primaryEvents + primaryEvents,
  };
}

/**
 * Maximum-likelihood δ on the grid (0 before any event): the effect to read, with no bound
 * attached. Bounds on the canary's excess are harm-bounds.ts's (docs/adr/0015-harm-bounds.md):
 * inverting this test at δ ≠ 0 was never shown valid under block conditioning.
 */
export function countTestEstimate(state: CountTestState): number {
  const llr = state.logLikelihoodRatio;
  let mle = ZERO_INDEX;
  for (let i = 0; i < GRID_SIZE; i++) if (llr[i]! > llr[mle]!) mle = i;
  return DELTA_GRID[mle]!;
}

/** Anytime-valid p-value of the regression test: min over time of 1/BF, never increasing. */
export function countTestPValue(state: CountTestState): number {
  return Math.min(1, Math.exp(-state.maxLogBayesFactor));
}
