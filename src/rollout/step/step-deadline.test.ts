import { describe, expect } from 'vitest';
import { statusIn } from '../../../test/support/rollout-scenario.js';
import { DESIRED, itTicks, NOW, specWith, type StepRow } from './step-test-support.js';

/** A canary held by a metric without a value (as the judge's "gathering evidence" is). */
const holding = specWith({ deadlineAction: 'hold' });
const pastDeadline = (spec: typeof holding) =>
  statusIn(spec, 'Progressing', { canaryWeight: 20, lastProgressTime: NOW - 600_001, nextCheckAt: NOW });
const gathering = {
  value: null,
  passed: false,
  detail: 'gathering evidence before weight 30%: ~800 more canary requests',
};

const ROWS: readonly StepRow[] = [
  {
    name: 'deadlineAction rollback (the default) rolls a held canary back when the deadline passes',
    spec: specWith({}),
    status: pastDeadline(specWith({})),
    setup: (sim) => sim.metrics.set('request-success-rate', gathering),
    phase: 'Failed',
    actions: [
      'event DeadlineExceeded',
      'alert error: Progress deadline exceeded (no progress for 10m: no verdict from the checks (metrics without enough data))',
      'routes 100/0',
      'stop canary',
      'event Failed',
    ],
  },
  {
    name: 'deadlineAction hold keeps the canary at its weight, warns, and starts the deadline again',
    spec: holding,
    status: pastDeadline(holding),
    setup: (sim) => sim.metrics.set('request-success-rate', gathering),
    phase: 'Progressing',
    actions: [
      'event DeadlineExceeded',
      'alert warn: Progress deadline exceeded (no progress for 10m: no verdict from the checks (metrics without enough data)); holding as analysis.deadlineAction says: promote or abort',
    ],
    then: (s) =>
      expect([s.canaryWeight, s.failedChecks, s.lastProgressTime, s.canaryRevision]).toEqual([
        20,
        0,
        NOW,
        DESIRED,
      ]),
  },
];

describe('step: the progress deadline during the analysis', () => {
  itTicks(ROWS);
});
