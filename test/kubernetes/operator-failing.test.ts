/**
 * A Canary whose rollout cannot go on shows why, where a Kubernetes user looks: with no
 * controller answering for the Gateway, the HTTPRoute is never accepted, every tick fails,
 * and the Canary gets a Warning Event and `Ready=False` naming the route and the Gateway; once
 * the Gateway answers, it is initialized and Ready again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { pollFor } from '../support/poll.js';
import { OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();

describe.skipIf(unavailable !== undefined)('a Canary the operator cannot move', () => {
  const fixture = new OperatorFixture();

  beforeAll(
    () =>
      fixture.start(
        { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 10, judge: { enabled: false } },
        { acceptanceTimeoutMs: 2_000 },
        undefined,
        { answerRoutes: false },
      ),
    180_000,
  );
  afterAll(() => fixture.stop(), 60_000);

  it('says so on the Canary while the Gateway does not accept its route, then carries on', async () => {
    const ready = await pollFor(
      'Ready=False on the Canary',
      async () =>
        (await fixture.status()).conditions?.find((c) => c.type === 'Ready' && c.status === 'False'),
      undefined,
      60_000,
    );
    expect(ready.reason).toBe('Failing');
    expect(ready.message).toMatch(/HTTPRoute default\/podinfo/);
    expect(ready.message).toMatch(/edge/);
    const warnings = await fixture.getJson<{ items: { type: string; reason: string; message: string }[] }>([
      'events',
      '--field-selector',
      'involvedObject.name=podinfo,involvedObject.kind=Canary,reason=Error',
    ]);
    expect(warnings.items[0]).toMatchObject({ type: 'Warning', message: expect.stringMatching(/HTTPRoute/) });

    fixture.answerRoutes();
    await fixture.phase('Initialized', 60_000);
    const conditions = (await fixture.status()).conditions ?? [];
    expect(conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
  });
});
