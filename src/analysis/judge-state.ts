/**
 * What the sequential judge remembers between windows: running totals, the count tests, the
 * latency counts and the evidence block still open. Plain data, persisted with the rollout
 * status as JSON.
 */
import { initCountTest, type CountTestState } from './count-test.js';
import type { EvidenceBlock } from './evidence-block.js';
import { initLatencyTest, type LatencyTestState } from './latency-test.js';

/** Running totals of one version. */
export interface VersionTotals {
  readonly requests: number;
  readonly errors: number;
}

/** Everything the judge remembers; plain JSON-serialisable data. */
export interface JudgeState {
  readonly windows: number;
  readonly primary: VersionTotals;
  readonly canary: VersionTotals;
  readonly errors: CountTestState;
  readonly latency: LatencyTestState;
  /** Windows not yet read by the count tests (see evidence-block.ts); null when none. */
  readonly block: EvidenceBlock | null;
  /** Summary of the first regression found; once set, every later decision is `regression`. */
  readonly regression: string | null;
}

/** State before any window. */
export function initJudgeState(): JudgeState {
  return {
    windows: 0,
    primary: { requests: 0, errors: 0 },
    canary: { requests: 0, errors: 0 },
    errors: initCountTest(),
    latency: initLatencyTest(),
    block: null,
    regression: null,
  };
}
