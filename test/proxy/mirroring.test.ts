/**
 * Traffic mirroring (Flagger `mirror`, Envoy request mirroring): the shadow version gets its
 * copies, marked with a `-shadow` host, and a slow or dead shadow never changes what the
 * client gets.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { binomialBounds } from './goodness-of-fit.js';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { closedAddress, inParallel, send, shopConfig, useFixtures, waitFor } from './support.js';

const fx = useFixtures();

/** Primary version `live` with every request copied to `shadow` at `percent`. */
function mirrorConfig(
  live: string,
  shadow: string,
  percent: number,
  limits: ProxyConfigInput['limits'] = {},
): ProxyConfigInput {
  return shopConfig(
    [
      { name: 'live', endpoints: [live] },
      { name: 'shadow', endpoints: [shadow] },
    ],
    [{ name: 'main', targets: [{ version: 'live', weight: 1 }], mirror: { version: 'shadow', percent } }],
    limits,
  );
}

/** Sends `count` requests (16 at a time) and checks that each got the primary's answer. */
async function expectPrimaryAnswers(origin: string, count: number): Promise<void> {
  const client = fx.client(16);
  const failures: string[] = [];
  await inParallel(count, 16, async (i) => {
    const answer = await send(`${origin}/item/${i}`, { dispatcher: client });
    if (answer.status !== 200 || answer.text !== 'live') failures.push(`${answer.status} ${answer.text}`);
  });
  expect(failures).toEqual([]);
}

describe('mirror copies', () => {
  it('copies every request at 100 %, with a -shadow host and the same body', async () => {
    const live = await fx.backend('live');
    const shadow = await fx.backend('shadow');
    const { proxy, origin } = await fx.proxy(mirrorConfig(live.address, shadow.address, 100));
    await expectPrimaryAnswers(origin, 50);
    const answer = await send(`${origin}/orders`, {
      method: 'POST',
      body: 'order-1',
      headers: { host: 'shop.example.com' },
    });
    expect(answer.text).toBe('live');
    await waitFor('51 copies', () => shadow.seen.length === 51);
    expect(new Set(shadow.seen.slice(0, 50).map((r) => r.url))).toEqual(
      new Set(Array.from({ length: 50 }, (_, i) => `/item/${i}`)),
    );
    const port = proxy.address().port;
    expect(new Set(shadow.seen.slice(0, 50).map((r) => r.headers.host))).toEqual(
      new Set([`127.0.0.1-shadow:${port}`]),
    );
    const post = shadow.seen[50]!;
    expect(post).toMatchObject({
      method: 'POST',
      url: '/orders',
      headers: { host: 'shop.example.com-shadow' },
    });
    expect(post.body.toString()).toBe('order-1');
    expect(live.seen[50]?.headers.host).toBe('shop.example.com');
    await waitFor(
      'the mirror outcomes to be recorded',
      () => proxy.metrics.versionTraffic('shop', 'shadow').totals.mirrored === 51,
    );
    expect(proxy.metrics.versionTraffic('shop', 'shadow').totals.requests).toBe(0);
  });

  it('copies a plausible fraction at 50 %', async () => {
    const live = await fx.backend('live');
    const shadow = await fx.backend('shadow');
    const { proxy, origin } = await fx.proxy(mirrorConfig(live.address, shadow.address, 50));
    const count = 1000;
    await expectPrimaryAnswers(origin, count);
    const traffic = proxy.metrics.versionTraffic('shop', 'shadow');
    await waitFor('every copy sent to be answered', () => traffic.totals.mirrored === shadow.seen.length);
    const { low, high } = binomialBounds(count, 0.5, 1e-6);
    expect(shadow.seen.length).toBeGreaterThanOrEqual(low);
    expect(shadow.seen.length).toBeLessThanOrEqual(high);
  });
});

describe('a failing mirror changes nothing for the client', () => {
  it('a mirror that never answers: every client request still completes', async () => {
    const held: ServerResponse[] = [];
    const live = await fx.backend('live');
    const shadow = await fx.backend('shadow', (_req, res) => {
      held.push(res);
    });
    const { origin } = await fx.proxy(mirrorConfig(live.address, shadow.address, 100));
    await expectPrimaryAnswers(origin, 200);
    // The shadow holds every copy it got and has answered none of them.
    expect(shadow.received()).toBeGreaterThan(0);
    expect(held).toHaveLength(shadow.seen.length);
  });

  it('bounds the copies a stalled mirror can hold and counts the dropped ones', async () => {
    const live = await fx.backend('live');
    const shadow = await fx.backend('shadow', () => {});
    const { proxy, origin } = await fx.proxy(
      mirrorConfig(live.address, shadow.address, 100, { maxMirrorsInFlight: 5 }),
    );
    await expectPrimaryAnswers(origin, 50);
    await waitFor('5 copies to reach the shadow', () => shadow.received() === 5);
    const stats = [...proxy.metrics.allMirrorStats()].find((s) => s.version === 'shadow');
    expect(stats?.dropped).toBe(45);
  });

  it('a dead mirror (closed port): every client request succeeds and the failures are counted', async () => {
    const live = await fx.backend('live');
    const { proxy, origin } = await fx.proxy(mirrorConfig(live.address, await closedAddress(), 100));
    await expectPrimaryAnswers(origin, 100);
    const traffic = proxy.metrics.versionTraffic('shop', 'shadow');
    await waitFor('100 failed copies to be recorded', () => traffic.totals.mirroredErrors === 100);
    expect(live.received()).toBe(100);
  });
});
