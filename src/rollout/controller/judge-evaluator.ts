/**
 * The sequential judge at the edge: answers the `judge` check (added to `analysis.metrics`
 * by `analysis.judge`) at each check tick and at each look between them (judge-looks.ts). It
 * keeps one `JudgeState` per rollout, feeds it the router's per-version counts since its last
 * look — whole seconds only, so no request is counted twice or missed — and turns the
 * decision into a `MetricResult` that carries the evidence. `regression` is a failed check
 * *and* a request to roll back now, so it does not wait for `threshold`; `insufficient-data`
 * is a hold, never a failure. The judge's reference is the primary, or with
 * `analysis.baseline: fresh` the fresh baseline (docs/adr/0018-fresh-baseline.md): its counts
 * stand where the primary's stood, and the tests are unchanged.
 */
import { JUDGE_METRIC_NAME } from '../../config/app-analysis.js';
import type { AppSpec, MetricSpec } from '../../config/app-schema.js';
import type { EvaluationPurpose, ExtraMetricEvaluator } from './check-runner.js';
import { nextGate } from '../step/analysis-plan.js';
import { nextWeight, strategyOf } from '../step/weights.js';
import type { MetricResult } from '../step/observations.js';
import { ANALYSIS_PHASES, type RolloutStatus } from '../step/rollout-status.js';
import { judgeStep } from '../../analysis/judge.js';
import {
  assess,
  mayAdvance,
  type AssessOptions,
  type JudgeVerdict,
  type NextMove,
} from '../../analysis/judge-decision.js';
import { initJudgeState, type JudgeState } from '../../analysis/judge-state.js';
import type { TrafficSource } from '../../analysis/traffic-source.js';
import type { JudgeConfig } from '../../config/app-judge.js';

/** What the judge remembers about one rollout; plain JSON. */
export interface JudgeRun {
  readonly version: 1;
  /** Revision under analysis (`status.lastAppliedSpec`); another one starts a new run. */
  readonly revision: string;
  /** End of the last window fed (ms, a whole second); the next window starts here. */
  readonly lastTo: number;
  /** Start of the first window (ms, a whole second); absent in runs stored before it was kept. */
  readonly from?: number;
  /** Canary weight of the last window fed; absent before the first (or in runs stored before it was kept). */
  readonly weight?: number;
  readonly state: JudgeState;
}

/** Durable storage for runs, so a restarted controller keeps its evidence. */
export interface JudgeRunStore {
  load(app: string): Promise<JudgeRun | undefined>;
  save(app: string, run: JudgeRun): Promise<void>;
  remove(app: string): Promise<void>;
}

/** Options of a {@link JudgeEvaluator}. */
export interface JudgeEvaluatorOptions {
  readonly traffic: TrafficSource;
  /** The rollout's status as the controller holds it (weight, failed checks, revision). */
  readonly status: (app: string) => RolloutStatus | undefined;
  /** Where runs are kept between ticks; default: memory only (lost on restart). */
  readonly store?: JudgeRunStore;
  /**
   * How far the traffic is complete (`TrafficWindows.settledUntil`); default now. Windows end
   * there, so a data plane read after a delay (Prometheus) is asked only what it has.
   */
  readonly settledUntil?: (signal: AbortSignal) => Promise<number>;
}

/** The `judge` check of every app with `analysis.judge`. */
export class JudgeEvaluator {
  private readonly runs = new Map<string, JudgeRun>();

  constructor(private readonly options: JudgeEvaluatorOptions) {}

  /** The run of `app`, if one is in progress (for the API and tests). */
  run(app: string): JudgeRun | undefined {
    return this.runs.get(app);
  }

  /**
   * Forgets the run once the rollout leaves the analysis (succeeded, failed, promoting), so
   * the next rollout starts from no evidence. Feed it every status the controller emits.
   */
  observe(app: string, status: RolloutStatus | undefined): Promise<void> {
    if (status !== undefined && ANALYSIS_PHASES.includes(status.phase)) return Promise.resolve();
    const had = this.runs.delete(app);
    return had && this.options.store ? this.options.store.remove(app) : Promise.resolve();
  }

