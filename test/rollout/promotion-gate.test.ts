/**
 * Case f of issue 3: a built-in confirm-promotion gate (`url: aviary:gate`). At maxWeight the
 * rollout waits in WaitingPromotion, analysis going on, until the gate is opened through the
 * control API with the token; then it promotes. Alerts of the rollout reach loopback
 * Slack-format receivers, each filtered by its severity.
 */
import { describe, expect, it } from 'vitest';
import {
  catalogProcess,
  failures,
  quickCanary,
  startReceiver,
  startTestRuntime,
  TOKEN,
  TrafficLoop,
  waitFor,
  TEST_TIMEOUT_MS,
} from './support.js';

interface SlackBody {
  readonly text: string;
  readonly attachments: readonly { color: string; title: string }[];
}

describe('confirm-promotion gate', { timeout: TEST_TIMEOUT_MS }, () => {
  it('waits in WaitingPromotion until the gate is opened through the API, then promotes', async () => {
    const everything = await startReceiver();
    const warnings = await startReceiver();
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({
        stepWeight: 25,
        maxWeight: 50,
        webhooks: [{ name: 'approve', type: 'confirm-promotion', url: 'aviary:gate' }],
        alerts: [
          { name: 'all', severity: 'info', providerRef: { name: 'team' } },
          { name: 'oncall', severity: 'warn', providerRef: { name: 'oncall' } },
        ],
      }),
      {
        alertProviders: [
          { name: 'team', type: 'slack', address: everything.url, channel: 'releases' },
          { name: 'oncall', type: 'slack', address: warnings.url },
        ],
      },
    );
    await test.waitForPhase('Initialized');
    const traffic = TrafficLoop.start(test.runtime.routerUrl);
    test.deploy(catalogProcess('2'));

    await test.waitForPhase('WaitingPromotion');
    // It keeps waiting (and analysing) interval after interval while the gate is closed.
    await waitFor('three intervals spent waiting', () =>
      test.events('WaitingForPromotion').length >= 3 ? true : undefined,
    );
    const gateUrl = `${test.runtime.controlUrl}/api/v1/rollouts/catalogdetail/gates/confirm-promotion/open`;
    const refused = await fetch(gateUrl, { method: 'POST' });
    expect(refused.status).toBe(401);
    const waited = test.events('WaitingForPromotion').length;
    await waitFor('two more intervals spent waiting', () =>
      test.events('WaitingForPromotion').length >= waited + 2 ? true : undefined,
    );
    expect(test.phase()).toBe('WaitingPromotion');
    expect(test.events('Promoting')).toEqual([]);
    expect(test.events('WaitingForPromotion').at(-1)!.message).toMatch(
      /confirm-promotion webhook approve: Forbidden: gate confirm-promotion of catalogdetail\.default is closed/,
    );
    expect(test.events('WeightAdvanced').map((e) => e.canaryWeight)).toEqual([25, 50]);

    const opened = await fetch(gateUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'x-aviary-user': 'alice',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ reason: 'looks good' }),
    });
    expect(opened.status).toBe(200);
    expect(await opened.json()).toEqual({ app: 'catalogdetail', gate: 'confirm-promotion', open: true });
    await test.waitForPhase('Succeeded');

    const [gateOpened] = test.events('GateOpened');
    expect(gateOpened).toMatchObject({ message: 'confirm-promotion gate opened by alice: looks good' });
    expect(gateOpened!.at).toBeLessThanOrEqual(test.events('Promoting')[0]!.at);
    await traffic.stop();
    expect(failures(traffic.samples)).toEqual([]);

    const texts = (receiver: { bodies: unknown[] }) => (receiver.bodies as SlackBody[]).map((b) => b.text);
    await waitFor('the promotion alert', () =>
      texts(everything).includes('Canary analysis completed successfully, promotion finished.')
        ? true
        : undefined,
    );
    expect(texts(everything)).toEqual([
      'New revision detected, progressing canary analysis.',
      'Canary promotion is waiting for approval.',
      'Canary analysis completed successfully, promotion finished.',
    ]);
    expect(everything.bodies[0]).toMatchObject({
      channel: 'releases',
      attachments: [{ color: 'good', title: 'catalogdetail.default' }],
    });
    // The warn route receives warnings and errors only.
    expect(texts(warnings)).toEqual(['Canary promotion is waiting for approval.']);
    expect((warnings.bodies[0] as SlackBody).attachments[0]!.color).toBe('warning');
  });
});
