/**
 * The price of harm-bounded promotion (docs/adr/0015-harm-bounds.md): how long a healthy
 * canary waits for the harm bounds of analysis.judge.maxHarm (defaults) at each traffic level.
 * Both versions fail 0.5% of requests with the bench's log-normal latency (median 40 ms, p99
 * 100 ms). Two schedules: the canary held at 10% until its bounds allow promotion, and the
 * seed's (interval 1m, stepWeight 10, maxWeight 50), where a step to weight w needs the
 * error-rate excess × w/100 within maxHarm and promotion needs every bound within it. Only the
 * harm gate is modelled (the regression tests and the promotion's lean hold come on top; the
 * bench measures the whole product). Run: `npx tsx scripts/harm-cost-table.ts [seeds]`.
 */
import { DEFAULT_JUDGE_CONFIG } from '../src/config/app-judge.js';
import { toBucketCounts } from '../src/analysis/bucket-counts.js';
import { harmBounds, moreCanaryRequestsFor, type HarmData } from '../src/analysis/harm-bounds.js';
import { LatencySketch } from '../src/analysis/latency-sketch.js';
import { binomialDraw, createRandom, normalDraw, poisson } from '../src/analysis/test-support.js';

const ERROR_RATE = 0.005;
const MEDIAN_MS = 40;
const SIGMA = Math.log(100 / MEDIAN_MS) / 2.3263478740408408;
const INTERVAL_S = 60;
const DEADLINE_S = 600;
/** Simulations stop after two days of virtual time. */
const LIMIT_S = 2 * 86_400;

interface Outcome {
  readonly seconds: number | null;
  readonly canaryRequests: number;
  /** Longest wait between two steps (or the start and the first step): what the deadline sees. */
  readonly longestWaitS: number;
  /**
   * Held at 10 %: the canary requests promotion then took beyond the first check with at
   * least 1,000, over what the gate's "~N more canary requests" said there (null: no estimate).
   */
  readonly estimateRatio: number | null;
}

function simulate(rps: number, seed: number, schedule: 'fixed-10' | 'seed'): Outcome {
  const random = createRandom(seed);
  const versions = {
    primary: { requests: 0, errors: 0, sketch: new LatencySketch() },
    canary: { requests: 0, errors: 0, sketch: new LatencySketch() },
  };
  let weight = 10;
  let lastMove = 0;
  let longestWaitS = 0;
  let estimate: { at: number; more: number } | null = null;
  for (let t = 1; t <= LIMIT_S; t++) {
    const total = poisson(random, rps);
    const toCanary = binomialDraw(random, total, weight / 100);
    for (const [side, n] of [
      [versions.primary, total - toCanary],
      [versions.canary, toCanary],
    ] as const) {
      side.requests += n;
      side.errors += binomialDraw(random, n, ERROR_RATE);
      for (let i = 0; i < n; i++) side.sketch.add(MEDIAN_MS * Math.exp(SIGMA * normalDraw(random)));
    }
    if (t % INTERVAL_S !== 0 || versions.canary.requests < DEFAULT_JUDGE_CONFIG.minCanaryRequests) continue;
    const data: HarmData = {
      primary: versions.primary,
      canary: versions.canary,
      latency: {
        primary: toBucketCounts(versions.primary.sketch),
        canary: toBucketCounts(versions.canary.sketch),
      },
    };
    const bounds = harmBounds(data, DEFAULT_JUDGE_CONFIG);
    const first = schedule === 'fixed-10' && estimate === null && versions.canary.requests >= 1_000;
    if (first && !bounds.withinMaxHarm) {
      const more = moreCanaryRequestsFor(data, DEFAULT_JUDGE_CONFIG, 100);
      if (more !== null) estimate = { at: versions.canary.requests, more };
    }
    const last = schedule === 'fixed-10' || weight >= 50;
    const moves = last ? bounds.withinMaxHarm : bounds.allowedWeight >= weight + 10;
    if (!moves) continue;
    longestWaitS = Math.max(longestWaitS, t - lastMove);
    lastMove = t;
    if (last) {
      const estimateRatio =
        estimate === null ? null : (versions.canary.requests - estimate.at) / estimate.more;
      return { seconds: t, canaryRequests: versions.canary.requests, longestWaitS, estimateRatio };
    }
    weight += 10;
  }
  return {
    seconds: null,
    canaryRequests: versions.canary.requests,
    longestWaitS: LIMIT_S - lastMove,
    estimateRatio: null,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3_600).toFixed(1)} h`;
}

const seeds = Number(process.argv[2] ?? 11);
console.log(
  `| rps | schedule | median time to promote | median canary requests | median longest wait (deadline ${DEADLINE_S} s) | runs past the deadline | actual / estimated more requests (median, range) |`,
);
console.log('|---|---|---|---|---|---|---|');
for (const rps of [1, 10, 50, 200]) {
  for (const schedule of ['fixed-10', 'seed'] as const) {
    const runs = Array.from({ length: seeds }, (_, i) => simulate(rps, 1_000 * rps + i, schedule));
    const done = runs.filter((r) => r.seconds !== null);
    const time =
      done.length > seeds / 2 ? duration(median(done.map((r) => r.seconds!))) : `> ${duration(LIMIT_S)}`;
    const past = runs.filter((r) => r.longestWaitS > DEADLINE_S).length;
    const name = schedule === 'fixed-10' ? '10% held' : '10→50%, 1m';
    const ratios = runs.flatMap((r) => (r.estimateRatio === null ? [] : [r.estimateRatio]));
    const accuracy =
      ratios.length === 0
        ? ''
        : `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
    console.log(
      `| ${rps} | ${name} | ${time} | ${median(runs.map((r) => r.canaryRequests))} | ${duration(median(runs.map((r) => r.longestWaitS)))} | ${past}/${seeds} | ${accuracy} |`,
    );
  }
}
