import { describe, expect, it } from 'vitest';
import { gateUrlProblem } from '../../config/app-webhook.js';
import { ConfigError } from '../../config/config-error.js';
import { AviaryError } from '../../errors.js';
import { DEFAULT_GATE_MODES, GATE_HISTORY_LIMIT, GateStore, gateAppId } from './gates.js';
import { WebhookClient } from './webhook-client.js';
import { runWebhookStage } from './webhook-verdict.js';
import type { WebhookContext, WebhookSpec } from './webhook-types.js';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');

function clock(): { now: () => number; advance: (ms: number) => void } {
  let current = T0;
  return { now: () => current, advance: (ms) => (current += ms) };
}

const APP = gateAppId('podinfo', 'test');

describe('GateStore', () => {
  it('keys apps as name.namespace, like the load tester', () => {
    expect(gateAppId('podinfo', 'test')).toBe('podinfo.test');
    expect(gateAppId('catalogdetail', '')).toBe('catalogdetail');
  });

  it('starts every gate closed, in its default mode, with no history', () => {
    const store = new GateStore();
    expect(store.get(APP, 'confirm-promotion')).toEqual({
      app: APP,
      gate: 'confirm-promotion',
      open: false,
      mode: 'sticky',
      history: [],
    });
    expect(store.list()).toEqual([]);
    expect(DEFAULT_GATE_MODES).toEqual({
      'confirm-rollout': 'sticky',
      'confirm-traffic-increase': 'sticky',
      'confirm-promotion': 'sticky',
      rollback: 'one-shot',
    });
  });

  it('records who, when and why on open and close', () => {
    const time = clock();
    const store = new GateStore({ now: time.now });
    store.open(APP, 'confirm-promotion', { by: 'alice', reason: 'dashboards look fine' });
    time.advance(60_000);
    const closed = store.close(APP, 'confirm-promotion', { by: 'bob' });
    expect(closed.open).toBe(false);
    expect(closed.history).toEqual([
      { action: 'open', by: 'alice', at: '2025-03-01T10:00:00.000Z', reason: 'dashboards look fine' },
      { action: 'close', by: 'bob', at: '2025-03-01T10:01:00.000Z' },
    ]);
  });

  it('keeps gates apart by app and by gate type', () => {
    const store = new GateStore();
    store.open(APP, 'confirm-promotion', { by: 'alice' });
    expect(store.isOpen(APP, 'confirm-promotion')).toBe(true);
    expect(store.isOpen(APP, 'confirm-rollout')).toBe(false);
    expect(store.isOpen(gateAppId('podinfo', 'prod'), 'confirm-promotion')).toBe(false);
  });

  it('a sticky gate stays open when consumed', () => {
    const store = new GateStore();
    store.open(APP, 'confirm-traffic-increase', { by: 'alice' });
    expect(store.consume(APP, 'confirm-traffic-increase')).toBe(false);
    expect(store.isOpen(APP, 'confirm-traffic-increase')).toBe(true);
  });

  it('a one-shot gate closes when consumed, and says so in its history', () => {
    const store = new GateStore({ now: clock().now });
    store.open(APP, 'confirm-promotion', { by: 'alice', mode: 'one-shot' });
    expect(store.isOpen(APP, 'confirm-promotion')).toBe(true);
    expect(store.consume(APP, 'confirm-promotion', 'promotion started')).toBe(true);
    const state = store.get(APP, 'confirm-promotion');
    expect(state.open).toBe(false);
    expect(state.mode).toBe('one-shot');
    expect(state.history.at(-1)).toEqual({
      action: 'consume',
      by: 'aviary',
      at: '2025-03-01T10:00:00.000Z',
      reason: 'promotion started',
    });
    expect(store.consume(APP, 'confirm-promotion')).toBe(false);
  });

  it('opens the rollback gate one-shot by default', () => {
    const store = new GateStore();
    expect(store.open(APP, 'rollback', { by: 'oncall' }).mode).toBe('one-shot');
    expect(store.consume(APP, 'rollback')).toBe(true);
    expect(store.isOpen(APP, 'rollback')).toBe(false);
  });

  it('bounds the history', () => {
    const store = new GateStore();
    for (let i = 0; i < GATE_HISTORY_LIMIT + 5; i++) store.open(APP, 'confirm-rollout', { by: `user${i}` });
    const history = store.get(APP, 'confirm-rollout').history;
    expect(history).toHaveLength(GATE_HISTORY_LIMIT);
    expect(history.at(-1)?.by).toBe(`user${GATE_HISTORY_LIMIT + 4}`);
  });

  it('refuses an unattributed change', () => {
    const store = new GateStore();
    const unattributed = () => store.open(APP, 'confirm-rollout', { by: ' ' });
    expect(unattributed).toThrow(AviaryError);
    expect(unattributed).toThrow(expect.objectContaining({ code: 'AVIARY_GATE_ACTOR_MISSING' }) as Error);
    expect(store.list()).toEqual([]);
  });
});

