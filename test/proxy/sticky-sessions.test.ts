/**
 * Session affinity (Flagger `sessionAffinity`): a client pinned by cookie keeps its version
 * across weight changes while new clients follow the weights, and is re-assigned (with a new
 * cookie) once its version no longer takes traffic.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { goodnessOfFit } from './goodness-of-fit.js';
import { inParallel, routeConfig, send, targets, useFixtures, type Answer } from './support.js';

const fx = useFixtures();
const COOKIE = 'aviary-version';

function affinityConfig(
  endpoints: Readonly<Record<string, string>>,
  weights: Readonly<Record<string, number>>,
): ProxyConfigInput {
  const versions = Object.entries(endpoints).map(([name, endpoint]) => [name, [endpoint]] as const);
  return routeConfig(Object.fromEntries(versions), {
    targets: targets(weights),
    sessionAffinity: { cookieName: COOKIE, maxAge: 3600 },
  });
}

async function twoVersions(weights: Readonly<Record<string, number>>) {
  const v1 = await fx.backend('v1');
  const v2 = await fx.backend('v2');
  return fx.proxy(affinityConfig({ v1: v1.address, v2: v2.address }, weights));
}

/** The affinity `Set-Cookie` of an answer, if any. */
function affinityCookie(answer: Answer): string | undefined {
  const header = answer.headers['set-cookie'];
  const all = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return all.find((c) => c.startsWith(`${COOKIE}=`));
}

/** A browser-like client that keeps the affinity cookie it was given. */
class CookieClient {
  cookie: string | undefined;
  readonly versions: string[] = [];

  constructor(private readonly origin: string) {}

  async get(): Promise<{ version: string; newCookie: string | undefined }> {
    const answer = await send(`${this.origin}/`, { headers: this.cookie ? { cookie: this.cookie } : {} });
    expect(answer.status).toBe(200);
    const newCookie = affinityCookie(answer);
    if (newCookie) this.cookie = newCookie.split(';')[0];
    this.versions.push(answer.text);
    return { version: answer.text, newCookie };
  }
}

describe('session affinity', () => {
  it('sets a cookie naming the version on the first answer only', async () => {
    const { origin } = await twoVersions({ v1: 50, v2: 50 });
    const client = new CookieClient(origin);
    const first = await client.get();
    expect(first.newCookie).toBe(`${COOKIE}=${first.version}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`);
    for (let i = 0; i < 10; i++)
      expect(await client.get()).toEqual({ version: first.version, newCookie: undefined });
  });

  it('keeps pinned clients on their version across weight changes while new clients follow the weights', async () => {
    const { proxy, origin } = await twoVersions({ v1: 50, v2: 50 });
    const clients = Array.from({ length: 40 }, () => new CookieClient(origin));
    for (const client of clients) await client.get();
    const pinned = clients.map((c) => c.versions[0]!);
    expect(new Set(pinned)).toEqual(new Set(['v1', 'v2']));
    for (const weights of [
      { v1: 90, v2: 10 },
      { v1: 10, v2: 90 },
    ]) {
      expect((await proxy.setRouteWeights('shop', 'main', weights)).ok).toBe(true);
      for (const client of clients) {
        for (let i = 0; i < 3; i++) expect((await client.get()).version).toBe(client.versions[0]);
      }
      const newcomers: string[] = [];
      await inParallel(400, 16, async () => {
        const answer = await send(`${origin}/`);
        expect(affinityCookie(answer)?.startsWith(`${COOKIE}=${answer.text};`)).toBe(true);
        newcomers.push(answer.text);
      });
      const observed = ['v1', 'v2'].map((v) => newcomers.filter((n) => n === v).length);
      expect(goodnessOfFit(observed, [weights.v1, weights.v2])).toBeGreaterThan(1e-4);
    }
  });

  it('re-assigns a client whose version drops to weight 0, with a new cookie', async () => {
    const { proxy, origin } = await twoVersions({ v1: 100, v2: 0 });
    const client = new CookieClient(origin);
    expect((await client.get()).version).toBe('v1');
    expect((await proxy.setRouteWeights('shop', 'main', { v1: 0, v2: 100 })).ok).toBe(true);
    const moved = await client.get();
    expect(moved.version).toBe('v2');
    expect(moved.newCookie?.startsWith(`${COOKIE}=v2;`)).toBe(true);
    expect(await client.get()).toEqual({ version: 'v2', newCookie: undefined });
  });

  it('re-assigns a client whose version left the route and the service', async () => {
    const v1 = await fx.backend('v1');
    const v2 = await fx.backend('v2');
    const { proxy, origin } = await fx.proxy(
      affinityConfig({ v1: v1.address, v2: v2.address }, { v1: 1, v2: 0 }),
    );
    const client = new CookieClient(origin);
    expect((await client.get()).version).toBe('v1');
    expect((await proxy.applyConfig(affinityConfig({ v2: v2.address }, { v2: 1 }))).ok).toBe(true);
    const moved = await client.get();
    expect(moved).toMatchObject({ version: 'v2' });
    expect(moved.newCookie?.startsWith(`${COOKIE}=v2;`)).toBe(true);
  });

  it('re-assigns a client with an unknown version in its cookie and keeps the backend cookies', async () => {
    const v1 = await fx.backend('v1', (_req, res) => {
      res.setHeader('set-cookie', ['session=abc; Path=/']);
      res.end('v1');
    });
    const { origin } = await fx.proxy(affinityConfig({ v1: v1.address }, { v1: 1 }));
    const answer = await send(`${origin}/`, { headers: { cookie: `${COOKIE}=v7` } });
    expect(answer.text).toBe('v1');
    expect(answer.headers['set-cookie']).toEqual([
      'session=abc; Path=/',
      `${COOKIE}=v1; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`,
    ]);
  });
});
