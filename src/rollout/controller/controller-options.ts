/**
 * What a RolloutController (controller.ts) is built from: its state directory and store, the engines
 * its actions drive, its checks, the gates, and its clock.
 */
import type { ExecutorDeps, RolloutEventRecord } from './action-executor.js';
import type { CheckRunnerDeps } from './check-runner.js';
import type { GateStore } from '../webhooks/gates.js';
import type { RolloutStateStore } from '../state/rollout-state-store.js';
import type { PersistedRollout } from './app-record.js';

/** Options of a {@link RolloutController}. */
export interface ControllerOptions {
  readonly stateDir: string;
  readonly executor: Omit<ExecutorDeps, 'onEvent' | 'onError'>;
  readonly checks: CheckRunnerDeps;
  readonly gates: GateStore;
  /** Longest wait between ticks (readiness and commands are noticed this fast). Default 1 s. */
  readonly maxTickMs?: number;
  /**
   * At start, how long to wait for the versions found running (or restarted) to be ready
   * before their routes are restored; default 5 s.
   */
  readonly restoreReadyTimeoutMs?: number;
  /**
   * Where rollout state is kept; default the state journal in `<stateDir>/rollouts`
   * (ADR 0009).
   */
  readonly store?: RolloutStateStore<PersistedRollout, RolloutEventRecord>;
  /** Journal size at which the default state journal is sealed and folded (ADR 0009); default 16 MiB. */
  readonly compactStateAtBytes?: number;
  /** Wall clock, ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /**
   * A clock no wall-clock step moves, ms; with `now` it tells a jump of the wall clock from
   * time passing (docs/adr/0030-clock-jumps.md). Default `performance.now`, or, when `now` is
   * given alone, `now` itself (an injected clock never jumps).
   */
  readonly monotonic?: () => number;
}
