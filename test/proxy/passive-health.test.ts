/**
 * Passive health checking (Envoy outlier detection, App Mesh `outlierDetection`) and
 * least-request balancing, observed through which backend the real router picks.
 */
import type { ServerResponse } from 'node:http';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { binomialBounds } from './goodness-of-fit.js';
import type { BackendHandler, VersionInput } from './support.js';
import { routeConfig, sampleSum, send, useFixtures, waitFor } from './support.js';

const fx = useFixtures();

const failing: BackendHandler = (_req, res) => {
  res.writeHead(500);
  res.end('broken');
};

async function router(endpoints: string[], version: Partial<VersionInput>) {
  return fx.proxy(routeConfig({ v1: endpoints }, { targets: [{ version: 'v1', weight: 1 }] }, version));
}

function ejectedGauge(exposition: string, endpoint: string): number {
  return sampleSum(exposition, 'aviary_proxy_endpoint_ejected', { service: 'shop', version: 'v1', endpoint });
}

describe('outlier ejection', () => {
  it('stops sending to an endpoint after consecutiveFailures and reports it ejected', async () => {
    const bad = await fx.backend('bad', failing);
    const good = await fx.backend('good');
    const { origin, proxy } = await router([bad.address, good.address], {
      outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '1m' },
    });
    expect(ejectedGauge(proxy.metrics.render(), bad.address)).toBe(0);
    // Round-robin alternates, so the bad endpoint fails three times within about six requests.
    await waitFor('the bad endpoint to fail 3 times', async () => {
      await send(`${origin}/`);
      return bad.received() >= 3;
    });
    expect(bad.received()).toBe(3);
    expect(ejectedGauge(proxy.metrics.render(), bad.address)).toBe(1);
    expect(ejectedGauge(proxy.metrics.render(), good.address)).toBe(0);
    for (let i = 0; i < 30; i++)
      expect(await send(`${origin}/`)).toMatchObject({ status: 200, text: 'good' });
    expect(bad.received()).toBe(3);
  });

  it('brings an ejected endpoint back after baseEjectionTime', async () => {
    let healthy = false;
    const flaky = await fx.backend('flaky', (req, res, seen) =>
      healthy ? res.end('flaky') : failing(req, res, seen),
    );
    const good = await fx.backend('good');
    const { origin, proxy } = await router([flaky.address, good.address], {
      outlierDetection: { consecutiveFailures: 2, baseEjectionTime: '200ms' },
    });
    await waitFor('the flaky endpoint to be ejected', async () => {
      await send(`${origin}/`);
      return ejectedGauge(proxy.metrics.render(), flaky.address) === 1;
    });
    healthy = true;
    await waitFor(
      'the flaky endpoint to be picked again',
      async () => (await send(`${origin}/`)).text === 'flaky',
    );
    expect(ejectedGauge(proxy.metrics.render(), flaky.address)).toBe(0);
  });

  it('never ejects more than maxEjectionPercent of a version', async () => {
    const first = await fx.backend('first', failing);
    const second = await fx.backend('second', failing);
    const { origin, proxy } = await router([first.address, second.address], {
      outlierDetection: { consecutiveFailures: 1, baseEjectionTime: '1m', maxEjectionPercent: 50 },
    });
    for (let i = 0; i < 20; i++) expect((await send(`${origin}/`)).status).toBe(500);
    const text = proxy.metrics.render();
    expect(ejectedGauge(text, first.address) + ejectedGauge(text, second.address)).toBe(1);
  });
});

describe('least-request balancing', () => {
  /**
   * Sends `count` requests one after another to a version of a stalling and a fast endpoint
   * and returns how many the stalling one received. Each request is left in flight once the
   * stalling endpoint holds it, so that endpoint's in-flight count only grows.
   */
  async function heldByStallingEndpoint(balancing: 'least-request' | 'round-robin', count: number) {
    const held: ServerResponse[] = [];
    const stalling = await fx.backend('stalling', (_req, res) => {
      held.push(res);
    });
    const fast = await fx.backend('fast');
    const { origin } = await router([stalling.address, fast.address], { balancing });
    const client = new Agent({ connections: count + 1 });
    fx.defer(() => client.destroy());
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const before = stalling.received();
      let answered = false;
      const exchange = request(`${origin}/`, { dispatcher: client }).then(async (res) => {
        answered = true;
        return res.body.text();
      });
      pending.push(exchange);
      await waitFor('the request to be answered or held', () => answered || stalling.received() > before);
    }
    const result = held.length;
    for (const res of held) res.end('released');
    await Promise.all(pending);
    return result;
  }

  it('prefers the endpoint with fewer requests in flight', async () => {
    const count = 200;
    const stalled = await heldByStallingEndpoint('least-request', count);
    // Power of two choices: a busier endpoint is picked only when both draws land on it.
    const { high } = binomialBounds(count, 0.25, 1e-6);
    expect(stalled).toBeLessThanOrEqual(high);
    expect(high).toBeLessThan(count / 2);
  });

  it('round-robin (the control) sends the stalling endpoint half of the requests', async () => {
    expect(await heldByStallingEndpoint('round-robin', 40)).toBe(20);
  });
});
