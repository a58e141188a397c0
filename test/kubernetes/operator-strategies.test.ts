/**
 * The operator's other strategies end to end on the real test control plane (issue 13, cases
 * c and d), one after the other on one Canary: an A/B release, where requests with the header
 * `x-canary: insider` go to the canary by a rule of their own while every other request stays
 * on the primary, then a blue/green release with mirroring, where the default rule copies
 * every request to the canary with a `RequestMirror` filter. Each is promoted after its
 * iterations and leaves a route with the default rule only, all traffic on the primary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpRoute, HttpRouteRule } from '../../src/router/gateway-api/http-route.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { pollFor } from '../support/poll.js';
import { canaryOf, OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();
type Template = { spec: { template: { spec: { containers: { image: string }[] } } } };

const abTesting = {
  interval: '10s',
  threshold: 2,
  iterations: 3,
  match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
  judge: { enabled: false },
};
const blueGreenMirror = {
  interval: '10s',
  threshold: 2,
  iterations: 3,
  mirror: true,
  mirrorWeight: 100,
  judge: { enabled: false },
};

describe.skipIf(unavailable !== undefined)('the operator’s A/B and blue/green strategies', () => {
  const fixture = new OperatorFixture();
  let last: HttpRoute | undefined;

  beforeAll(() => fixture.start(abTesting), 180_000);
  afterAll(() => fixture.stop(), 60_000);

  const route = async (): Promise<HttpRoute> =>
    (last = await fixture.getJson<HttpRoute>(['httproute', 'podinfo']));
  /** Waits until the HTTPRoute's rules satisfy `test`, showing the last rules read if they never do. */
  const rulesWhere = (what: string, test: (rules: readonly HttpRouteRule[]) => boolean) =>
    pollFor(
      what,
      async () => {
        const rules = (await route()).spec.rules;
        return test(rules) ? rules : undefined;
      },
      () =>
        `rules: ${JSON.stringify(last?.spec.rules)}; events: ${fixture.operator.controller
          .events('podinfo')
          .slice(-8)
          .map((e) => `${e.reason}: ${e.message}`)
          .join(' | ')}`,
      90_000,
    );
  const backends = (rule: HttpRouteRule | undefined) =>
    Object.fromEntries((rule?.backendRefs ?? []).map((ref) => [ref.name, ref.weight]));
  const replicas = async (deployment: string) =>
    (await fixture.getJson<{ spec: { replicas: number } }>(['deployment', deployment])).spec.replicas;
  const primaryImage = async () =>
    (await fixture.getJson<Template>(['deployment', 'podinfo-primary'])).spec.template.spec.containers[0]!
      .image;

  it('(c) A/B: requests with the header go to the canary by their own rule, then it is promoted', async () => {
    await fixture.phase('Initialized');
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:2']);
    const rules = await rulesWhere('an A/B rule before the default rule', (r) => r.length === 2);
    expect(rules[0]!.matches).toEqual([
      {
        path: { type: 'PathPrefix', value: '/' },
        headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }],
      },
    ]);
    expect(rules[0]!.backendRefs.map((ref) => ref.name)).toEqual(['podinfo-canary']);
    expect(backends(rules[1])).toEqual({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
    expect(rules[1]!.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);

    await fixture.phase('Succeeded', 150_000);
    const after = await rulesWhere('the default rule only', (r) => r.length === 1);
    expect(backends(after[0])).toEqual({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
    expect(after[0]!.matches[0]!.headers).toBeUndefined();
    expect(await primaryImage()).toBe('example.invalid/podinfo:2');
  });

  it('(d) blue/green: the default rule mirrors requests to the canary, and stops on promotion', async () => {
    await fixture.apply(canaryOf(blueGreenMirror));
    // The new analysis is read before the new revision appears, or this would run as A/B.
    await pollFor(
      'the operator to read the blue/green analysis',
      () => (fixture.operator.controller.spec('podinfo').canary?.analysis.mirror ? true : undefined),
      undefined,
      30_000,
    );
    // The promotion scaled the target to 0; the primary keeps its size.
    expect(await replicas('podinfo-primary')).toBe(2);
    expect(await replicas('podinfo')).toBe(0);
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:3']);
    const rules = await rulesWhere('a RequestMirror filter on the default rule', (r) =>
      (r.at(-1)?.filters ?? []).some((f) => f.type === 'RequestMirror'),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]!.filters).toEqual([
      {
        type: 'RequestMirror',
        requestMirror: {
          backendRef: { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898 },
          percent: 100,
        },
      },
    ]);
    expect(backends(rules[0])).toEqual({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
    // Scaled from 0 to the primary's size, as Flagger does without an autoscaler.
    expect(await replicas('podinfo')).toBe(2);

    await fixture.phase('Succeeded', 150_000);
    const after = await rulesWhere('no filter on the default rule', (r) => r[0]?.filters === undefined);
    expect(after).toHaveLength(1);
    expect(backends(after[0])).toEqual({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
    expect(await primaryImage()).toBe('example.invalid/podinfo:3');
    const reasons = await fixture.eventReasons();
    expect(
      reasons.filter((r) => r === 'Succeeded'),
      reasons.join(' '),
    ).toHaveLength(2);
  });
});
