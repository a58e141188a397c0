/**
 * Aviary in the bench is the product itself, on a virtual clock. Each tick does what
 * `RolloutController.runTick` (src/rollout/controller/controller.ts) does, through the same
 * functions:
 *   - `tickObservations` (controller/tick-observations.ts): the roles from the target;
 *     `requiredChecks` (step/required-checks.ts, over step/analysis-plan.ts) says which checks
 *     are due at `now`, `requiredLook` (step/judge-looks.ts) whether the judge looks between
 *     check ticks; `runChecks` / `runLook` (controller/check-runner.ts) run them, the `judge`
 *     check through the real `JudgeEvaluator.evaluate` (controller/judge-evaluator.ts)
 *     reading a `TrafficSource` over the simulated one-second slices (product-edge.ts);
 *   - `step` (step/step.ts), the pure state machine, whose actions are applied to an
 *     instant target and to the routing weight;
 *   - `JudgeEvaluator.observe` with the new status, as runtime.ts wires it;
 *   - `nextTickDelay` (controller/tick-delay.ts, over `nextWakeAt` in step/judge-looks.ts):
 *     the virtual clock jumps by the delay the controller would set its timer to, the sooner
 *     of the next check tick and the next look (`analysis.judge.lookInterval`), capped by
 *     `maxTickMs` (default 1 s).
 * Only the timers themselves and the persistence of state are left out. Nothing of the policy
 * is re-implemented: when to check, when to look, when to step, roll back or promote is
 * decided by that code, with the app spec built by the product's schema: the seed's interval
 * 1m, threshold 5 and weights, `analysis.judge: {}` (every judge default), and the product's
 * default progress deadline (600 s; the seed's 60 s would roll back at the first hold).
 */
import { ZodError } from 'zod';
import { appSchema, type AppSpec } from '../../src/config/app-schema.js';
import { identifyProcess, type ProcessSpec } from '../../src/target/process/version-spec.js';
import { newAppRecord, rememberSpec, type AppRecord } from '../../src/rollout/controller/app-record.js';
import { JudgeEvaluator } from '../../src/rollout/controller/judge-evaluator.js';
import { nextTickDelay } from '../../src/rollout/controller/tick-delay.js';
import { tickObservations, type ObserveDeps } from '../../src/rollout/controller/tick-observations.js';
import type { MetricObserver } from '../../src/metrics/metric-observer.js';
import { step as productStep } from '../../src/rollout/step/step.js';
import type { RolloutStatus } from '../../src/rollout/step/rollout-status.js';
import { InstantTarget, SimulatedTrafficWindows } from './product-edge.js';
import { FIRST_CANARY_TRAFFIC_S, HORIZON_S, type RolloutResult } from './run-rollout.js';
import type { Scenario } from './scenarios.js';
import { StepObservation, TrafficModel } from './traffic.js';

/** What a test may swap to show that the bench runs the product (defaults: the product's own). */
export interface ProductOverrides {
  /** Merged into the app's `canary.analysis` input before the product's schema parses it. */
  readonly analysis?: Readonly<Record<string, unknown>>;
  /** The state machine; default the product's `step`. */
  readonly step?: typeof productStep;
  /** Longest wait between ticks, as `ControllerOptions.maxTickMs`; default 1 s. */
  readonly maxTickMs?: number;
}

/** Virtual epoch of the rollout's start: a whole second, as the router's slices are. */
const T0 = 1_700_000_000_000;
const APP = 'bench';

/** The app of `scenario` at `version`, validated by the product's schema. */
export function benchApp(scenario: Scenario, version: string, overrides: ProductOverrides = {}): AppSpec {
  const { intervalS, stepWeight, maxWeight } = scenario.schedule;
  return appSchema.parse({
    name: APP,
    path: '/',
    process: { command: 'node', args: ['server.js'], env: { VERSION: version } },
    canary: {
      analysis: {
        interval: `${intervalS}s`,
        threshold: 5,
        stepWeight,
        maxWeight,
        judge: {},
        ...scenario.analysis,
        ...overrides.analysis,
      },
    },
  });
}

/** The product's config error as its user would read it: each issue's path and message. */
function configError(err: unknown): string {
  if (!(err instanceof ZodError)) throw err;
  return err.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
}

