import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAviaryConfig } from '../../config/app-schema.js';
import { metricsVerdict } from '../step/check-verdicts.js';
import { appSpec, observations, summarise } from '../../../test/support/rollout-scenario.js';
import { StateStore } from '../state/state-store.js';
import type { JudgeRun } from './judge-evaluator.js';
import { harness, judgedApp, never, T0, tick } from './judge-evaluator-test-support.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('analysis.judge in aviary.yaml', () => {
  const doc = (analysis: Record<string, unknown>) => ({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    apps: [
      {
        name: 'web',
        path: '/',
        process: { command: 'node' },
        canary: { analysis: { stepWeight: 10, ...analysis } },
      },
    ],
  });

  it('adds the judge check to the metrics, beside threshold metrics, holding below minCanaryRequests', () => {
    const result = parseAviaryConfig(
      doc({
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
        judge: { minCanaryRequests: 250 },
      }),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const analysis = result.value.apps[0]!.canary.analysis;
    expect(analysis.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'judge']);
    expect(analysis.metrics[1]).toEqual({
      name: 'judge',
      interval: 60_000,
      minRequests: 250,
      failOnNoData: false,
    });
    expect(analysis.judge).toMatchObject({ alpha: 0.01, minCanaryRequests: 250 });
  });

  it('names a bad judge setting by its path, and the reserved metric name', () => {
    const bad = parseAviaryConfig(
      doc({
        judge: { alpha: 2 },
        metrics: [{ name: 'judge', templateRef: { name: 't' } }],
      }),
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues).toEqual(
      expect.arrayContaining([
        { path: 'apps[0].canary.analysis.judge.alpha', message: 'expected a number < 0.5, got 2' },
        {
          path: 'apps[0].canary.analysis.metrics[0].name',
          message: '"judge" is reserved for the check of analysis.judge; rename this metric',
        },
      ]),
    );
  });
});

