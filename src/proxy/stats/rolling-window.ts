/**
 * Per-version traffic in one-second slices over a rolling window. The analysis engine reads
 * exact counts and merged latency sketches for any interval inside the window without
 * scraping; slices are reused in a ring so memory stays bounded.
 */
import { LatencySketch } from '../../analysis/latency-sketch.js';

/** Why a request failed before (or instead of) an upstream response. */
export type ErrorKind = 'connect' | 'timeout' | 'reset' | 'no-endpoint';

/** Counts for one slice or for a merged interval. */
export interface TrafficCounts {
  /** Live requests answered (any status, including proxy-generated 5xx). */
  requests: number;
  /** Live requests answered with a 5xx (upstream or proxy-generated). */
  errors5xx: number;
  /** Live requests answered with a 4xx. */
  errors4xx: number;
  /** Upstream failures by kind (a subset of `errors5xx`). */
  connectErrors: number;
  timeouts: number;
  resets: number;
  /** Mirrored copies sent to this version (not part of `requests`). */
  mirrored: number;
  /** Mirrored copies answered with a 5xx or failing upstream. */
  mirroredErrors: number;
}

/** A merged view of an interval: counts plus a latency sketch of live requests and mirrors. */
export interface TrafficSnapshot extends TrafficCounts {
  /** Start of the interval (ms since epoch, inclusive, aligned to a slice). */
  readonly fromMs: number;
  /** End of the interval (ms since epoch, exclusive). */
  readonly toMs: number;
  /** Latencies in milliseconds of live requests. */
  readonly latency: LatencySketch;
  /** Latencies in milliseconds of mirrored requests. */
  readonly mirroredLatency: LatencySketch;
}

function emptyCounts(): TrafficCounts {
  return {
    requests: 0,
    errors5xx: 0,
    errors4xx: 0,
    connectErrors: 0,
    timeouts: 0,
    resets: 0,
    mirrored: 0,
    mirroredErrors: 0,
  };
}

interface Slice extends TrafficCounts {
  second: number;
  latency: LatencySketch;
  mirroredLatency: LatencySketch;
}

function newSlice(second: number): Slice {
  return { ...emptyCounts(), second, latency: new LatencySketch(), mirroredLatency: new LatencySketch() };
}

/** Default window: ten minutes of one-second slices. */
export const DEFAULT_WINDOW_SECONDS = 600;

/** A ring of one-second slices; see the module header. */
export class RollingWindow {
  private readonly slices: Slice[];
  /** Cumulative counts since creation (never reset). */
  readonly totals: TrafficCounts = emptyCounts();

  constructor(readonly windowSeconds = DEFAULT_WINDOW_SECONDS) {
    this.slices = Array.from({ length: windowSeconds }, () => newSlice(-1));
  }

  /** Newest second recorded; slices more than a window older are stale even if not reused yet. */
  private latestSecond = -1;

  private sliceAt(nowMs: number): Slice {
    const second = Math.floor(nowMs / 1000);
    if (second > this.latestSecond) this.latestSecond = second;
    const index = second % this.windowSeconds;
    let slice = this.slices[index]!;
    if (slice.second !== second) {
      slice = newSlice(second);
      this.slices[index] = slice;
    }
    return slice;
  }

  /** Records one live request's outcome. */
  record(nowMs: number, status: number, latencyMs: number, errorKind: ErrorKind | undefined): void {
    const slice = this.sliceAt(nowMs);
    const totals = this.totals;
    slice.requests++;
    totals.requests++;
    if (status >= 500) {
      slice.errors5xx++;
      totals.errors5xx++;
    } else if (status >= 400) {
      slice.errors4xx++;
      totals.errors4xx++;
    }
    if (errorKind === 'connect') {
      slice.connectErrors++;
      totals.connectErrors++;
    } else if (errorKind === 'timeout') {
      slice.timeouts++;
      totals.timeouts++;
    } else if (errorKind === 'reset') {
      slice.resets++;
      totals.resets++;
    }
    slice.latency.add(latencyMs);
  }

  /** Records one mirrored copy's outcome (status 0 when it failed upstream). */
  recordMirror(nowMs: number, status: number, latencyMs: number): void {
    const slice = this.sliceAt(nowMs);
    slice.mirrored++;
    this.totals.mirrored++;
    if (status === 0 || status >= 500) {
      slice.mirroredErrors++;
      this.totals.mirroredErrors++;
    }
    slice.mirroredLatency.add(latencyMs);
  }

  /**
   * Moves every slice `seconds` along, as the wall clock jumped (docs/adr/0030-clock-jumps.md):
   * the counts keep their place relative to the clock, so a read of the last seconds after the
   * jump still finds the seconds before it, and a backward jump leaves no slice in the future.
   */
  rebase(seconds: number): void {
    if (seconds === 0) return;
    const live = this.slices.filter((slice) => slice.second >= 0);
    for (let i = 0; i < this.slices.length; i++) this.slices[i] = newSlice(-1);
    for (const slice of live) {
      slice.second += seconds;
      this.slices[slice.second % this.windowSeconds] = slice;
    }
    if (this.latestSecond >= 0) this.latestSecond += seconds;
  }

  /**
   * Merges the slices of [fromMs, toMs) that are still in the window. Slices are whole
   * seconds, so the interval is widened to second boundaries.
   */
  snapshot(fromMs: number, toMs: number): TrafficSnapshot {
    const fromSecond = Math.max(Math.floor(fromMs / 1000), this.latestSecond - this.windowSeconds + 1);
    const toSecond = Math.ceil(toMs / 1000);
    const counts = emptyCounts();
    const latency = new LatencySketch();
    const mirroredLatency = new LatencySketch();
    for (const slice of this.slices) {
      if (slice.second < fromSecond || slice.second >= toSecond) continue;
      counts.requests += slice.requests;
      counts.errors5xx += slice.errors5xx;
      counts.errors4xx += slice.errors4xx;
      counts.connectErrors += slice.connectErrors;
      counts.timeouts += slice.timeouts;
      counts.resets += slice.resets;
      counts.mirrored += slice.mirrored;
      counts.mirroredErrors += slice.mirroredErrors;
      latency.merge(slice.latency);
      mirroredLatency.merge(slice.mirroredLatency);
    }
    return { ...counts, fromMs: fromSecond * 1000, toMs: toSecond * 1000, latency, mirroredLatency };
  }
}
