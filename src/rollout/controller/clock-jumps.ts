/**
 * The controller's side of a wall-clock jump (docs/adr/0030-clock-jumps.md): each app's ticks
 * read the wall clock through their own {@link ClockJumpDetector}, so a jump is seen by the
 * tick of that app that follows it, before its `step`, and never by a tick already under way
 * with the old time. The app's record is then moved into the new frame: its status' times
 * (rebaseStatus) and its judge's last look, so cadence and deadline count real time.
 */
import { ClockJumpDetector, type WallClockRead } from '../../clock/clock-jump-detector.js';
import { rebaseStatus } from '../step/clock-rebase.js';
import type { RolloutEventRecord } from './action-executor.js';
import { eventOf, type AppRecord } from './app-record.js';

/** What the controller emits as `clockJump` when an app's tick finds the wall clock stepped. */
export interface ClockJump {
  readonly app: string;
  /** Positive: the wall clock jumped forward. */
  readonly jumpMs: number;
}

/** The wall clock of every app's ticks, each telling the jumps since that app's previous tick. */
export class TickClocks {
  readonly #detectors = new Map<string, ClockJumpDetector>();

  constructor(
    private readonly wall: () => number,
    private readonly monotonic: () => number,
  ) {}

  /** The wall clock for a tick of `app`, and how far it jumped since that app's previous tick. */
  read(app: string): WallClockRead {
    let detector = this.#detectors.get(app);
    if (detector === undefined) {
      detector = new ClockJumpDetector({ wall: this.wall, monotonic: this.monotonic });
      this.#detectors.set(app, detector);
    }
    return detector.read();
  }

  /** Forgets an app that is no longer driven. */
  forget(app: string): void {
    this.#detectors.delete(app);
  }
}

/**
 * Moves `record` into the wall clock's frame after a jump of `jumpMs` found at `now` (its
 * status' times and its last look) and answers the warning event that says so.
 */
export function followClockJump(record: AppRecord, jumpMs: number, now: number): RolloutEventRecord {
  if (record.status !== undefined) record.status = rebaseStatus(record.status, jumpMs);
  if (record.lastLookAt !== undefined) record.lastLookAt += jumpMs;
  const app = record.spec.name;
  const seconds = (Math.abs(jumpMs) / 1000).toFixed(1);
  const message = `The wall clock jumped ${jumpMs > 0 ? 'forward' : 'back'} ${seconds} s during the rollout of ${app}: its next check and progress deadline keep counting the time that really passed`;
  return eventOf(record, app, now, 'ClockJumped', message, 'warning');
}
