/**
 * Configuration swaps under load: weight changes and whole-config changes (adding and
 * removing a version) must never fail a request in flight, and generations must strictly
 * increase.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { routeConfig, send, shopConfig, targets, useFixtures, waitFor } from './support.js';

const fx = useFixtures();

const SWAPS = 200;
const CLIENTS = 16;

function swapConfig(
  endpoints: Readonly<Record<string, string>>,
  weights: Readonly<Record<string, number>>,
): ProxyConfigInput {
  const versions = Object.keys(weights).map((name) => [name, [endpoints[name]!]] as const);
  return routeConfig(Object.fromEntries(versions), { targets: targets(weights) });
}

describe('live configuration swaps', () => {
  it(`loses no request across ${SWAPS} swaps under ${CLIENTS} concurrent keep-alive clients`, async () => {
    const endpoints: Record<string, string> = {};
    for (const name of ['v1', 'v2', 'v3']) endpoints[name] = (await fx.backend(name)).address;
    const { proxy, origin } = await fx.proxy(swapConfig(endpoints, { v1: 90, v2: 10 }));
    const client = fx.client(CLIENTS);

    let stop = false;
    let answered = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const loop = async (): Promise<void> => {
      while (!stop) {
        try {
          const answer = await send(`${origin}/`, { dispatcher: client });
          if (answer.status !== 200) failures.push(`${answer.status}: ${answer.text}`);
          else seen.add(answer.text);
        } catch (err) {
          failures.push(String(err));
        }
        answered++;
      }
    };
    const clients = Array.from({ length: CLIENTS }, loop);

    const generations = [proxy.generation];
    for (let i = 0; i < SWAPS; i++) {
      const canary = (i * 37) % 101;
      const result =
        i % 2 === 0
          ? await proxy.setRouteWeights('shop', 'main', { v1: 100 - canary, v2: canary })
          : // Every other whole-config swap brings v3 in (and takes it away again on the next one).
            await proxy.applyConfig(
              swapConfig(
                endpoints,
                i % 4 === 1
                  ? { v1: 100 - canary, v2: canary / 2, v3: canary / 2 + 1 }
                  : { v1: 100 - canary, v2: canary },
              ),
            );
      expect(result).toMatchObject({ ok: true });
      if (result.ok) generations.push(result.generation);
      // Let traffic flow on every generation, not only between bursts of swaps.
      const target = answered + 2;
      await waitFor('requests on this generation', () => answered >= target);
    }
    stop = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThanOrEqual(2 * SWAPS);
    expect(seen).toEqual(new Set(['v1', 'v2', 'v3']));
    expect(generations).toHaveLength(SWAPS + 1);
    generations.forEach((g, i) => expect(g).toBe(i + 1));
    expect(proxy.generation).toBe(SWAPS + 1);
  });

  it('numbers concurrent changes in call order and rejects a stale expected generation', async () => {
    const v1 = await fx.backend('v1');
    const v2 = await fx.backend('v2');
    const { proxy } = await fx.proxy(swapConfig({ v1: v1.address, v2: v2.address }, { v1: 50, v2: 50 }));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => proxy.setRouteWeights('shop', 'main', { v1: i, v2: 10 - i })),
    );
    expect(results.map((r) => (r.ok ? r.generation : 0))).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const stale = await proxy.setRouteWeights('shop', 'main', { v1: 1, v2: 1 }, 5);
    expect(stale).toEqual({
      ok: false,
      issues: [
        { path: 'generation', message: 'expected generation 5, but the router is at 11; reload and retry' },
      ],
    });
    expect(await proxy.setRouteWeights('shop', 'main', { v1: 1, v2: 1 }, 11)).toEqual({
      ok: true,
      generation: 12,
    });
  });

  it('applies a weight change on top of a whole-config change queued before it', async () => {
    const v1 = await fx.backend('v1');
    const v2 = await fx.backend('v2');
    const v3 = await fx.backend('v3');
    const endpoints = { v1: v1.address, v2: v2.address, v3: v3.address };
    const { proxy, origin } = await fx.proxy(swapConfig(endpoints, { v1: 1, v2: 1 }));
    const withV3 = proxy.applyConfig(swapConfig(endpoints, { v1: 1, v2: 1, v3: 1 }));
    const weights = proxy.setRouteWeights('shop', 'main', { v1: 0, v2: 0, v3: 1 });
    expect(await withV3).toEqual({ ok: true, generation: 2 });
    expect(await weights).toEqual({ ok: true, generation: 3 });
    expect(proxy.config.services[0]?.versions.map((v) => v.name)).toEqual(['v1', 'v2', 'v3']);
    expect((await send(`${origin}/`)).text).toBe('v3');
  });

  it('serves two versions sharing an endpoint with different connection limits', async () => {
    const shared = await fx.backend('shared');
    const config = shopConfig(
      [
        { name: 'blue', endpoints: [shared.address], connectionsPerEndpoint: 16 },
        { name: 'green', endpoints: [shared.address], connectionsPerEndpoint: 4 },
      ],
      [
        { name: 'blue', match: { path: { prefix: '/blue' } }, targets: [{ version: 'blue', weight: 1 }] },
        { name: 'green', targets: [{ version: 'green', weight: 1 }] },
      ],
    );
    const { proxy, origin } = await fx.proxy(config);
    const check = async (): Promise<void> => {
      for (const path of ['/blue', '/green', '/blue', '/green']) {
        expect(await send(`${origin}${path}`)).toMatchObject({ status: 200, text: 'shared' });
      }
    };
    await check();
    expect(await proxy.setRouteWeights('shop', 'green', { green: 2 })).toMatchObject({ ok: true });
    await check();
  });

  it('loses no request when connectionsPerEndpoint changes under load', async () => {
    const v1 = await fx.backend('v1');
    const { proxy, origin } = await fx.proxy(swapConfig({ v1: v1.address }, { v1: 1 }));
    const client = fx.client(8);
    let stop = false;
    const failures: string[] = [];
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const answer = await send(`${origin}/`, { dispatcher: client }).catch((err: unknown) => ({
          status: 0,
          text: String(err),
        }));
        if (answer.status !== 200) failures.push(`${answer.status} ${answer.text}`);
      }
    });
    for (let i = 0; i < 20; i++) {
      const config = swapConfig({ v1: v1.address }, { v1: 1 });
      config.services![0]!.versions[0]!.connectionsPerEndpoint = 1 + (i % 4);
      expect(await proxy.applyConfig(config)).toMatchObject({ ok: true });
      const before = v1.received();
      await waitFor('requests on this generation', () => v1.received() >= before + 5);
    }
    stop = true;
    await Promise.all(loops);
    expect(failures).toEqual([]);
  });
});
