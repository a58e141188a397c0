import { describe, expect, it } from 'vitest';
import {
  advanceIteration,
  advanceWeight,
  analysisSkipped,
  failedChecksThresholdReached,
  manualRollback,
  newRevisionDetected,
  progressDeadlineExceeded,
  promotionCompleted,
  promotionFinished,
  rollingBack,
  startingAnalysis,
  waitingForApproval,
} from './messages.js';

const app = { name: 'podinfo', namespace: 'test' };

describe("Flagger's message set", () => {
  it.each([
    [newRevisionDetected(app), 'info', 'New revision detected! Scaling up podinfo.test'],
    [startingAnalysis(app), 'info', 'Starting canary analysis for podinfo.test'],
    [advanceWeight(app, 20), 'info', 'Advance podinfo.test canary weight 20'],
    [advanceIteration(app, 3, 10), 'info', 'Advance podinfo.test canary iteration 3/10'],
    [failedChecksThresholdReached(app, 5), 'error', 'Failed checks threshold reached 5'],
    [
      progressDeadlineExceeded(app, 'canary not ready'),
      'error',
      'Progress deadline exceeded canary not ready',
    ],
    [promotionFinished(app), 'info', 'Canary analysis completed successfully, promotion finished.'],
    [promotionCompleted(app), 'info', 'Promotion completed! Scaling down podinfo.test'],
    [analysisSkipped(app), 'info', 'Canary analysis was skipped, promotion finished.'],
    [rollingBack(app, 'error rate 12% > 1%'), 'error', 'Rolling back podinfo.test: error rate 12% > 1%'],
    [manualRollback(app, 'oncall'), 'warn', 'Rolling back podinfo.test manual webhook invoked'],
  ])('%#: %s', (event, severity, message) => {
    expect(event).toMatchObject({ app, severity, message });
  });

  it('words the approval wait by gate type and carries the hook name', () => {
    expect(waitingForApproval(app, { type: 'confirm-rollout', name: 'g' }).message).toBe(
      'Canary is waiting for approval.',
    );
    expect(waitingForApproval(app, { type: 'confirm-traffic-increase', name: 'g' }).message).toBe(
      'Canary traffic increase is waiting for approval.',
    );
    const promotion = waitingForApproval(app, { type: 'confirm-promotion', name: 'release-manager' });
    expect(promotion).toEqual({
      app,
      severity: 'warn',
      message: 'Canary promotion is waiting for approval.',
      fields: [{ name: 'Webhook', value: 'release-manager' }],
    });
  });

  it('marks the approval wait muted when the hook sets muteAlert', () => {
    expect(waitingForApproval(app, { type: 'confirm-rollout', name: 'g', muteAlert: true }).muted).toBe(true);
    expect(
      waitingForApproval(app, { type: 'confirm-rollout', name: 'g', muteAlert: false }).muted,
    ).toBeUndefined();
  });

  it("attaches Flagger's rollout facts to the new-revision alert", () => {
    const event = newRevisionDetected(app, {
      target: 'Deployment/podinfo.test',
      threshold: 5,
      progressDeadlineSeconds: 600,
      routing: 'Weight step: 10 max: 50',
    });
    expect(event.fields).toEqual([
      { name: 'Target', value: 'Deployment/podinfo.test' },
      { name: 'Failed checks threshold', value: '5' },
      { name: 'Progress deadline', value: '600s' },
      { name: 'Traffic routing', value: 'Weight step: 10 max: 50' },
    ]);
  });
});
