import { describe, expect, it } from 'vitest';
import { interpretWebhookResult, runWebhookStage, sendEventToHooks } from './webhook-verdict.js';
import type { WebhookClient } from './webhook-client.js';
import type { WebhookType } from '../../config/app-webhook.js';
import type { WebhookContext, WebhookResult, WebhookSpec } from './webhook-types.js';

const context: WebhookContext = { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'c1' };

function result(ok: boolean): WebhookResult {
  return { ok, status: ok ? 200 : 403, message: ok ? 'Approved' : 'Forbidden', attempts: 1, durationMs: 0 };
}

/** A client seam answering by hook name: names starting with `ok` pass. Records calls. */
function scriptedClient(): Pick<WebhookClient, 'call' | 'sendEvent'> & { called: string[] } {
  const called: string[] = [];
  return {
    called,
    call: (hook: WebhookSpec) => {
      called.push(hook.name);
      return Promise.resolve(result(hook.name.startsWith('ok')));
    },
    sendEvent: (hook: WebhookSpec) => {
      called.push(hook.name);
      return Promise.resolve(result(hook.name.startsWith('ok')));
    },
  };
}

describe('interpretWebhookResult', () => {
  it.each<[WebhookType, string, string]>([
    ['confirm-rollout', 'open', 'closed'],
    ['confirm-traffic-increase', 'open', 'closed'],
    ['confirm-promotion', 'open', 'closed'],
    ['pre-rollout', 'passed', 'failed'],
    ['rollout', 'passed', 'failed'],
    ['rollback', 'rollback', 'continue'],
    ['post-rollout', 'delivered', 'undelivered'],
    ['event', 'delivered', 'undelivered'],
  ])('%s: ok → %s, failure → %s', (type, whenOk, whenFailed) => {
    expect(interpretWebhookResult(type, result(true))).toBe(whenOk);
    expect(interpretWebhookResult(type, result(false))).toBe(whenFailed);
  });
});

describe('runWebhookStage', () => {
  const hooks: WebhookSpec[] = [
    { type: 'confirm-promotion', name: 'ok-first', url: 'http://a/' },
    { type: 'confirm-promotion', name: 'no-second', url: 'http://b/' },
    { type: 'confirm-promotion', name: 'ok-third', url: 'http://c/', muteAlert: true },
    { name: 'ok-untyped-is-rollout', url: 'http://d/' },
  ];

  it('stops a gate at the first closed hook and names it', async () => {
    const client = scriptedClient();
    const stage = await runWebhookStage(client, hooks, 'confirm-promotion', context);
    expect(stage.verdict).toBe('closed');
    expect(stage.decidedBy?.hook.name).toBe('no-second');
    expect(client.called).toEqual(['ok-first', 'no-second']);
  });

  it('treats a hook without a type as a rollout hook, as Flagger does', async () => {
    const client = scriptedClient();
    const stage = await runWebhookStage(client, hooks, 'rollout', context);
    expect(stage).toMatchObject({ verdict: 'passed' });
    expect(client.called).toEqual(['ok-untyped-is-rollout']);
  });

  it('is open, passed or continue when no hook has the type', async () => {
    const client = scriptedClient();
    expect((await runWebhookStage(client, hooks, 'confirm-rollout', context)).verdict).toBe('open');
    expect((await runWebhookStage(client, hooks, 'pre-rollout', context)).verdict).toBe('passed');
    expect((await runWebhookStage(client, hooks, 'rollback', context)).verdict).toBe('continue');
    expect(client.called).toEqual([]);
  });

  it('stops a rollback stage at the first hook asking for a rollback', async () => {
    const client = scriptedClient();
    const rollbackHooks: WebhookSpec[] = [
      { type: 'rollback', name: 'no-a', url: 'http://a/' },
      { type: 'rollback', name: 'ok-b', url: 'http://b/' },
      { type: 'rollback', name: 'ok-c', url: 'http://c/' },
    ];
    const stage = await runWebhookStage(client, rollbackHooks, 'rollback', context);
    expect(stage.verdict).toBe('rollback');
    expect(stage.decidedBy?.hook.name).toBe('ok-b');
    expect(client.called).toEqual(['no-a', 'ok-b']);
  });
});

describe('sendEventToHooks', () => {
  it('calls every event hook even after a failure and reports the first failure', async () => {
    const client = scriptedClient();
    const eventHooks: WebhookSpec[] = [
      { type: 'event', name: 'no-a', url: 'http://a/' },
      { type: 'event', name: 'ok-b', url: 'http://b/' },
      { type: 'rollout', name: 'ok-not-an-event-hook', url: 'http://c/' },
    ];
    const stage = await sendEventToHooks(client, eventHooks, context, { message: 'm', type: 'Normal' });
    expect(stage.verdict).toBe('undelivered');
    expect(stage.decidedBy?.hook.name).toBe('no-a');
    expect(client.called).toEqual(['no-a', 'ok-b']);
  });
});
