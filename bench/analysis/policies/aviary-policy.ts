/**
 * Aviary's judge on the shared step schedule. The judge is fed every simulated second (the
 * router's counters are in-process, so the scheduler can read increments that often; the
 * tests are anytime-valid, so the cadence costs no validity), with the configured weight so
 * that evidence blocks never straddle a step. `regression` rolls back at once; at each tick the
 * rollout advances only when `mayAdvance` allows it: a step on `pass`, the promotion on `pass`
 * with evidence that does not lean towards a regression. Otherwise it holds its weight, which
 * is never counted as a failure.
 */
import {
  initJudgeState,
  judgeStep,
  mayAdvance,
  type JudgeState,
  type JudgeConfig,
  type JudgeVerdict,
} from '../../../src/analysis/index.js';
import type { StepObservation } from '../traffic.js';
import { nextWeight, SCHEDULE, type RolloutOutcome, type RolloutPolicy } from './policy.js';

/** Aviary, policy (b). */
export class AviaryPolicy implements RolloutPolicy {
  readonly kind = 'aviary';
  private state: JudgeState = initJudgeState();
  private weight: number = SCHEDULE.stepWeight;
  private last: JudgeVerdict | undefined;

  constructor(private readonly config: JudgeConfig) {}

  observe(step: StepObservation): RolloutOutcome | undefined {
    if (step.primary.requests + step.canary.requests === 0) return undefined;
    const window = { primary: step.primary, canary: step.canary, canaryWeight: this.weight };
    const result = judgeStep(this.state, window, this.config);
    this.state = result.state;
    this.last = result;
    return result.decision === 'regression' ? 'rollback' : undefined;
  }

  tick(weight: number): number | RolloutOutcome {
    const next = nextWeight(weight);
    const allowed =
      this.last !== undefined && mayAdvance(this.last, next === 'promote' ? 'promotion' : 'step');
    if (!allowed) return weight;
    if (typeof next === 'number') this.weight = next;
    return next;
  }
}
