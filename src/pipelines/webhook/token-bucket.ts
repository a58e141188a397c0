/**
 * A token bucket: at most `burst` tokens, refilled continuously at `perSecond`; each delivery
 * takes one. It allows a burst of `burst` deliveries at once and `perSecond` on average, the
 * shape of a forge's traffic (a `git push --tags` is a burst, then quiet). Time is given by
 * the caller, never read here, so tests drive it without timers.
 */

/** One bucket of tokens; `now` is in milliseconds on any monotonic scale. */
export class TokenBucket {
  readonly #perSecond: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  /** Starts full at `now`. */
  constructor(perSecond: number, burst: number, now: number) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Takes one token at `now`: answers 0 when taken, else the milliseconds until one is there. */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000);
  }

  /** True when the bucket is full at `now`: forgetting it then changes nothing. */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#burst;
  }

  #refill(now: number): void {
    // A clock that steps back adds nothing rather than taking tokens away.
    const elapsedMs = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsedMs * this.#perSecond) / 1000);
    this.#updatedAt = Math.max(this.#updatedAt, now);
  }
}
