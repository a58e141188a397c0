/**
 * The rollouts the analysis bench plays: what each version does, how much traffic there is,
 * and whether rolling back is the right call. Base error rate 0.5%, base latency log-normal
 * with median 40 ms and p99 100 ms, 50 requests/s unless stated (issue 5 §3).
 */

/** What one version does (time-invariant apart from shared incidents). */
export interface VersionModel {
  /** Probability that a request fails. */
  readonly errorRate: number;
  /** Every latency quantile is multiplied by this (1 = base distribution). */
  readonly latencyFactor: number;
}

/** An incident that hits both versions alike (a database blip). */
export interface SharedIncident {
  /** Seconds after the rollout started. */
  readonly fromS: number;
  readonly toS: number;
  /** Error probability of every request during the incident, for both versions (if set). */
  readonly errorRate?: number;
  /** Every latency of both versions is multiplied by this during the incident (if set). */
  readonly latencyFactor?: number;
}

/** Which issue-5 targets a scenario feeds. */
export type ScenarioGroup =
  'healthy' | 'errors+1pp' | 'errors+5pp' | 'crash' | 'latency' | 'incident' | 'low-traffic';

/** One rollout setting. */
export interface Scenario {
  readonly name: string;
  readonly group: ScenarioGroup;
  readonly rps: number;
  /** True when the canary is worse and the right decision is a rollback. */
  readonly regression: boolean;
  readonly primary: VersionModel;
  readonly canary: VersionModel;
  readonly incident?: SharedIncident;
}

/** Base error probability of both versions. */
export const BASE_ERROR_RATE = 0.005;
/** Median of the base latency distribution, in ms. */
export const BASE_MEDIAN_MS = 40;
/** Log-space standard deviation giving p99 = 100 ms: ln(100/40) / z₀.₉₉. */
export const LATENCY_SIGMA = Math.log(100 / BASE_MEDIAN_MS) / 2.3263478740408408;

const base: VersionModel = { errorRate: BASE_ERROR_RATE, latencyFactor: 1 };
const worse = (errorRate: number, latencyFactor = 1): VersionModel => ({ errorRate, latencyFactor });

/**
 * Every scenario, in report order. The first canary traffic is at 60 s (Flagger's first step).
 * "healthy A/A @10rps" and "shared latency incident" are extras that explain results.
 */
export const SCENARIOS: readonly Scenario[] = [
  { name: 'healthy A/A', group: 'healthy', rps: 50, regression: false, primary: base, canary: base },
  { name: 'healthy A/A @10rps', group: 'healthy', rps: 10, regression: false, primary: base, canary: base },
  {
    name: '+1pp errors @10rps',
    group: 'errors+1pp',
    rps: 10,
    regression: true,
    primary: base,
    canary: worse(0.015),
  },
  {
    name: '+1pp errors @50rps',
    group: 'errors+1pp',
    rps: 50,
    regression: true,
    primary: base,
    canary: worse(0.015),
  },
  {
    name: '+1pp errors @200rps',
    group: 'errors+1pp',
    rps: 200,
    regression: true,
    primary: base,
    canary: worse(0.015),
  },
  {
    name: '+5pp errors',
    group: 'errors+5pp',
    rps: 50,
    regression: true,
    primary: base,
    canary: worse(0.055),
  },
  { name: 'crash (100% errors)', group: 'crash', rps: 50, regression: true, primary: base, canary: worse(1) },
  {
    name: 'latency +30%',
    group: 'latency',
    rps: 50,
    regression: true,
    primary: base,
    canary: worse(BASE_ERROR_RATE, 1.3),
  },
  {
    name: 'shared incident',
    group: 'incident',
    rps: 50,
    regression: false,
    primary: base,
    canary: base,
    incident: { fromS: 60, toS: 60 + 7 * 60, errorRate: 0.03 },
  },
  {
    // Not in issue 5's list: latency doubles for both versions for 3 minutes, from mid-way
    // through the second step, while the canary's weight keeps rising.
    name: 'shared latency incident',
    group: 'incident',
    rps: 50,
    regression: false,
    primary: base,
    canary: base,
    incident: { fromS: 150, toS: 150 + 3 * 60, latencyFactor: 2 },
  },
  {
    name: 'low traffic healthy',
    group: 'low-traffic',
    rps: 1,
    regression: false,
    primary: base,
    canary: base,
  },
  {
    name: 'low traffic +5pp',
    group: 'low-traffic',
    rps: 1,
    regression: true,
    primary: base,
    canary: worse(0.055),
  },
];
