/**
 * Rejected configurations: each bad document is refused by `applyConfig` with the exact
 * path of the bad field and a message saying what was expected, and the running
 * configuration keeps serving unchanged.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { send, useFixtures } from './support.js';

const fx = useFixtures();

/** JSON-shaped document that mutations may break in any way. */
type Doc = Record<string, any>;

/** The config a rejected change would have moved to: all traffic on v2 (the running one sends it to v1). */
function movedToV2(endpoints: { v1: string; v2: string }): Doc {
  return {
    listeners: [{ port: 0 }],
    services: [
      {
        name: 'shop',
        versions: [
          { name: 'v1', endpoints: [endpoints.v1] },
          { name: 'v2', endpoints: [endpoints.v2] },
        ],
        routes: [
          { name: 'health', match: { path: { exact: '/health' } }, targets: [{ version: 'v1', weight: 1 }] },
          {
            name: 'main',
            targets: [
              { version: 'v1', weight: 0 },
              { version: 'v2', weight: 100 },
            ],
          },
        ],
      },
    ],
  };
}

const cases: { label: string; mutate: (doc: Doc) => void; path: string; message: string | RegExp }[] = [
  {
    label: 'negative weight',
    mutate: (d) => (d.services[0].routes[1].targets[1].weight = -5),
    path: 'services[0].routes[1].targets[1].weight',
    message: 'expected a number >= 0, got -5',
  },
  {
    label: 'all-zero weights',
    mutate: (d) => (d.services[0].routes[1].targets[1].weight = 0),
    path: 'services[0].routes[1].targets',
    message: 'expected at least one target with a weight > 0 (all weights are zero)',
  },
  {
    label: 'unknown version in targets',
    mutate: (d) => d.services[0].routes[1].targets.push({ version: 'v9', weight: 1 }),
    path: 'services[0].routes[1].targets[2].version',
    message: 'unknown version "v9"; expected one of v1, v2',
  },
  {
    label: 'duplicate version name',
    mutate: (d) => (d.services[0].versions[1].name = 'v1'),
    path: 'services[0].versions[1].name',
    message: 'duplicate version name "v1"',
  },
  {
    label: 'duplicate route name',
    mutate: (d) => (d.services[0].routes[1].name = 'health'),
    path: 'services[0].routes[1].name',
    message: 'duplicate route name "health"',
  },
  {
    label: 'duplicate service name',
    mutate: (d) => d.services.push(structuredClone(d.services[0])),
    path: 'services[1].name',
    message: 'duplicate service name "shop"',
  },
  {
    label: 'bad regex',
    mutate: (d) => (d.services[0].routes[1].match = { path: { regex: '/items/([0-9' } }),
    path: 'services[0].routes[1].match.path.regex',
    message: /^expected a valid regular expression: /,
  },
  {
    label: 'bad duration',
    mutate: (d) => (d.services[0].routes[1].timeout = '15 parsecs'),
    path: 'services[0].routes[1].timeout',
    message: 'expected a duration such as "500ms", "15s" or "1m", got "15 parsecs"',
  },
  {
    label: 'endpoint without port',
    mutate: (d) => (d.services[0].versions[1].endpoints = ['127.0.0.1']),
    path: 'services[0].versions[1].endpoints[0]',
    message: /explicit port.*got "127\.0\.0\.1"$/,
  },
  {
    label: 'unknown field (typo)',
    mutate: (d) => (d.services[0].routes[1].timout = '1s'),
    path: 'services[0].routes[1].timout',
    message: 'unknown field (check the spelling)',
  },
  {
    label: 'weight as a string',
    mutate: (d) => (d.services[0].routes[1].targets[1].weight = '100'),
    path: 'services[0].routes[1].targets[1].weight',
    message: 'expected a number, got "100"',
  },
  {
    label: 'unknown retryOn event',
    mutate: (d) => (d.services[0].routes[1].retries = { attempts: 2, retryOn: 'gateway-error,gateway-eror' }),
    path: 'services[0].routes[1].retries.retryOn',
    message: /^unknown retry event "gateway-eror"; expected one of server-error, gateway-error, /,
  },
  {
    label: 'bad header name in a match',
    mutate: (d) => (d.services[0].routes[1].match = { headers: [{ name: 'x user', exact: 'a' }] }),
    path: 'services[0].routes[1].match.headers[0].name',
    message: 'expected an HTTP header name (RFC 9110 token characters)',
  },
  {
    label: 'bad header name in requestHeaders.set',
    mutate: (d) => (d.services[0].routes[1].requestHeaders = { set: { 'x user': 'a' } }),
    path: 'services[0].routes[1].requestHeaders.set.x user',
    message: 'expected an HTTP header name (RFC 9110 token characters), got "x user"',
  },
  {
    label: 'unknown listener reference',
    mutate: (d) => (d.services[0].listeners = ['internal']),
    path: 'services[0].listeners[0]',
    message: 'unknown listener "internal"; expected one of default',
  },
  {
    label: 'two kinds in one header match',
    mutate: (d) =>
      (d.services[0].routes[1].match = { headers: [{ name: 'x-user', exact: 'a', prefix: 'b' }] }),
    path: 'services[0].routes[1].match.headers[0]',
    message: 'expected one of exact, prefix, suffix, regex, present or range, got exact and prefix',
  },
  {
    label: 'empty header range',
    mutate: (d) =>
      (d.services[0].routes[1].match = { headers: [{ name: 'x-n', range: { start: 5, end: 5 } }] }),
    path: 'services[0].routes[1].match.headers[0].range.end',
    message: 'expected end > start (range is [start, end))',
  },
  {
    label: 'priority out of range',
    mutate: (d) => (d.services[0].routes[1].priority = 2000),
    path: 'services[0].routes[1].priority',
    message: 'expected a number <= 1000, got 2000',
  },
  {
    label: 'mirror of an unknown version',
    mutate: (d) => (d.services[0].routes[1].mirror = { version: 'v3' }),
    path: 'services[0].routes[1].mirror.version',
    message: 'unknown version "v3"; expected one of v1, v2',
  },
  {
    label: 'unknown balancing',
    mutate: (d) => (d.services[0].versions[0].balancing = 'random'),
    path: 'services[0].versions[0].balancing',
    message: 'expected one of "round-robin", "least-request", got "random"',
  },
  {
    label: 'lower-case method',
    mutate: (d) => (d.services[0].routes[1].match = { methods: ['get'] }),
    path: 'services[0].routes[1].match.methods[0]',
    message: 'expected an upper-case HTTP method such as "GET"',
  },
  {
    label: 'route is null',
    mutate: (d) => (d.services[0].routes[1] = null),
    path: 'services[0].routes[1]',
    message: 'expected an object, got null',
  },
  {
    label: 'listener moved at runtime',
    mutate: (d) => (d.listeners[0].port = 1),
    path: 'listeners',
    message: 'listener "default" cannot change address at runtime; add a new listener instead',
  },
];

