/**
 * Table-driven tests of `step` shared by the canary and promotion suites: one app with a
 * hook of every type, a status in a given phase at a fixed clock, and the runner that
 * ticks a simulator from each row and checks the actions and phase it produced.
 */
import { expect, it } from 'vitest';
import type { ScenarioApp } from '../../../test/support/rollout-scenario.js';
import type { RolloutPhase, RolloutStatus } from './rollout-status.js';
import { appSpec, rolesOf, statusIn, summarise } from '../../../test/support/rollout-scenario.js';
import { RolloutSimulator } from '../../../test/support/rollout-simulator.js';

export const HOOK = 'http://127.0.0.1:8089/';
export const NOW = 300_000;

/** A canary app: 1m interval, threshold 2, steps of 10 up to 30, one success-rate metric. */
export function specWith(
  analysis: Record<string, unknown>,
  canary: Record<string, unknown> = {},
): ScenarioApp {
  return appSpec({
    canary: {
      progressDeadlineSeconds: 600,
      ...canary,
      analysis: {
        interval: '1m',
        threshold: 2,
        stepWeight: 10,
        maxWeight: 30,
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
        ...analysis,
      },
    },
  });
}

/** Webhooks named and typed as given, all at {@link HOOK}. */
export const hooks = (...list: [string, string][]) => list.map(([name, type]) => ({ name, type, url: HOOK }));

/** The app of the tables: a hook of every type. */
export const spec = specWith({
  webhooks: hooks(
    ['smoke', 'pre-rollout'],
    ['load', 'rollout'],
    ['more', 'confirm-traffic-increase'],
    ['ship', 'confirm-promotion'],
    ['undo', 'rollback'],
    ['notify', 'post-rollout'],
  ),
});
export const DESIRED = spec.desired.revision;

/** A status of {@link spec} in `phase`, its check due now. */
export const at = (phase: RolloutPhase, overrides: Partial<RolloutStatus> = {}) =>
  statusIn(spec, phase, { lastProgressTime: NOW - 60_000, nextCheckAt: NOW, ...overrides });

/** One row: a status (and simulator set-up) in, the actions and phase expected out. */
export interface StepRow {
  readonly name: string;
  readonly spec?: ScenarioApp;
  readonly status: RolloutStatus;
  readonly setup?: (sim: RolloutSimulator) => void;
  readonly phase: RolloutPhase;
  readonly actions: readonly string[];
  readonly then?: (status: RolloutStatus) => void;
}

/** One test per row: a single tick from the row's status. */
export function itTicks(rows: readonly StepRow[]): void {
  it.each(rows)('$name', (row) => {
    const sim = new RolloutSimulator(row.spec ?? spec, NOW);
    sim.status = row.status;
    Object.assign(sim, rolesOf(row.status));
    row.setup?.(sim);
    const tick = sim.tick();
    expect(summarise(sim.spec, tick.actions)).toEqual(row.actions);
    expect(tick.status.phase).toBe(row.phase);
    row.then?.(tick.status);
  });
}
