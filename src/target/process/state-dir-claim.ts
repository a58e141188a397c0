/**
 * One target instance per state directory within this process. `assertOwnerGone`
 * (process-recovery.ts) keeps out another controller process; this keeps out a second target
 * in the same process, which the registry's owner pid cannot tell apart from the first.
 */
import { stateDirInUse } from './process-recovery.js';

/** State directories claimed by a live instance in this process. */
const claimedStateDirs = new Set<string>();

/** A target's hold on its state directory. */
export class StateDirClaim {
  #held = false;

  constructor(readonly stateDir: string) {}

  /** Claims the directory; throws `AVIARY_TARGET_STATE_DIR_IN_USE` when another instance holds it. */
  take(): void {
    if (claimedStateDirs.has(this.stateDir)) throw stateDirInUse(this.stateDir, process.pid);
    claimedStateDirs.add(this.stateDir);
    this.#held = true;
  }

  /** Gives the directory up, if this claim holds it. */
  release(): void {
    if (this.#held) claimedStateDirs.delete(this.stateDir);
    this.#held = false;
  }
}