describe('JudgeEvaluator', () => {
  it('answers only the judge check of an app with analysis.judge', async () => {
    const h = harness();
    const plain = appSpec({ canary: { analysis: { stepWeight: 10 } } });
    const builtin = { name: 'request-success-rate', interval: 60_000, minRequests: 10, failOnNoData: false };
    expect(await h.evaluator.evaluate(h.spec, builtin, T0, never)).toBeUndefined();
    expect(await h.evaluator.evaluate(plain, { ...builtin, name: 'judge' }, T0, never)).toBeUndefined();
  });

  it('insufficient data is a visible hold: value null, the count in detail, no failed check', async () => {
    const h = harness();
    h.traffic.fill('primary', T0 - 10_000, T0, 9, 0.005);
    h.traffic.fill('canary', T0 - 10_000, T0, 5, 0);
    const result = await h.judge(T0);
    expect(result).toMatchObject({
      name: 'judge',
      value: null,
      sampleSize: 50,
      passed: false,
      detail: 'insufficient data: 50 of 100 canary requests',
      evidence: { decision: 'insufficient-data', canaryRequests: 50, minCanaryRequests: 100 },
    });
    expect(
      metricsVerdict(h.spec.canary.analysis, observations({ checks: { webhooks: [], metrics: [result] } })),
    ).toEqual({
      kind: 'hold',
      message: 'metric judge: 50 requests, 100 needed',
    });
    const next = tick(h, result);
    expect(next.status.failedChecks).toBe(0);
    expect(next.status.phase).toBe('Progressing');
    expect(summarise(h.spec, next.actions)).toEqual(['event InsufficientData']);
  });

  it('a regression fails the check with its evidence and asks for the rollback at once, not after threshold', async () => {
    const h = harness();
    h.traffic.fill('primary', T0 - 10_000, T0, 45, 0.005);
    h.traffic.fill('canary', T0 - 10_000, T0, 30, 0.5);
    const result = await h.judge(T0);
    expect(result.passed).toBe(false);
    expect(result.sampleSize).toBeUndefined();
    expect(result.value).toBeLessThanOrEqual(0.0075);
    expect(result.detail).toMatch(/^regression: error rate \d+\.\d+% vs \d+\.\d+%/);
    expect(result.evidence).toMatchObject({
      decision: 'regression',
      errors: { regression: true, canary: { requests: 300 }, rateRatio: { estimate: expect.any(Number) } },
      latency: expect.any(Array),
    });
    expect(result.rollback).toBe(true);

    // The same tick rolls back, with one failed check of five counted: no waiting for threshold.
    const next = tick(h, result);
    expect(next.status).toMatchObject({ phase: 'Failed', failedChecks: 1 });
    expect(summarise(h.spec, next.actions)).toContain('event RegressionDetected');

    // The decision is sticky.
    h.traffic.fill('canary', T0, T0 + 10_000, 30, 0);
    expect((await h.judge(T0 + 10_000)).evidence).toMatchObject({ decision: 'regression' });
  });

  it('a healthy canary passes with its p-value as value and advances the weight once the harm bounds allow it', async () => {
    const h = harness();
    h.traffic.fill('primary', T0 - 10_000, T0, 150, 0.005);
    h.traffic.fill('canary', T0 - 10_000, T0, 150, 0.005);
    const result = await h.judge(T0);
    expect(result).toMatchObject({ passed: true, sampleSize: 1500, evidence: { decision: 'pass' } });
    expect(result.value).toBeGreaterThan(0.0075);
    expect(result.detail).toMatch(/^no regression: error rate/);
    expect(tick(h, result).status.canaryWeight).toBe(20);
  });

  it('holds, gathering evidence with an estimate, until the bounds show the canary within maxHarm', async () => {
    // 300 canary requests cannot show a step to 20% harmless (error-rate excess × 0.2 ≤ 0.5 pp),
    // nor the promotion from 50%: a visible hold, no failed check, the deadline still running.
    const h = harness();
    h.traffic.fill('primary', T0 - 10_000, T0, 45, 0.005);
    h.traffic.fill('canary', T0 - 10_000, T0, 30, 0.005);
    const result = await h.judge(T0);
    expect(result).toMatchObject({ value: null, passed: false, evidence: { decision: 'pass' } });
    expect(result.detail).toMatch(
      /^gathering evidence before weight 20%: ~\d+ more canary requests \(error-rate excess < /,
    );
    const next = tick(h, result);
    expect(next.status).toMatchObject({ phase: 'Progressing', canaryWeight: 10, failedChecks: 0 });
    expect(next.actions).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(/metric judge: gathering evidence before weight 20%/),
      }),
    );

    const last = harness(judgedApp(), { canaryWeight: 50 });
    last.traffic.fill('primary', T0 - 10_000, T0, 100, 0.005);
    last.traffic.fill('canary', T0 - 10_000, T0, 100, 0.005);
    const promotion = await last.judge(T0);
    expect(promotion.detail).toMatch(/^gathering evidence before promotion: ~\d+ more canary requests/);
    expect(tick(last, promotion).status).toMatchObject({ phase: 'Progressing', canaryWeight: 50 });
  });

  it('holds before the promotion while the bounds cannot show the canary within maxHarm', async () => {
    const h = harness(judgedApp(), { canaryWeight: 50 });
    h.traffic.fill('primary', T0 - 10_000, T0, 20, 0.01);
    h.traffic.fill('canary', T0 - 10_000, T0, 20, 0.03);
    const result = await h.judge(T0);
    const evidence = result.evidence as { decision: string; leansToRegression: boolean };
    expect(evidence).toMatchObject({ decision: 'pass', leansToRegression: true });
    expect(result).toMatchObject({ value: null, passed: false });
    expect(result.detail).toMatch(/^gathering evidence before promotion/);
    const next = tick(h, result);
    expect(next.status).toMatchObject({ phase: 'Progressing', canaryWeight: 50, failedChecks: 0 });
  });

  it('feeds whole seconds only, each exactly once, from one look to the next', async () => {
    const h = harness();
    h.traffic.fill('primary', T0 - 10_000, T0 + 5_000, 10, 0);
    h.traffic.fill('canary', T0 - 10_000, T0 + 5_000, 10, 0);
    await h.judge(T0 + 700);
    await h.judge(T0 + 900);
    await h.judge(T0 + 3_400);
    expect(h.traffic.asked).toEqual([
      [T0 - 10_000, T0],
      [T0, T0 + 3_000],
    ]);
    expect(h.evaluator.run('webapp')?.state.canary.requests).toBe(130);
  });

  it('starts afresh for a new revision and forgets a run once the rollout leaves the analysis', async () => {
    const h = harness();
    h.traffic.fill('canary', T0 - 10_000, T0, 10, 0);
    await h.judge(T0);
    expect(h.evaluator.run('webapp')?.state.canary.requests).toBe(100);
    h.status = { ...h.status, lastAppliedSpec: 'f00dfeedbeef' };
    await h.judge(T0 + 1_000);
    expect(h.evaluator.run('webapp')).toMatchObject({ revision: 'f00dfeedbeef', state: { windows: 1 } });
    await h.evaluator.observe('webapp', { ...h.status, phase: 'Progressing' });
    expect(h.evaluator.run('webapp')).toBeDefined();
    await h.evaluator.observe('webapp', { ...h.status, phase: 'Succeeded' });
    expect(h.evaluator.run('webapp')).toBeUndefined();
  });

  it('keeps its evidence across a restart through the store', async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-judge-'));
    const store = new StateStore<JudgeRun>(dir);
    const first = harness(judgedApp(), {}, store);
    first.traffic.fill('canary', T0 - 10_000, T0 + 2_000, 10, 0);
    await first.judge(T0);
    const restarted = harness(judgedApp(), {}, store);
    restarted.traffic.fill('canary', T0, T0 + 2_000, 10, 0);
    await restarted.judge(T0 + 2_000);
    expect(restarted.evaluator.run('webapp')).toMatchObject({
      lastTo: T0 + 2_000,
      state: { windows: 2, canary: { requests: 120 } },
    });
    await restarted.evaluator.observe('webapp', undefined);
    expect(await store.load('webapp')).toBeUndefined();
  });
});