  /**
   * Moves the run of `app` into the wall clock's new frame after a jump of `jumpMs` (the
   * controller's `clockJump`): its windows shift by the jump in whole seconds, as the
   * proxy's per-second counters do, so no second is fed twice or skipped
   * (docs/adr/0030-clock-jumps.md).
   */
  rebase(app: string, jumpMs: number): void {
    const run = this.runs.get(app);
    const shift = Math.round(jumpMs / 1000) * 1000;
    if (run === undefined || shift === 0) return;
    const from = run.from === undefined ? {} : { from: run.from + shift };
    this.runs.set(app, { ...run, ...from, lastTo: run.lastTo + shift });
  }

  /** The check runner's `ExtraMetricEvaluator` for the `judge` metric; undefined for any other. */
  readonly evaluate: ExtraMetricEvaluator = async (app, metric, nowMs, signal, purpose = 'check') => {
    const config = app.canary.analysis.judge;
    if (metric.name !== JUDGE_METRIC_NAME || metric.templateRef !== undefined || config === undefined) {
      return undefined;
    }
    const status = this.options.status(app.name);
    if (status === undefined) {
      return {
        name: metric.name,
        value: null,
        passed: false,
        detail: `${app.name} has no rollout status yet`,
      };
    }
    let run = await this.current(app, status, nowMs);
    signal.throwIfAborted();
    // Whole seconds only: the second in progress is still filling and goes in the next window.
    const settled = this.options.settledUntil
      ? Math.min(nowMs, await this.options.settledUntil(signal))
      : nowMs;
    const to = Math.floor(settled / 1000) * 1000;
    let verdict: JudgeVerdict | undefined;
    const options = { look: purpose === 'look' };
    if (run.weight !== undefined && run.weight !== status.canaryWeight) {
      // The weight changed since the last window, when the status last progressed: the whole
      // seconds before go in at the old weight, the second of the change is left out, so no
      // evidence block mixes two weights (ADR 0002, ADR 0017).
      const changed = Math.min(to, Math.floor(status.lastProgressTime / 1000) * 1000);
      if (changed > run.lastTo) {
        [run, verdict] = await this.feed(
          app,
          run,
          { to: changed, canaryWeight: run.weight },
          config,
          options,
        );
      }
      const after = Math.ceil(status.lastProgressTime / 1000) * 1000;
      run = { ...run, lastTo: Math.max(run.lastTo, after), weight: status.canaryWeight };
    }
    if (to > run.lastTo) {
      [run, verdict] = await this.feed(app, run, { to, canaryWeight: status.canaryWeight }, config, options);
    }
    verdict ??= assess(run.state, config, options);
    const result = withReferenceCount(
      withProof(this.resultOf(app, status, metric, verdict, purpose), run),
      run,
    );
    this.runs.set(app.name, run);
    await this.options.store?.save(app.name, run);
    return result;
  };

  /**
   * Feeds the router's counts from `run.lastTo` to `to`, served at `canaryWeight`: the canary's
   * against its reference's, the primary's or the fresh baseline's ({@link referenceOf}).
   */
  private async feed(
    app: AppSpec,
    run: JudgeRun,
    { to, canaryWeight }: { to: number; canaryWeight: number },
    config: JudgeConfig,
    options: AssessOptions,
  ): Promise<[JudgeRun, JudgeVerdict]> {
    const primary = await this.options.traffic(app.name, referenceOf(app)).snapshot(run.lastTo, to);
    const canary = await this.options.traffic(app.name, 'canary').snapshot(run.lastTo, to);
    const step = judgeStep(
      run.state,
      {
        primary: { requests: primary.requests, errors: primary.errors5xx, latency: primary.latency },
        canary: { requests: canary.requests, errors: canary.errors5xx, latency: canary.latency },
        canaryWeight,
      },
      config,
      options,
    );
    return [{ ...run, lastTo: to, weight: canaryWeight, state: step.state }, step];
  }

