/**
 * The operator end to end on the real test control plane (issue 13, case a): a Canary over a
 * Deployment gets its primary; a new image on the target is rolled out by stepping the
 * HTTPRoute's weights 10 → 50 at the analysis interval, then promoted: the primary runs the new
 * template, the target is scaled to 0, the weights are 100/0, the Canary's status and Events
 * say so. The gateway's acceptance of each route change is played by gateway-controller.ts;
 * everything else is the real API server and controllers.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { expectInitialized, expectRolledOut } from './case-a.js';
import { OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();

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

  it('initializes: the primary runs the target template, the apex Service selects it, all traffic on it', () =>
    expectInitialized(fixture));

  it('rolls out a new image step by step to 50 %, promotes it and scales the target to 0', () =>
    expectRolledOut(fixture));
});
