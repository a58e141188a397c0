import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AlertDispatcher, type AlertSubscription } from './alert-dispatcher.js';
import type { AlertEvent, AlertSeverity, Notifier, NotifyResult } from './alert-types.js';
import { newRevisionDetected, rollingBack, waitingForApproval } from './messages.js';
import { createNotifier } from './notifier-registry.js';

const AT = Date.parse('2025-03-01T10:00:00.000Z');
const app = { name: 'podinfo', namespace: 'test' };

/** A notifier seam that records what it was asked to post. */
function recordingNotifier(): Notifier & { posted: AlertEvent[] } {
  const posted: AlertEvent[] = [];
  return {
    kind: 'recording',
    warnings: [],
    posted,
    post(alert): Promise<NotifyResult> {
      posted.push(alert);
      return Promise.resolve({ ok: true, status: 200, message: 'ok', attempts: 1, durationMs: 0 });
    },
  };
}

/** A notifier seam that never answers until its signal aborts, like a hung chat endpoint. */
const hungNotifier: Notifier = {
  kind: 'hung',
  warnings: [],
  post: (_alert, signal) =>
    new Promise((_resolve, reject) =>
      signal?.addEventListener('abort', () => reject(signal.reason as Error)),
    ),
};

/** `http://127.0.0.1:<port>/…` with nothing listening on the port. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/services/T1/B2/s3cr3t`;
}

function bySeverity(): { subs: AlertSubscription[]; inboxes: Record<AlertSeverity, AlertEvent[]> } {
  const notifiers = { info: recordingNotifier(), warn: recordingNotifier(), error: recordingNotifier() };
  const subs = (['info', 'warn', 'error'] as const).map((severity) => ({
    name: `on-${severity}`,
    severity,
    notifier: notifiers[severity],
  }));
  return {
    subs,
    inboxes: { info: notifiers.info.posted, warn: notifiers.warn.posted, error: notifiers.error.posted },
  };
}

describe('AlertDispatcher', () => {
  it('sends each alert only to subscriptions at or below its severity, stamped with the clock', async () => {
    const { subs, inboxes } = bySeverity();
    const dispatcher = new AlertDispatcher(subs, { now: () => AT });
    const info = await dispatcher.dispatch(newRevisionDetected(app));
    await dispatcher.dispatch(waitingForApproval(app, { type: 'confirm-promotion', name: 'gate' }));
    await dispatcher.dispatch(rollingBack(app, 'progress deadline exceeded'));
    expect(info.map((d) => d.outcome)).toEqual(['sent', 'filtered', 'filtered']);
    expect(info[1]?.message).toBe('info is below warn');
    expect(inboxes.info.map((a) => a.severity)).toEqual(['info', 'warn', 'error']);
    expect(inboxes.warn.map((a) => a.severity)).toEqual(['warn', 'error']);
    expect(inboxes.error.map((a) => a.severity)).toEqual(['error']);
    expect(inboxes.info[0]?.timestamp).toBe(AT);
  });

  it("honours a webhook's muteAlert", async () => {
    const { subs, inboxes } = bySeverity();
    const deliveries = await new AlertDispatcher(subs).dispatch(
      waitingForApproval(app, { type: 'confirm-rollout', name: 'gate', muteAlert: true }),
    );
    expect(deliveries.map((d) => d.outcome)).toEqual(['muted', 'muted', 'muted']);
    expect(Object.values(inboxes).flat()).toHaveLength(0);
  });

  it('records a dead receiver as a failed delivery and still delivers to the others', async () => {
    const alive = recordingNotifier();
    const dead = createNotifier({ type: 'slack', address: await deadAddress() }, { backoffMs: () => 0 });
    const dispatcher = new AlertDispatcher([
      { name: 'dead', severity: 'info', notifier: dead },
      { name: 'alive', severity: 'info', notifier: alive },
    ]);
    const deliveries = await dispatcher.dispatch(rollingBack(app, 'failed checks threshold reached 5'));
    expect(deliveries[0]).toMatchObject({ alert: 'dead', provider: 'slack', outcome: 'failed' });
    expect(deliveries[0]?.result).toMatchObject({ ok: false, attempts: 3 });
    expect(deliveries[0]?.message).toContain('ECONNREFUSED');
    expect(deliveries[0]?.message).not.toContain('s3cr3t');
    expect(deliveries[1]).toMatchObject({ alert: 'alive', outcome: 'sent' });
    expect(alive.posted).toHaveLength(1);
  });

  it('records a cancelled send instead of rejecting', async () => {
    const controller = new AbortController();
    const dispatcher = new AlertDispatcher([{ name: 'slow', severity: 'info', notifier: hungNotifier }]);
    const pending = dispatcher.dispatch(newRevisionDetected(app), controller.signal);
    controller.abort(new Error('shutting down'));
    expect(await pending).toEqual([
      { alert: 'slow', provider: 'hung', outcome: 'cancelled', message: 'cancelled before it was sent' },
    ]);
  });

  it('records a notifier that throws as a failed delivery', async () => {
    const broken: Notifier = { kind: 'broken', warnings: [], post: () => Promise.reject(new Error('bug')) };
    const deliveries = await new AlertDispatcher([
      { name: 'b', severity: 'info', notifier: broken },
    ]).dispatch(newRevisionDetected(app));
    expect(deliveries).toEqual([{ alert: 'b', provider: 'broken', outcome: 'failed', message: 'bug' }]);
  });
});