/** A router sending everything to v1, and a probe that it still does. */
async function runningOnV1() {
  const v1 = await fx.backend('v1');
  const v2 = await fx.backend('v2');
  const endpoints = { v1: v1.address, v2: v2.address };
  const start = movedToV2(endpoints);
  start.services[0].routes[1].targets = [{ version: 'v1', weight: 100 }];
  const { proxy, origin } = await fx.proxy(start as ProxyConfigInput);
  const expectStillOnV1 = async (): Promise<void> => {
    expect(proxy.generation).toBe(1);
    for (let i = 0; i < 5; i++) expect(await send(`${origin}/`)).toMatchObject({ status: 200, text: 'v1' });
  };
  return { proxy, endpoints, expectStillOnV1 };
}

describe('rejected configurations', () => {
  it('the unmutated change is valid and moves traffic (so the cases below test one fault each)', async () => {
    const { proxy, endpoints } = await runningOnV1();
    expect(await proxy.applyConfig(movedToV2(endpoints))).toEqual({ ok: true, generation: 2 });
    expect((await send(`http://127.0.0.1:${proxy.address().port}/`)).text).toBe('v2');
  });

  it.each(cases)('$label → $path', async ({ mutate, path, message }) => {
    const { proxy, endpoints, expectStillOnV1 } = await runningOnV1();
    const doc = movedToV2(endpoints);
    mutate(doc);
    const result = await proxy.applyConfig(doc);
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues;
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    if (typeof message === 'string') expect(issue?.message).toBe(message);
    else expect(issue?.message).toMatch(message);
    await expectStillOnV1();
  });

  it.each([
    { label: 'null', input: null },
    { label: 'a string', input: 'listeners: []' },
    { label: 'a list', input: [] },
    { label: 'no listeners', input: { services: [] } },
  ])('rejects a document that is $label', async ({ input }) => {
    const { proxy, expectStillOnV1 } = await runningOnV1();
    const result = await proxy.applyConfig(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.length).toBeGreaterThan(0);
    await expectStillOnV1();
  });

  it('rejects weight changes naming an unknown service, route or version, or a negative weight', async () => {
    const { proxy, expectStillOnV1 } = await runningOnV1();
    expect(await proxy.setRouteWeights('cart', 'main', { v2: 1 })).toMatchObject({
      ok: false,
      issues: [{ path: 'service', message: 'unknown service "cart"' }],
    });
    expect(await proxy.setRouteWeights('shop', 'checkout', { v2: 1 })).toMatchObject({
      ok: false,
      issues: [{ path: 'services[0].routes', message: 'unknown route "checkout" in service "shop"' }],
    });
    expect(await proxy.setRouteWeights('shop', 'main', { v1: 0, v3: 100 })).toMatchObject({
      ok: false,
      issues: [
        {
          path: 'services[0].routes[1].targets[1].version',
          message: 'unknown version "v3"; expected one of v1, v2',
        },
      ],
    });
    expect(await proxy.setRouteWeights('shop', 'main', { v1: 100, v2: -1 })).toMatchObject({
      ok: false,
      issues: [
        { path: 'services[0].routes[1].targets[1].weight', message: 'expected a number >= 0, got -1' },
      ],
    });
    await expectStillOnV1();
  });
});
