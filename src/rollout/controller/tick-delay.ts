/**
 * How long the controller waits before an app's next tick (ADR 0006, and ADR 0017 for the
 * judge's looks): until the next check or look is due, never longer than `maxTickMs`, so
 * readiness changes and commands are noticed quickly, and never shorter than
 * {@link MIN_TICK_MS}. Pure, so the wait is tested without timers.
 */
import { nextWakeAt } from '../step/judge-looks.js';
import type { RolloutSpec } from '../step/rollout-spec.js';
import { SETTLED_PHASES, type RolloutStatus } from '../step/rollout-status.js';

/** Shortest wait between two ticks of one app. */
export const MIN_TICK_MS = 50;

/** Milliseconds from `now` to the next tick of a rollout in `status`, whose judge last looked at `lastLookAt`. */
export function nextTickDelay(
  spec: RolloutSpec,
  status: RolloutStatus,
  lastLookAt: number | undefined,
  now: number,
  maxTickMs: number,
): number {
  const untilWake = nextWakeAt(spec, status, lastLookAt) - now;
  // A settled rollout has no check due, whatever its old nextCheckAt says; a new revision, a
  // command or a gate ticks at once. Polling it every 50 ms would only burn CPU.
  if (untilWake <= 0 && SETTLED_PHASES.includes(status.phase)) return maxTickMs;
  return Math.max(MIN_TICK_MS, Math.min(maxTickMs, untilWake));
}
