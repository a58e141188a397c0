/**
 * This process's event-loop delay for `/metrics`: `aviary_controller_event_loop_delay_seconds`
 * on the control API, `aviary_proxy_event_loop_delay_seconds` on the proxy's admin API (two
 * names, so the control API can append a supervised proxy's text to its own and every family
 * stays one process's). A gauge per quantile (0.5, 0.9, 0.99, and 1 for the maximum) of the
 * delays of the last one to two windows (default 60 s).
 *
 * Measured by node:perf_hooks `monitorEventLoopDelay`: a libuv timer every `resolution` ms
 * records the time between its ticks. That time includes the resolution itself (a Node 20
 * histogram never reads below it), so the resolution is taken off: an idle loop reads 0.
 * The timer cannot tick while the loop is blocked, so one long stall is one sample among
 * thousands of short ones (nodejs/node#34661): the maximum is reported for that reason.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The delays one monitor has recorded, in nanoseconds: what {@link EventLoopDelay} reads. */
export type DelayHistogram = Pick<IntervalHistogram, 'count' | 'max' | 'percentile' | 'reset'> & {
  enable(): void;
  disable(): void;
};

/** Options of {@link EventLoopDelay}. */
export interface EventLoopDelayOptions {
  /** Start of the metric's name: `aviary_controller` or `aviary_proxy`. */
  readonly prefix: string;
  /** The shortest span the quantiles cover (they cover one to two of it). Default 60 s. */
  readonly windowMs?: number;
  /** The monitor's timer period, ms. Default 10 (Node's default). */
  readonly resolutionMs?: number;
  /** Makes a monitor; a seam for tests. Default node:perf_hooks `monitorEventLoopDelay`. */
  readonly monitor?: (resolutionMs: number) => DelayHistogram;
}

/** Quantiles rendered; 1 is the largest delay seen. */
const QUANTILES = [0.5, 0.9, 0.99, 1] as const;

/**
 * The event-loop delay of this process over a sliding window. Two monitors run staggered:
 * every window the older one is reset, and the quantiles are read from the other, which has
 * run for one to two windows. So a stall shows at once and is forgotten after two windows,
 * as a scraped gauge should be (a histogram since the start would hide a late regression).
 */
export class EventLoopDelay {
  readonly #prefix: string;
  readonly #windowMs: number;
  readonly #resolutionNs: number;
  readonly #monitors: [DelayHistogram, DelayHistogram];
  /** Index of the monitor reset longest ago: the one read. */
  #older: 0 | 1 = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: EventLoopDelayOptions) {
    this.#prefix = options.prefix;
    this.#windowMs = options.windowMs ?? 60_000;
    const resolutionMs = options.resolutionMs ?? 10;
    this.#resolutionNs = resolutionMs * 1e6;
    const make = options.monitor ?? ((resolution) => monitorEventLoopDelay({ resolution }));
    this.#monitors = [make(resolutionMs), make(resolutionMs)];
  }

  /** Starts measuring; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    for (const monitor of this.#monitors) monitor.enable();
    this.#timer = setInterval(() => this.#rotate(), this.#windowMs);
    this.#timer.unref();
  }

  /** Stops measuring. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const monitor of this.#monitors) monitor.disable();
  }

  /** The older monitor starts over; the other, now the older, is read until the next window. */
  #rotate(): void {
    this.#monitors[this.#older].reset();
    this.#older = this.#older === 0 ? 1 : 0;
  }

  /** The delay at `quantile` (1: the largest), in seconds; 0 before any sample. */
  delaySeconds(quantile: number): number {
    const monitor = this.#monitors[this.#older];
    if (monitor.count === 0) return 0;
    const ns = quantile >= 1 ? monitor.max : monitor.percentile(quantile * 100);
    return Math.max(0, ns - this.#resolutionNs) / 1e9;
  }

  /** Prometheus text exposition of the gauges. */
  render(): string {
    const name = `${this.#prefix}_event_loop_delay_seconds`;
    const window = Math.round(this.#windowMs / 1000);
    return [
      `# HELP ${name} Event-loop delay of this process over the last ${window} to ${2 * window} s, by quantile (1: the largest).`,
      `# TYPE ${name} gauge`,
      ...QUANTILES.map((q) => `${name}{quantile="${q}"} ${this.delaySeconds(q)}`),
      '',
    ].join('\n');
  }
}
