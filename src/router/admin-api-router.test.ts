import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer } from '../api/admin-server.js';
import { proxyConfigSchema } from '../config/proxy-schema.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { AdminApiRouter, RouterInstancesError } from './admin-api-router.js';
import { runRouterConformance } from '../../test/conformance/router-conformance.js';
import { RouteDivergenceError } from './route-divergence.js';
import type { AppRouteSpec } from './traffic-router.js';

const TOKEN = 'conformance-token';

/** A built-in router with its admin API, both on loopback port 0. */
interface Instance {
  readonly proxy: ProxyServer;
  readonly adminUrl: string;
  readonly dataPlaneUrl: string;
  close(): Promise<void>;
}

async function startInstance(): Promise<Instance> {
  const proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ port: 0 }] }));
  await proxy.start();
  const admin = new AdminServer(proxy, { port: 0, token: TOKEN });
  const adminAddress = await admin.start();
  return {
    proxy,
    adminUrl: `http://127.0.0.1:${adminAddress.port}`,
    dataPlaneUrl: `http://127.0.0.1:${proxy.address().port}`,
    close: async () => {
      await admin.close();
      await proxy.close();
    },
  };
}

async function startInstances(count: number): Promise<Instance[]> {
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) instances.push(await startInstance());
  return instances;
}

/** A conformance fixture over `count` instances, with traffic sent through instance `through`. */
function fixture(count: number, through: number) {
  return async () => {
    const instances = await startInstances(count);
    return {
      router: new AdminApiRouter({ endpoints: instances.map((i) => ({ url: i.adminUrl, token: TOKEN })) }),
      dataPlaneUrl: instances[through]!.dataPlaneUrl,
      close: async () => {
        for (const instance of instances) await instance.close();
      },
    };
  };
}

runRouterConformance({ name: 'aviary-admin, one instance', create: fixture(1, 0) });
runRouterConformance({
  name: 'aviary-admin, two instances, traffic through the first',
  create: fixture(2, 0),
});
runRouterConformance({
  name: 'aviary-admin, two instances, traffic through the second',
  create: fixture(2, 1),
});

/** A loopback URL where nothing listens (a port bound, then released). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const spec: AppRouteSpec = {
  app: 'shop',
  versions: [
    { name: 'v1', endpoints: ['127.0.0.1:4001'] },
    { name: 'v2', endpoints: ['127.0.0.1:4002'] },
  ],
};

/** The app's service as an instance holds it now. */
const serviceOn = (instance: Instance) => instance.proxy.config.services.find((s) => s.name === 'shop');

