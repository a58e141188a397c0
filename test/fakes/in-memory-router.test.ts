import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { EmbeddedRouter } from '../../src/router/embedded-router.js';
import { runRouterConformance } from '../conformance/router-conformance.js';
import { InMemoryRouter } from './in-memory-router.js';
import type { AppRouteSpec, RouteState, TrafficRouter } from '../../src/router/traffic-router.js';

// The shared suite runs where it can: most of its cases send requests through the data
// plane, which this router does not have. Those are skipped with that reason; the cases
// below check the recorded state instead, and a property test compares it call by call
// with the embedded router.
runRouterConformance({
  name: 'in-memory',
  create: () =>
    Promise.resolve({
      router: new InMemoryRouter(),
      // Not a URL any client can reach: a case that sends a request fails loudly.
      dataPlaneUrl: 'in-memory://no-data-plane',
      close: () => Promise.resolve(),
    }),
  skip: [
    {
      reason: 'sends requests through the data plane; the in-memory router routes no request',
      tests: [
        'reconcile sends all traffic to the first version',
        'setRoutes splits traffic and getRoutes reads it back',
        'mirror copies requests to the mirror version',
        'A/B rules send matching requests to the canary only',
        'reconcile keeps weights when endpoints change',
        'traffic is never sent to a version without endpoints',
        'a weighted version that loses its endpoints loses its traffic on reconcile',
        'finalize removes the routes',
      ],
    },
  ],
});

const UP = ['127.0.0.1:10001'];

function shop(primary: readonly string[] = UP, canary: readonly string[] = UP): AppRouteSpec {
  return {
    app: 'shop',
    versions: [
      { name: 'primary', endpoints: primary },
      { name: 'canary', endpoints: canary },
    ],
  };
}

const AB_RULE = { headers: [{ name: 'x-canary', exact: 'insider' }], cookies: [] };

describe('InMemoryRouter', () => {
  it('sends everything to the first version with an endpoint on reconcile', async () => {
    const router = new InMemoryRouter();
    await router.reconcile(shop([], UP));
    expect(await router.getRoutes('shop')).toEqual({ weights: { canary: 100 } });
    expect(router.kind).toBe('in-memory');
    expect(router.apps()).toEqual(['shop']);
  });

  it('records weights, mirror and A/B rules and reads them back', async () => {
    const router = new InMemoryRouter();
    await router.reconcile(shop());
    await router.setRoutes('shop', { weights: { primary: 100 }, mirror: { version: 'canary', percent: 40 } });
    expect(await router.getRoutes('shop')).toEqual({
      weights: { primary: 100 },
      mirror: { version: 'canary', percent: 40 },
    });
    await router.setRoutes('shop', {
      weights: { primary: 100, canary: 0 },
      abTesting: { version: 'canary', rules: [AB_RULE] },
    });
    expect(await router.getRoutes('shop')).toEqual({
      weights: { primary: 100, canary: 0 },
      abTesting: { version: 'canary', rules: [AB_RULE] },
    });
  });

  it('hands out copies: changing what getRoutes returned changes nothing', async () => {
    const router = new InMemoryRouter();
    await router.reconcile(shop());
    await router.setRoutes('shop', { weights: { primary: 90, canary: 10 } });
    const read = await router.getRoutes('shop');
    (read.weights as Record<string, number>).canary = 100;
    expect((await router.getRoutes('shop')).weights).toEqual({ primary: 90, canary: 10 });
  });

  it('keeps weights when endpoints change and resets them when the weighted version loses its last one', async () => {
    const router = new InMemoryRouter();
    await router.reconcile(shop());
    await router.setRoutes('shop', { weights: { primary: 0, canary: 100 } });
    await router.reconcile(shop(UP, ['127.0.0.1:10002']));
    expect((await router.getRoutes('shop')).weights).toEqual({ primary: 0, canary: 100 });
    await router.reconcile(shop(UP, []));
    expect((await router.getRoutes('shop')).weights).toEqual({ primary: 100 });
  });

  it('refuses weight for a version without endpoints and keeps the previous state', async () => {
    const router = new InMemoryRouter();
    await router.reconcile(shop(UP, []));
    await expect(router.setRoutes('shop', { weights: { primary: 50, canary: 50 } })).rejects.toMatchObject({
      code: 'AVIARY_ROUTE_NO_ENDPOINTS',
    });
    await expect(router.setRoutes('shop', { weights: { primary: 50, ghost: 50 } })).rejects.toMatchObject({
      code: 'AVIARY_ROUTE_NO_ENDPOINTS',
    });
    expect(await router.getRoutes('shop')).toEqual({ weights: { primary: 100 } });
  });

  it('takes the weight from a version that loses its last endpoint, and its mirror', async () => {
    const router = new InMemoryRouter();
    await router.reconcile(shop());
    await router.setRoutes('shop', {
      weights: { primary: 50, canary: 50 },
      mirror: { version: 'canary', percent: 100 },
    });
    await router.reconcile(shop(UP, []));
    expect(await router.getRoutes('shop')).toEqual({ weights: { primary: 50 } });
  });

  it('refuses all-zero weights as an invalid configuration', async () => {
    const router = new InMemoryRouter();
    await router.reconcile(shop());
    await expect(router.setRoutes('shop', { weights: { primary: 0, canary: 0 } })).rejects.toMatchObject({
      code: 'AVIARY_CONFIG_INVALID',
    });
  });

  it('has no routes for an app none of whose versions has an endpoint', async () => {
    const router = new InMemoryRouter();
    await router.reconcile(shop([], []));
    await expect(router.getRoutes('shop')).rejects.toMatchObject({ code: 'AVIARY_ROUTE_UNKNOWN_APP' });
    await expect(router.setRoutes('shop', { weights: { primary: 100 } })).rejects.toMatchObject({
      code: 'AVIARY_ROUTE_NO_ENDPOINTS',
    });
  });

  it('refuses apps it was never told about, and apps it finalized', async () => {
    const router = new InMemoryRouter();
    await expect(router.setRoutes('nope', { weights: { primary: 100 } })).rejects.toMatchObject({
      code: 'AVIARY_ROUTE_UNKNOWN_APP',
    });
    await expect(router.getRoutes('nope')).rejects.toMatchObject({ code: 'AVIARY_ROUTE_UNKNOWN_APP' });
    await router.reconcile(shop());
    await router.finalize('shop');
    await expect(router.getRoutes('shop')).rejects.toMatchObject({ code: 'AVIARY_ROUTE_UNKNOWN_APP' });
    expect(router.apps()).toEqual([]);
  });

  it('rejects (never throws) every call once the signal is aborted, changing nothing', async () => {
    const router = new InMemoryRouter();
    const aborted = AbortSignal.abort();
    const calls = [
      () => router.reconcile(shop(), aborted),
      () => router.setRoutes('shop', { weights: { primary: 100 } }, aborted),
      () => router.getRoutes('shop', aborted),
      () => router.finalize('shop', aborted),
    ];
    for (const call of calls) await expect(call()).rejects.toMatchObject({ name: 'AbortError' });
    expect(router.apps()).toEqual([]);
  });
});