describe('GateStore persistence', () => {
  it('round-trips through JSON text', () => {
    const time = clock();
    const store = new GateStore({ now: time.now });
    store.open(APP, 'confirm-promotion', { by: 'alice', reason: 'ok', mode: 'one-shot' });
    store.open('web.prod', 'rollback', { by: 'oncall', reason: 'error spike' });
    store.close('web.prod', 'rollback', { by: 'oncall' });
    const text = JSON.stringify(store);
    const restored = GateStore.fromJSON(JSON.parse(text));
    expect(restored.toJSON()).toEqual(store.toJSON());
    expect(restored.isOpen(APP, 'confirm-promotion')).toBe(true);
    expect(restored.consume(APP, 'confirm-promotion')).toBe(true);
  });

  it('rejects a bad document, naming the field', () => {
    const bad = {
      version: 1,
      gates: [{ app: APP, gate: 'confirm-everything', open: true, mode: 'sticky', history: [] }],
    };
    expect(() => GateStore.fromJSON(bad)).toThrow(ConfigError);
    expect(() => GateStore.fromJSON(bad)).toThrow(/gates\[0\]\.gate: expected one of/);
  });
});

describe('aviary:gate webhooks', () => {
  const context: WebhookContext = {
    name: 'podinfo',
    namespace: 'test',
    phase: 'Progressing',
    checksum: 'c1',
  };
  const promotionGate: WebhookSpec = { type: 'confirm-promotion', name: 'approve', url: 'aviary:gate' };

  it('answers from the store: 403 while closed, 200 once opened', async () => {
    const gates = new GateStore({ now: clock().now });
    const client = new WebhookClient({ gates });
    const closed = await client.call(promotionGate, context);
    expect(closed).toMatchObject({ ok: false, status: 403, attempts: 1 });
    expect(closed.message).toContain('gate confirm-promotion of podinfo.test is closed');

    gates.open(APP, 'confirm-promotion', { by: 'alice', reason: 'LGTM' });
    const open = await client.call(promotionGate, context);
    expect(open).toMatchObject({ ok: true, status: 200 });
    expect(open.message).toBe(
      'Approved: gate confirm-promotion of podinfo.test is open (opened by alice at 2025-03-01T10:00:00.000Z: LGTM)',
    );
  });

  it('answers approve and halt like the load tester, whatever the store says', async () => {
    const gates = new GateStore();
    const client = new WebhookClient({ gates });
    const approve = await client.call(
      { type: 'pre-rollout', name: 'a', url: 'aviary:gate/approve' },
      context,
    );
    const halt = await client.call({ type: 'confirm-rollout', name: 'h', url: 'aviary:gate/halt' }, context);
    expect(approve).toMatchObject({ ok: true, status: 200, message: 'Approved' });
    expect(halt).toMatchObject({ ok: false, status: 403, message: 'Forbidden' });
  });

  it('reports misuse instead of guessing', async () => {
    const client = new WebhookClient({ gates: new GateStore() });
    const onCheck = await client.call({ type: 'rollout', name: 'lt', url: 'aviary:gate' }, context);
    expect(onCheck.ok).toBe(false);
    expect(onCheck.message).toContain('aviary:gate works only on confirm-rollout, confirm-traffic-increase');
    expect(gateUrlProblem({ type: 'confirm-rollout', url: 'aviary:gates' })).toContain(
      'unknown built-in gate URL',
    );
    const noStore = await new WebhookClient().call(promotionGate, context);
    expect(noStore.message).toBe('webhook approve: no gate store is configured for aviary:gate');
  });

  it('drives a rollback through the one-shot rollback gate', async () => {
    const gates = new GateStore();
    const client = new WebhookClient({ gates });
    const hooks: WebhookSpec[] = [{ type: 'rollback', name: 'manual-rollback', url: 'aviary:gate' }];
    expect((await runWebhookStage(client, hooks, 'rollback', context)).verdict).toBe('continue');
    gates.open(APP, 'rollback', { by: 'oncall', reason: 'error budget burn' });
    const stage = await runWebhookStage(client, hooks, 'rollback', context);
    expect(stage.verdict).toBe('rollback');
    gates.consume(APP, 'rollback', 'rolled back');
    expect((await runWebhookStage(client, hooks, 'rollback', context)).verdict).toBe('continue');
  });
});
