/**
 * A deleted Canary is let go: the operator stops driving it, and the garbage collector takes
 * what the Canary owned (`podinfo-primary`, its Services, the HTTPRoute) without the operator
 * creating them again. Before, the operator kept ticking the deleted Canary and re-applied its
 * primary for the collector to delete again. The target Deployment, which the user owns, stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { pollFor } from '../support/poll.js';
import { OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();

describe.skipIf(unavailable !== undefined)('deleting a Canary', () => {
  const fixture = new OperatorFixture();
  beforeAll(async () => {
    await fixture.start({
      interval: '10s',
      threshold: 2,
      maxWeight: 50,
      stepWeight: 10,
      judge: { enabled: false },
    });
    await fixture.phase('Initialized');
  }, 180_000);
  afterAll(() => fixture.stop(), 60_000);

  it('stops driving it, and what it owned is collected and stays gone; the target stays', async () => {
    await fixture.run(['delete', 'canary', 'podinfo', '--wait=false']);
    await pollFor(
      'the operator to let podinfo go',
      () => (fixture.operator.controller.apps().includes('podinfo') ? undefined : true),
      () => `driving ${fixture.operator.controller.apps().join(', ')}`,
      30_000,
    );
    const owned = async () =>
      (await fixture.run(['get', 'deployment,service,httproute', '-o', 'name']))
        .split('\n')
        .filter(Boolean)
        .sort();
    let left: string[] = [];
    await pollFor(
      'the Canary’s objects collected',
      async () =>
        (left = await owned()).some((n) => /podinfo-primary|podinfo-canary|httproute/.test(n))
          ? undefined
          : true,
      () => `left: ${left.join(' ')}`,
      60_000,
    );
    // A tick asked for now does nothing: one that still ran would apply the primary again.
    await fixture.operator.controller.tick('podinfo');
    expect(await owned()).toEqual(expect.arrayContaining(['deployment.apps/podinfo']));
    expect(await owned()).not.toEqual(expect.arrayContaining(['deployment.apps/podinfo-primary']));
  });
});
