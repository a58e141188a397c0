/**
 * A status moved into the wall clock's new frame after a jump (docs/adr/0030-clock-jumps.md):
 * every time it holds is shifted by the jump, so what is measured from them — the next check
 * (`nextCheckAt`), the progress deadline (`lastProgressTime`), the time in a phase — counts the
 * time that really passed, not the step of the clock. Pure: the controller detects the jump
 * with a monotonic clock and calls this before the tick's `step`.
 */
import type { RolloutStatus } from './rollout-status.js';

/** `status` with its times shifted by `jumpMs` (positive: the wall clock jumped forward). */
export function rebaseStatus(status: RolloutStatus, jumpMs: number): RolloutStatus {
  if (jumpMs === 0) return status;
  return {
    ...status,
    lastTransitionTime: status.lastTransitionTime + jumpMs,
    lastProgressTime: status.lastProgressTime + jumpMs,
    nextCheckAt: status.nextCheckAt + jumpMs,
    promoted: { ...status.promoted, lastTransitionTime: status.promoted.lastTransitionTime + jumpMs },
  };
}
