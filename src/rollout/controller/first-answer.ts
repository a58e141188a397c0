/**
 * Several metric evaluators as one: the check runner takes a single `ExtraMetricEvaluator`,
 * and each composition root (`aviary up`, the operator) has more than one (the judge,
 * metric templates). Shared so both roots combine them the same way.
 */
import type { ExtraMetricEvaluator } from './check-runner.js';

/** The first evaluator that answers a metric, in order; undefined when none does. */
export function firstAnswer(evaluators: readonly (ExtraMetricEvaluator | undefined)[]): ExtraMetricEvaluator {
  return async (app, metric, nowMs, signal, purpose) => {
    for (const evaluate of evaluators) {
      const result = await evaluate?.(app, metric, nowMs, signal, purpose);
      if (result !== undefined) return result;
    }
    return undefined;
  };
}