type Op =
  | { kind: 'reconcile'; spec: AppRouteSpec }
  | { kind: 'setRoutes'; app: string; state: RouteState }
  | { kind: 'getRoutes' }
  | { kind: 'finalize' };

const endpointsArb = fc.constantFrom<readonly string[]>([], UP, ['127.0.0.1:10002', '127.0.0.1:10003']);
const stateArb: fc.Arbitrary<RouteState> = fc.record(
  {
    weights: fc.oneof(
      fc.integer({ min: 0, max: 100 }).map((w) => ({ primary: 100 - w, canary: w })),
      fc.constant({ primary: 0, canary: 0 }),
      fc.constant({ primary: 100, ghost: 0 }),
    ),
    mirror: fc.record({
      version: fc.constantFrom('primary', 'canary'),
      percent: fc.constantFrom(0, 50, 100),
    }),
    abTesting: fc.record({
      version: fc.constantFrom('primary', 'canary'),
      rules: fc.constantFrom([], [AB_RULE]),
    }),
  },
  { requiredKeys: ['weights'] },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(endpointsArb, endpointsArb).map(([p, c]) => ({ kind: 'reconcile' as const, spec: shop(p, c) })),
  fc.tuple(fc.constantFrom('shop', 'ghost'), stateArb).map(([app, state]) => ({
    kind: 'setRoutes' as const,
    app,
    state,
  })),
  fc.constant({ kind: 'getRoutes' as const }),
  fc.constant({ kind: 'finalize' as const }),
);

async function outcomeOf(router: TrafficRouter, op: Op): Promise<unknown> {
  try {
    switch (op.kind) {
      case 'reconcile':
        return await router.reconcile(op.spec);
      case 'setRoutes':
        return await router.setRoutes(op.app, op.state);
      case 'getRoutes':
        return await router.getRoutes('shop');
      case 'finalize':
        return await router.finalize('shop');
    }
  } catch (err) {
    return { error: (err as { code?: string }).code };
  }
}

describe('InMemoryRouter against the embedded router', () => {
  let proxy: ProxyServer;
  beforeAll(async () => {
    proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ port: 0 }] }));
    await proxy.start();
  });
  afterAll(() => proxy.close());

  it('answers every sequence of calls with the same routes and the same error codes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const embedded = new EmbeddedRouter(proxy);
        const memory = new InMemoryRouter();
        try {
          for (const op of ops) expect(await outcomeOf(memory, op)).toEqual(await outcomeOf(embedded, op));
        } finally {
          await embedded.finalize('shop');
        }
      }),
      { numRuns: 300 },
    );
  });
});