  private async current(app: AppSpec, status: RolloutStatus, nowMs: number): Promise<JudgeRun> {
    const revision = status.lastAppliedSpec;
    let run = this.runs.get(app.name);
    if (run === undefined && this.options.store) run = await this.options.store.load(app.name);
    if (run !== undefined && run.version === 1 && run.revision === revision) return run;
    // A new run starts where the canary's weight was set (its last progress), looking back at
    // most one analysis interval. With looks every second the first look comes right after
    // the weight, and one interval back would put seconds at weight 0 into its first
    // evidence block, which must not span a change of weight (docs/adr/0017).
    const seconds = Math.max(
      Math.floor((nowMs - app.canary.analysis.interval) / 1000),
      Math.ceil(status.lastProgressTime / 1000),
    );
    return { version: 1, revision, lastTo: seconds * 1000, from: seconds * 1000, state: initJudgeState() };
  }

  private resultOf(
    app: AppSpec,
    status: RolloutStatus,
    metric: MetricSpec,
    verdict: JudgeVerdict,
    purpose: EvaluationPurpose,
  ): MetricResult {
    const { decision, evidence } = verdict;
    const base = { name: metric.name, evidence: { decision, ...evidence } };
    const pValue = smallestPValue(verdict);
    switch (decision) {
      case 'regression':
        // No sampleSize: a regression proven on few requests must not read as "too little data".
        return { ...base, value: pValue, passed: false, rollback: true, detail: evidence.summary };
      case 'insufficient-data':
        return {
          ...base,
          value: null,
          sampleSize: evidence.canaryRequests,
          passed: false,
          detail: evidence.summary,
        };
      case 'pass': {
        // A look can only roll back (judge-looks.ts): whether a move may follow is a check's question.
        const judge = app.canary.analysis.judge;
        const answer =
          judge === undefined || purpose === 'look'
            ? { advance: true as const }
            : mayAdvance(verdict, nextMove(app, status), judge);
        if (!answer.advance) {
          // A visible hold ("gathering evidence …"): no value, so no failed check. Its count
          // of canary requests lets the step tell growing evidence (progress) from none.
          return {
            ...base,
            value: null,
            sampleSize: evidence.canaryRequests,
            passed: false,
            detail: answer.hold,
          };
        }
        return {
          ...base,
          value: pValue,
          sampleSize: evidence.canaryRequests,
          passed: true,
          detail: evidence.summary,
        };
      }
    }
  }
}

/**
 * The move the rollout makes if this check passes: the promotion, or a step to the canary's
 * next weight. Mirroring and the iterations of blue/green and A/B testing give the canary no
 * larger share of live traffic, so they are steps to weight 0 (the switch to all traffic
 * before a blue/green promotion comes after the promotion gate).
 */
function nextMove(app: AppSpec, status: RolloutStatus): NextMove {
  const analysis = app.canary.analysis;
  if (nextGate(analysis, status) === 'confirm-promotion') return { kind: 'promotion' };
  if (strategyOf(analysis) !== 'canary' || (analysis.mirror && status.canaryWeight === 0 && !status.mirror)) {
    return { kind: 'step', weight: 0 };
  }
  return { kind: 'step', weight: nextWeight(analysis, status.canaryWeight) };
}

/**
 * The version the judge compares the canary with: the fresh baseline with
 * `analysis.baseline: fresh` (equally cold, equally loaded: Kayenta's method), else the primary.
 */
export function referenceOf(app: AppSpec): 'primary' | 'baseline' {
  return app.canary.analysis.baseline === 'fresh' ? 'baseline' : 'primary';
}

/** A rollback request carries the canary traffic its proof took, for the rollback event. */
function withProof(result: MetricResult, run: JudgeRun): MetricResult {
  if (result.rollback !== true || run.from === undefined) return result;
  return { ...result, proof: { canaryRequests: run.state.canary.requests, canaryMs: run.lastTo - run.from } };
}

/**
 * A result that counts the canary's requests carries its reference's count over the same
 * span, so the step can tell a canary silent at low traffic from a stalled one
 * (src/rollout/step/judge-progress.ts).
 */
function withReferenceCount(result: MetricResult, run: JudgeRun): MetricResult {
  if (result.sampleSize === undefined) return result;
  return { ...result, referenceSampleSize: run.state.primary.requests };
}

/** The smallest p-value of the judge's tests: the error test and each quantile's exceedance test. */
function smallestPValue(verdict: JudgeVerdict): number {
  return Math.min(
    verdict.evidence.errors.pValue,
    ...verdict.evidence.latency.map((l) => l.exceedance.pValue),
  );
}
