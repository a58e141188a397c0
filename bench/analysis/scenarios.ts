/**
 * The rollouts the analysis bench plays: what each version does, how much traffic there is,
 * and whether rolling back is the right call. Base error rate 0.5%, base latency log-normal
 * with median 40 ms and p99 100 ms (latency-model.ts), 50 requests/s unless stated, canary
 * weights 10% to 50% in steps of 10 every minute (issue 5 §3, issue 12's list).
 */

/** What one version does, apart from shared incidents and bursts. */
export interface VersionModel {
  /** Probability that a request fails. */
  readonly errorRate: number;
  /** Every latency quantile of the log-normal body is multiplied by this (1 = base). */
  readonly latencyFactor: number;
  /** A share of requests delayed by a fixed amount on top (stalls, a slow dependency). */
  readonly tail?: { readonly share: number; readonly addMs: number };
}

/** An incident that hits both versions alike (a database blip); seconds after the start. */
export interface SharedIncident {
  readonly fromS: number;
  readonly toS: number;
  /** Error probability of every request during the incident, for both versions (if set). */
  readonly errorRate?: number;
  /** Every latency of both versions is multiplied by this during the incident (if set). */
  readonly latencyFactor?: number;
}

/** Periodic error bursts; the phase is drawn per seed, uniform over one period. */
export interface ErrorBursts {
  readonly everyS: number;
  readonly durationS: number;
  readonly errorRate: number;
  /** `canary`: a regression of the canary; `both`: a shared cause (healthy). */
  readonly versions: 'canary' | 'both';
}

/** The request rate is multiplied by `factor` over [fromS, toS). */
export interface TrafficSurge {
  readonly fromS: number;
  readonly toS: number;
  readonly factor: number;
}

/**
 * Session affinity with users who differ: each user is pinned to a version by a hash (the
 * canary's users are those below its weight, so raising the weight keeps them there), sends
 * an equal share of the requests and fails at their own rate: `heavyShare` of users at
 * `heavyErrorRate`, the rest at `lightErrorRate`.
 */
export interface StickyUsers {
  readonly users: number;
  readonly heavyShare: number;
  readonly heavyErrorRate: number;
  readonly lightErrorRate: number;
}

/** Interval and weights of the rollout (Flagger's seed: interval 1m, 10% steps to 50%). */
export interface WeightSchedule {
  readonly intervalS: number;
  readonly stepWeight: number;
  readonly maxWeight: number;
}

/** Which of issue 12's targets a scenario feeds. */
export type ScenarioGroup =
  'healthy' | 'crash' | 'errors+5pp' | 'errors+1pp' | 'latency' | 'stalls' | 'regression' | 'harm';

/** One rollout setting. */
export interface Scenario {
  readonly name: string;
  readonly group: ScenarioGroup;
  readonly rps: number;
  /** True when the canary is worse and the right decision is a rollback. */
  readonly regression: boolean;
  readonly primary: VersionModel;
  readonly canary: VersionModel;
  readonly schedule: WeightSchedule;
  readonly incident?: SharedIncident;
  readonly bursts?: ErrorBursts;
  readonly surge?: TrafficSurge;
  readonly sticky?: StickyUsers;
  /**
   * Settings of `canary.analysis` that describe the scenario to the product, as its user would
   * write them (sessionAffinity for sticky sessions).
   */
  readonly analysis?: Readonly<Record<string, unknown>>;
}

/** Base error probability of both versions. */
export const BASE_ERROR_RATE = 0.005;
/** The seed's schedule (test/fixtures/flagger-canary-seed.yaml). */
export const SEED_SCHEDULE: WeightSchedule = { intervalS: 60, stepWeight: 10, maxWeight: 50 };
/** 1% steps up to 5%: a canary that only ever sees a sliver of the traffic. */
const LOW_WEIGHTS: WeightSchedule = { intervalS: 60, stepWeight: 1, maxWeight: 5 };

const base: VersionModel = { errorRate: BASE_ERROR_RATE, latencyFactor: 1 };
const errors = (errorRate: number): VersionModel => ({ errorRate, latencyFactor: 1 });
const slowTail = (share: number, addMs: number): VersionModel => ({ ...base, tail: { share, addMs } });

type Entry = Omit<Scenario, 'schedule' | 'primary'> & Partial<Pick<Scenario, 'schedule' | 'primary'>>;
const healthy = (name: string, rps: number, extra: Partial<Entry> = {}): Entry => ({
  name,
  group: 'healthy',
  rps,
  regression: false,
  canary: base,
  ...extra,
});
const worse = (
  name: string,
  group: ScenarioGroup,
  rps: number,
  canary: VersionModel,
  extra: Partial<Entry> = {},
): Entry => ({
  name,
  group,
  rps,
  regression: true,
  canary,
  ...extra,
});

const ENTRIES: readonly Entry[] = [
  healthy('healthy A/A', 50),
  healthy('healthy A/A @10rps', 10),
  worse('+1pp errors @10rps', 'errors+1pp', 10, errors(0.015)),
  worse('+1pp errors @50rps', 'errors+1pp', 50, errors(0.015)),
  worse('+1pp errors @200rps', 'errors+1pp', 200, errors(0.015)),
  worse('+5pp errors', 'errors+5pp', 50, errors(0.055)),
  worse('crash (100% errors)', 'crash', 50, errors(1)),
  worse('latency +30%', 'latency', 50, { ...base, latencyFactor: 1.3 }),
  worse('stalls (0.2% +2s)', 'stalls', 50, slowTail(0.002, 2000)),
  worse('tail (1% +300ms)', 'regression', 50, slowTail(0.01, 300)),
  worse('bursty canary errors', 'regression', 50, base, {
    bursts: { everyS: 300, durationS: 30, errorRate: 0.1, versions: 'canary' },
  }),
  healthy('shared incident', 50, { incident: { fromS: 60, toS: 60 + 7 * 60, errorRate: 0.03 } }),
  // Latency doubles for both versions for 3 minutes, from mid-way through the second step.
  healthy('shared latency incident', 50, { incident: { fromS: 150, toS: 150 + 3 * 60, latencyFactor: 2 } }),
  healthy('shared error bursts', 50, {
    bursts: { everyS: 300, durationS: 30, errorRate: 0.1, versions: 'both' },
  }),
  healthy('sticky heterogeneous users', 50, {
    sticky: { users: 500, heavyShare: 0.1, heavyErrorRate: 0.041, lightErrorRate: 0.001 },
    analysis: { sessionAffinity: { cookieName: 'user' } },
  }),
  healthy('surge x2 + shared incident', 50, {
    surge: { fromS: 120, toS: 420, factor: 2 },
    incident: { fromS: 180, toS: 300, errorRate: 0.03 },
  }),
  healthy('low traffic healthy @1rps', 1),
  worse('low traffic +5pp @1rps', 'harm', 1, errors(0.055)),
  healthy('low traffic healthy @0.1rps', 0.1),
  worse('low traffic +5pp @0.1rps', 'harm', 0.1, errors(0.055)),
  worse('1-5% weight +1pp @20rps', 'harm', 20, errors(0.015), { schedule: LOW_WEIGHTS }),
  worse('1-5% weight +5pp @20rps', 'harm', 20, errors(0.055), { schedule: LOW_WEIGHTS }),
];

/** Every scenario, in report order. The first canary traffic is at 60 s (the first check tick). */
export const SCENARIOS: readonly Scenario[] = ENTRIES.map((e) => ({
  ...e,
  primary: e.primary ?? base,
  schedule: e.schedule ?? SEED_SCHEDULE,
}));