const never = new AbortController().signal;
/** Event reasons that start a rollback (transitions.ts `rollback` records one before `Failed`). */
const ROLLBACK_REASONS = new Set([
  'RegressionDetected',
  'ThresholdReached',
  'DeadlineExceeded',
  'RollbackRequested',
]);
const noObserver: MetricObserver = {
  kind: 'bench',
  observe: () => Promise.reject(new Error('bench: the judged app has no built-in metric')),
};
const noWebhooks = { call: () => Promise.reject(new Error('bench: the judged app has no webhook')) };

/** Runs one rollout of `scenario` through the product's controller logic; deterministic in the seed. */
export async function runProductRollout(
  scenario: Scenario,
  seed: number,
  overrides: ProductOverrides = {},
): Promise<RolloutResult> {
  const stepFn = overrides.step ?? productStep;
  const maxTickMs = overrides.maxTickMs ?? 1000;
  const identify = (workload: AppSpec['workload']) => identifyProcess(workload as ProcessSpec);
  const target = new InstantTarget();
  const windows = new SimulatedTrafficWindows();
  let first: AppSpec;
  try {
    first = benchApp(scenario, '1', overrides);
  } catch (err) {
    // The product refuses these settings (e.g. the judge under session affinity, ADR 0016).
    return {
      outcome: 'refused',
      decisionS: 0,
      excessFailures: 0,
      canaryRequests: 0,
      cause: configError(err),
    };
  }
  const record: AppRecord = newAppRecord(first, undefined, identify);
  const judge = new JudgeEvaluator({ traffic: windows.source, status: () => record.status });
  const deps: ObserveDeps = {
    target,
    namespace: 'bench',
    checks: { webhooks: noWebhooks, observer: noObserver, extraMetrics: judge.evaluate },
  };
  let weight = 0;
  let reason: string | undefined;
  const tick = async (now: number): Promise<RolloutStatus> => {
    const observations = await tickObservations(deps, record, now, never);
    // The product turns a check that cannot read its data into a failed check or a silent
    // look; in the bench that can only be a bench bug, so it stops the run.
    for (const metric of [...observations.checks.metrics, ...(observations.looks ?? [])]) {
      if (metric.error !== undefined) throw new Error(`bench: check ${metric.name} failed: ${metric.error}`);
    }
    const result = stepFn(record.rollout, record.status, observations, now);
    record.status = result.status;
    for (const action of result.actions) {
      target.apply(action);
      if (action.kind === 'set-routes') weight = action.canaryWeight;
      if (action.kind === 'event' && ROLLBACK_REASONS.has(action.reason)) reason = action.reason;
    }
    await judge.observe(APP, result.status);
    return result.status;
  };
  // Version 1 becomes the primary before the clock starts; version 2 arrives at T0.
  await tick(T0 - 2000);
  await tick(T0 - 1000);
  rememberSpec(record, benchApp(scenario, '2', overrides), identify);

  const traffic = new TrafficModel(scenario, seed);
  const second = new StepObservation();
  let simulatedToS = 0;
  let firstCanaryS: number | undefined;
  let excessFailures = 0;
  let canaryRequests = 0;
  let now = T0;
  for (;;) {
    for (; simulatedToS < Math.floor((now - T0) / 1000);) {
      simulatedToS++;
      traffic.step(simulatedToS, weight, second);
      windows.record(T0 + (simulatedToS - 1) * 1000, second);
      if (firstCanaryS !== undefined) {
        excessFailures += second.canary.errors - second.canaryErrorsAtPrimaryRate;
        canaryRequests += second.canary.requests;
      }
    }
    reason = undefined;
    const status = await tick(now);
    const nowS = (now - T0) / 1000;
    if (firstCanaryS === undefined && weight > 0) firstCanaryS = nowS;
    // Ticks need not fall on whole seconds (a look comes MIN_TICK_MS after the first step).
    const decisionS = Math.round((nowS - (firstCanaryS ?? FIRST_CANARY_TRAFFIC_S)) * 100) / 100;
    const base = { decisionS, excessFailures, canaryRequests };
    if (status.phase === 'Failed') return { outcome: 'rollback', ...base, cause: reason ?? 'unknown' };
    if (status.phase === 'Promoting') return { outcome: 'promote', ...base };
    if (decisionS >= HORIZON_S) return { outcome: 'undecided', ...base, decisionS: HORIZON_S };
    now += nextTickDelay(record.rollout, status, record.lastLookAt, now, maxTickMs);
  }
}
