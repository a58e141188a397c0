/**
 * The operator end to end on the real test control plane (issue 13, case a): a Canary over a
 * Deployment gets its primary; a new image on the target is rolled out by stepping the
 * HTTPRoute's weights 10 → 50 at the analysis interval, then promoted: the primary runs the new
 * template, the target is scaled to 0, the weights are 100/0, the Canary's status and Events
 * say so. The gateway's acceptance of each route change is played by gateway-controller.ts;
 * everything else is the real API server and controllers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneUnavailable } from '../cluster/binaries.js';
import { OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneUnavailable();
type Template = { spec: { template: { spec: { containers: { image: string }[] } } } };

describe.skipIf(unavailable !== undefined)('the operator on a real API server', () => {
  const fixture = new OperatorFixture();

  beforeAll(
    () =>
      fixture.start({
        interval: '10s',
        threshold: 2,
        maxWeight: 50,
        stepWeight: 10,
        judge: { enabled: false },
      }),
    180_000,
  );
  afterAll(() => fixture.stop(), 60_000);

  it('initializes: the primary runs the target template, the apex Service selects it, all traffic on it', async () => {
    await fixture.phase('Initialized');
    const primary = await fixture.getJson<Template>(['deployment', 'podinfo-primary']);
    expect(primary.spec.template.spec.containers[0]!.image).toBe('example.invalid/podinfo:1');
    const apex = await fixture.getJson<{ spec: { selector: Record<string, string> } }>([
      'service',
      'podinfo',
    ]);
    expect(apex.spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(await fixture.weights()).toMatchObject({ 'podinfo-primary': 100 });
    expect((await fixture.status()).conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True' }),
    );
  });

  it('rolls out a new image step by step to 50 %, promotes it and scales the target to 0', async () => {
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
  });
});
