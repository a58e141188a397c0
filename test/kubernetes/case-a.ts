/**
 * Issue 13's case (a), asserted the same way wherever it runs (with the admin's credentials in
 * operator-rollout.test.ts, with only the ServiceAccount's token in
 * operator-serviceaccount.test.ts): the Canary initializes onto its primary, then a new image
 * on the target is stepped 10 → 50 %, promoted, and the target scaled to 0.
 */
import { expect } from 'vitest';
import type { OperatorFixture } from './operator-fixture.js';

type Template = { spec: { template: { spec: { containers: { image: string }[] } } } };

/** The primary runs the target's template, the apex Service selects it, all traffic on it, Ready. */
export async function expectInitialized(fixture: OperatorFixture, timeoutMs = 120_000): Promise<void> {
  await fixture.phase('Initialized', timeoutMs);
  const primary = await fixture.getJson<Template>(['deployment', 'podinfo-primary']);
  expect(primary.spec.template.spec.containers[0]!.image).toBe('example.invalid/podinfo:1');
  const apex = await fixture.getJson<{ spec: { selector: Record<string, string> } }>(['service', 'podinfo']);
  expect(apex.spec.selector).toEqual({ app: 'podinfo-primary' });
  expect(await fixture.weights()).toMatchObject({ 'podinfo-primary': 100 });
  expect((await fixture.status()).conditions).toContainEqual(
    expect.objectContaining({ type: 'Ready', status: 'True' }),
  );
}

/** A new image rolled out 10 → 50 % step by step, promoted, the target scaled to 0, Events saying so. */
export async function expectRolledOut(fixture: OperatorFixture): Promise<void> {
  const seen = await fixture.weightsDuring(async () => {
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:2']);
    await fixture.phase('Progressing', 60_000);
    await fixture.phase('Succeeded', 150_000);
  });
  expect(seen.filter((w) => w > 0)).toEqual([10, 20, 30, 40, 50]);
  expect(await fixture.weights()).toMatchObject({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
  const primary = await fixture.getJson<Template>(['deployment', 'podinfo-primary']);
  expect(primary.spec.template.spec.containers[0]!.image).toBe('example.invalid/podinfo:2');
  expect(
    (await fixture.getJson<{ spec: { replicas: number } }>(['deployment', 'podinfo'])).spec.replicas,
  ).toBe(0);
  const reasons = await fixture.eventReasons();
  expect(reasons, reasons.join(' ')).toEqual(
    expect.arrayContaining(['NewRevision', 'WeightAdvanced', 'Promoting', 'Finalising', 'Succeeded']),
  );
  expect(await fixture.run(['get', 'canary', 'podinfo'])).toMatch(/podinfo\s+Succeeded\s+0\s+0/);
}
