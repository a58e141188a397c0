/**
 * A moment of the soak when every rollout has settled (primaries only, no canary process
 * left): which Aviary processes run then, and the journal's size. The first idle point
 * after the warm-up and the last one bound the figures the targets are judged on.
 */
import { aviaryProcesses, type AviaryProcess } from './aviary-processes.js';
import { journalSize, type JournalSize } from './journal-size.js';

/** What an idle point found. */
export interface IdlePoint {
  readonly label: string;
  /** Seconds since the load started. */
  readonly atSeconds: number;
  readonly processes: readonly AviaryProcess[];
  readonly journal: JournalSize;
}

/** The Aviary processes below `controllerPid` (running `script`) and the journal in `stateDir` now. */
export async function idlePoint(
  label: string,
  atSeconds: number,
  controllerPid: number,
  script: string,
  stateDir: string,
): Promise<IdlePoint> {
  const processes = await aviaryProcesses(controllerPid, script);
  return { label, atSeconds, processes, journal: await journalSize(stateDir) };
}