describe('AdminApiRouter over several instances', () => {
  let instances: Instance[] = [];
  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.close();
  });

  const routerOver = (urls: readonly string[]) =>
    new AdminApiRouter({ endpoints: urls.map((url) => ({ url, token: TOKEN })) });

  it('applies every change to every instance', async () => {
    instances = await startInstances(2);
    const router = routerOver(instances.map((i) => i.adminUrl));
    await router.reconcile(spec);
    await router.setRoutes('shop', { weights: { v1: 30, v2: 70 } });
    expect(serviceOn(instances[0]!)).toBeDefined();
    expect(serviceOn(instances[1]!)).toEqual(serviceOn(instances[0]!));
    expect((await router.getRoutes('shop')).weights).toEqual({ v1: 30, v2: 70 });
  });

  it('rejects a change an instance could not take, naming it, after applying it to the others', async () => {
    instances = await startInstances(1);
    const dead = await deadUrl();
    const router = routerOver([instances[0]!.adminUrl, dead]);
    const reconciled = await router.reconcile(spec).catch((error: unknown) => error);
    expect(reconciled).toBeInstanceOf(RouterInstancesError);
    expect(reconciled).toMatchObject({ code: 'AVIARY_ROUTER_UNAVAILABLE', failures: [{ instance: dead }] });
    expect((reconciled as Error).message).toContain(dead);
    expect((reconciled as Error).message).toContain('applied on the other 1');

    await expect(router.setRoutes('shop', { weights: { v1: 10, v2: 90 } })).rejects.toMatchObject({
      code: 'AVIARY_ROUTER_UNAVAILABLE',
      message: expect.stringContaining(dead) as string,
    });
    const live = new AdminApiRouter({ url: instances[0]!.adminUrl, token: TOKEN });
    expect((await live.getRoutes('shop')).weights).toEqual({ v1: 10, v2: 90 });
    await expect(router.getRoutes('shop')).rejects.toMatchObject({ code: 'AVIARY_ROUTER_UNAVAILABLE' });
  });

  it('reports an instance that lost the app, and the next reconcile restores its weights too', async () => {
    instances = await startInstances(2);
    const [first, second] = instances as [Instance, Instance];
    const router = routerOver([first.adminUrl, second.adminUrl]);
    await router.reconcile(spec);
    await router.setRoutes('shop', { weights: { v1: 30, v2: 70 } });
    // The second instance as it is after a restart with an empty configuration.
    expect((await second.proxy.applyConfig({ listeners: second.proxy.config.listeners })).ok).toBe(true);

    const diverged = await router.getRoutes('shop').catch((error: unknown) => error);
    expect(diverged).toBeInstanceOf(RouteDivergenceError);
    expect(diverged).toMatchObject({
      code: 'AVIARY_ROUTE_DIVERGED',
      diverged: [{ instance: second.adminUrl, reason: 'has no routes for the app' }],
    });
    expect((diverged as Error).message).toContain(second.adminUrl);

    await router.reconcile(spec);
    expect(serviceOn(second)).toEqual(serviceOn(first));
    expect((await router.getRoutes('shop')).weights).toEqual({ v1: 30, v2: 70 });
  });

  it('reports weights changed on one instance behind its back', async () => {
    instances = await startInstances(2);
    const [first, second] = instances as [Instance, Instance];
    const router = routerOver([first.adminUrl, second.adminUrl]);
    await router.reconcile(spec);
    await router.setRoutes('shop', { weights: { v1: 30, v2: 70 } });
    expect((await first.proxy.setRouteWeights('shop', 'main', { v1: 100, v2: 0 })).ok).toBe(true);
    await expect(router.getRoutes('shop')).rejects.toMatchObject({
      code: 'AVIARY_ROUTE_DIVERGED',
      diverged: [{ instance: first.adminUrl, reason: expect.stringContaining('"v1":100') as string }],
    });
    await router.setRoutes('shop', { weights: { v1: 30, v2: 70 } });
    expect((await router.getRoutes('shop')).weights).toEqual({ v1: 30, v2: 70 });
  });

  it('with nothing set through it yet (a restarted controller), compares the instances with each other', async () => {
    instances = await startInstances(2);
    const [first, second] = instances as [Instance, Instance];
    await routerOver([first.adminUrl]).reconcile(spec);
    const fresh = routerOver([first.adminUrl, second.adminUrl]);
    await expect(fresh.getRoutes('shop')).rejects.toMatchObject({
      code: 'AVIARY_ROUTE_DIVERGED',
      diverged: [{ instance: second.adminUrl }],
    });
    await fresh.reconcile(spec);
    expect((await fresh.getRoutes('shop')).weights).toEqual({ v1: 100 });
  });

  it('refuses options that name no usable instance, naming the option', () => {
    const make = (endpoints: { url: string; token: string }[]) => () => new AdminApiRouter({ endpoints });
    expect(make([])).toThrow(expect.objectContaining({ code: 'AVIARY_ROUTER_CONFIG' }) as Error);
    expect(make([{ url: 'localhost:9901', token: 't' }])).toThrow(
      /endpoints\[0\]\.url: expected an http\(s\) URL/,
    );
    expect(
      make([
        { url: 'http://127.0.0.1:9901', token: 't' },
        { url: 'http://127.0.0.1:9901/', token: 't' },
      ]),
    ).toThrow(/endpoints\[1\]\.url: http:\/\/127\.0\.0\.1:9901 is listed twice/);
    expect(make([{ url: 'http://127.0.0.1:9901', token: ' ' }])).toThrow(/endpoints\[0\]\.token/);
    expect(new AdminApiRouter({ url: 'http://127.0.0.1:9901', token: 't' }).instances).toEqual([
      'http://127.0.0.1:9901',
    ]);
  });
});
