import { describe, expect, it } from 'vitest';

import type { HookResult } from '../step/observations.js';
import { requiredChecks } from '../step/required-checks.js';
import type { RolloutStatus } from '../step/rollout-status.js';
import {
  appSpec,
  observations,
  rolesOf,
  statusIn,
  summarise,
  type ScenarioApp,
} from '../../../test/support/rollout-scenario.js';
import { step } from '../step/step.js';
import type { WebhookContext, WebhookResult, WebhookSpec } from '../webhooks/webhook-types.js';
import { runWebhookStage } from '../webhooks/webhook-verdict.js';

const NOW = 300_000;

/** A webhook client that answers from a table and records what it was asked (an injected fake). */
function fakeClient(answers: Record<string, boolean>) {
  const calls: string[] = [];
  return {
    calls,
    call(hook: WebhookSpec, context: WebhookContext): Promise<WebhookResult> {
      calls.push(`${hook.name}@${context.phase}#${context.checksum}`);
      const ok = answers[hook.name] ?? hook.type !== 'rollback';
      return Promise.resolve({
        ok,
        status: ok ? 200 : 403,
        message: ok ? 'Approved' : 'Forbidden',
        attempts: 1,
        durationMs: 0,
      });
    },
  };
}

/** What a scheduler does around one `step`: ask, run the hook stages, map the results, step. */
async function schedulerTick(
  spec: ScenarioApp,
  status: RolloutStatus,
  client: ReturnType<typeof fakeClient>,
) {
  const roles = rolesOf(status);
  const required = requiredChecks(spec, status, NOW, roles);
  const webhooks: HookResult[] = [];
  for (const stage of required.hookStages) {
    const context = { name: spec.name, namespace: '', phase: stage.phase, checksum: status.lastAppliedSpec };
    const outcome = await runWebhookStage(client, stage.hooks, stage.type, context);
    webhooks.push(
      ...outcome.calls.map(({ hook, result }) => ({
        type: stage.type,
        name: hook.name,
        ok: result.ok,
        message: result.message,
      })),
    );
  }
  const metrics = required.metrics.map((m) => ({ name: m.name, value: 99.9, sampleSize: 500, passed: true }));
  return step(spec, status, observations({ ...roles, checks: { webhooks, metrics } }), NOW);
}

const spec = appSpec({
  canary: {
    analysis: {
      interval: '1m',
      stepWeight: 25,
      maxWeight: 50,
      metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
      webhooks: [
        { name: 'operator-rollback', type: 'rollback', url: 'aviary:gate' },
        { name: 'load', type: 'rollout', url: 'http://127.0.0.1:8089/' },
        { name: 'second-opinion', type: 'confirm-promotion', url: 'http://127.0.0.1:8089/gate/check' },
        { name: 'sign-off', type: 'confirm-promotion', url: 'aviary:gate' },
      ],
    },
  },
});
const at = (overrides: Partial<RolloutStatus>) =>
  statusIn(spec, 'WaitingPromotion', { lastProgressTime: NOW, nextCheckAt: NOW, ...overrides });

describe('the scheduler contract: requiredChecks → runWebhookStage → step', () => {
  it('runs each stage with its payload phase and promotes once every gate opens', async () => {
    const client = fakeClient({});
    const status = at({ canaryWeight: 50 });
    const result = await schedulerTick(spec, status, client);
    const checksum = status.lastAppliedSpec;
    expect(client.calls).toEqual([
      `operator-rollback@WaitingPromotion#${checksum}`,
      `load@Progressing#${checksum}`,
      `second-opinion@Progressing#${checksum}`,
      `sign-off@Progressing#${checksum}`,
    ]);
    expect(summarise(spec, result.actions)).toEqual(['promote-spec desired', 'event Promoting']);
  });

  it('keeps waiting when a gate stage stops at its first closed hook', async () => {
    const client = fakeClient({ 'second-opinion': false });
    const result = await schedulerTick(spec, at({ canaryWeight: 50 }), client);
    expect(client.calls.map((c) => c.split('@')[0])).toEqual(['operator-rollback', 'load', 'second-opinion']);
    expect(result.status).toMatchObject({ phase: 'WaitingPromotion', failedChecks: 0 });
  });

  it('rolls back when the built-in rollback gate answers 2xx', async () => {
    const result = await schedulerTick(
      spec,
      at({ canaryWeight: 50 }),
      fakeClient({ 'operator-rollback': true }),
    );
    expect(result.status.phase).toBe('Failed');
  });
});
