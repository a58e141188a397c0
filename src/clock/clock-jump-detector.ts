/**
 * Tells a step of the wall clock (an NTP step, a VM resumed, an operator's `date -s`) from time
 * passing: between two reads, the wall clock and the monotonic clock advance alike unless the
 * wall clock was stepped, so the change of their difference is the jump. Slewing (NTP's gradual
 * correction) and jitter stay under the tolerance and are not jumps. See
 * docs/adr/0030-clock-jumps.md.
 */

/** Default smallest change of (wall − monotonic) taken for a jump, ms. */
export const DEFAULT_JUMP_TOLERANCE_MS = 1_000;

/** One read of the wall clock. */
export interface WallClockRead {
  /** The wall clock, ms since the epoch. */
  readonly now: number;
  /** How far the wall clock was stepped since the previous read (positive: forward); 0 when it was not. */
  readonly jumpMs: number;
}

/** Options of a {@link ClockJumpDetector}. */
export interface ClockJumpDetectorOptions {
  /** Wall clock, ms since the epoch; default `Date.now`. */
  readonly wall?: () => number;
  /** A clock no step moves, ms; default `performance.now` (CLOCK_MONOTONIC). */
  readonly monotonic?: () => number;
  /** Default {@link DEFAULT_JUMP_TOLERANCE_MS}. */
  readonly toleranceMs?: number;
}

/** Reads the wall clock and reports how far it jumped since the previous read. */
export class ClockJumpDetector {
  readonly #wall: () => number;
  readonly #monotonic: () => number;
  readonly #toleranceMs: number;
  #offset: number | undefined;

  constructor(options: ClockJumpDetectorOptions = {}) {
    this.#wall = options.wall ?? Date.now;
    this.#monotonic = options.monotonic ?? (() => performance.now());
    this.#toleranceMs = options.toleranceMs ?? DEFAULT_JUMP_TOLERANCE_MS;
  }

  /** The wall clock now, and the jump since the previous read (the first read reports none). */
  read(): WallClockRead {
    return this.observe(this.#wall());
  }

  /** As {@link read}, for a wall-clock reading `now` the caller has just taken. */
  observe(now: number): WallClockRead {
    const offset = now - this.#monotonic();
    const drift = this.#offset === undefined ? 0 : offset - this.#offset;
    // Changes under the tolerance are absorbed, so slewing never adds up to a jump.
    this.#offset = offset;
    return { now, jumpMs: Math.abs(drift) >= this.#toleranceMs ? drift : 0 };
  }
}
