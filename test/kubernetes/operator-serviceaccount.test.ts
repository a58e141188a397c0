/**
 * Case (a) of operator-rollout.test.ts with the operator holding nothing but a token of its
 * ServiceAccount (issue 13: "the operator runs case (a) using only a token of that
 * ServiceAccount"). The CRDs, the namespace and the RBAC of deploy/kubernetes are applied with
 * kubectl as shipped; the token comes from the TokenRequest API, as a pod's projected token
 * does; the operator's kubeconfig holds only that token, the server and its CA. The user's
 * objects (Gateway, target, Canary) and the gateway's acceptance of routes use the admin's
 * credentials, as a user and a gateway controller would. A write the ClusterRole lacks makes a
 * tick fail with the API server's 403, which the phase waits report (Ready=False and the Error
 * Event); a list or watch it lacks leaves the operator's cache empty and the rollout waiting
 * with no Event, which they report only as the phase it is stuck in (Initializing when
 * ReplicaSets could not be watched).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { kubectl } from '../cluster/kubectl.js';
import { expectInitialized, expectRolledOut } from './case-a.js';
import { OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();
const OPERATOR_USER = 'system:serviceaccount:aviary-system:aviary-operator';
type Managed = { metadata: { managedFields?: { manager: string }[] } };

describe.skipIf(unavailable !== undefined)('the operator with only its ServiceAccount token', () => {
  const fixture = new OperatorFixture();
  const operatorKubeconfig = () => fixture.shippedKubeconfig;

  beforeAll(
    () =>
      fixture.start(
        { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 10, judge: { enabled: false } },
        {},
        (f) => f.asShippedServiceAccount(),
      ),
    180_000,
  );
  afterAll(() => fixture.stop(), 60_000);

  it('runs as the ServiceAccount: its kubeconfig holds one bearer token, and the API server names it', async () => {
    const config = parse(await readFile(operatorKubeconfig(), 'utf8')) as {
      users: { user: Record<string, unknown> }[];
    };
    expect(config.users).toHaveLength(1);
    expect(Object.keys(config.users[0]!.user)).toEqual(['token']);
    expect(config.users[0]!.user.token).not.toBe(fixture.plane.token);

    const review = JSON.parse(await kubectl(operatorKubeconfig(), ['auth', 'whoami', '-o', 'json'])) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    expect(review.status.userInfo.username).toBe(OPERATOR_USER);
    expect(review.status.userInfo.groups).not.toContain('system:masters');

    // The operator's own client, not only the file: it is refused what the ServiceAccount is.
    const secrets = await fixture.operator.api
      .list('v1', 'Secret', 'default')
      .catch((error: unknown) => String(error));
    expect(secrets).toMatch(new RegExp(`User "${OPERATOR_USER}" cannot list resource "secrets"`));
  });

  it('initializes: the primary runs the target template, the apex Service selects it, all traffic on it', () =>
    expectInitialized(fixture, 60_000));

  it('rolls out a new image step by step to 50 %, promotes it and scales the target to 0', () =>
    expectRolledOut(fixture));

  it("wrote the route and the primary as 'aviary', and was never refused along the way", async () => {
    for (const object of ['httproute/podinfo', 'deployment/podinfo-primary']) {
      const managed = await fixture.getJson<Managed>([object, '--show-managed-fields']);
      expect(
        managed.metadata.managedFields?.map((f) => f.manager),
        object,
      ).toContain('aviary');
    }
    // A 403 on a path the rollout gets past (a retried write) would leave an Error here.
    const errors = fixture.operator.controller
      .events('podinfo')
      .filter((e) => /forbidden|HTTP 403/i.test(e.message))
      .map((e) => e.message);
    expect(errors).toEqual([]);
  });
});
