import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer } from '../../api/admin-server.js';
import type { Release } from '../../config/release-schema.js';
import { proxyConfigSchema } from '../../config/proxy-schema.js';
import { ProxyServer } from '../../proxy/proxy-server.js';
import { AdminApiRouter } from '../../router/admin-api-router.js';
import type { Target, VersionStatus } from '../../target/target.js';
import { appSpec } from '../../../test/support/rollout-scenario.js';
import { ReleaseRouteSync, type RoutedRelease } from './release-route-sync.js';

const TOKEN = 'release-sync-token';

/** A target that reports one ready endpoint per entry (a seam the release manager owns). */
const target = {
  status: (app: string): Promise<Pick<VersionStatus, 'endpoints'>> =>
    Promise.resolve({ endpoints: [app.endsWith('-blue') ? '127.0.0.1:4101' : '127.0.0.1:4102'] }),
} as unknown as Target;

const release: Release = {
  listKey: 'versions',
  entries: [
    { name: 'blue', tag: 'v1.0.0', weight: 80 },
    { name: 'green', tag: 'v2.0.0', weight: 20 },
  ],
};

describe('ReleaseRouteSync over a router that can diverge', () => {
  const started: { proxy: ProxyServer; admin: AdminServer; url: string }[] = [];
  const abort = new AbortController();
  afterEach(async () => {
    for (const { proxy, admin } of started.splice(0)) {
      await admin.close();
      await proxy.close();
    }
  });

  async function startInstances(): Promise<AdminApiRouter> {
    for (let i = 0; i < 2; i++) {
      const proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ port: 0 }] }));
      await proxy.start();
      const admin = new AdminServer(proxy, { port: 0, token: TOKEN });
      started.push({ proxy, admin, url: `http://127.0.0.1:${(await admin.start()).port}` });
    }
    return new AdminApiRouter({ endpoints: started.map(({ url }) => ({ url, token: TOKEN })) });
  }

  const routed = (): RoutedRelease => ({ template: appSpec(), release, draining: new Set(), lastRouted: '' });
  const servicesOf = () => started.map(({ proxy }) => proxy.config.services.find((s) => s.name === 'webapp'));
  /** The second instance as it is after a restart with an empty configuration. */
  const emptySecond = async () => {
    const second = started[1]!.proxy;
    expect((await second.applyConfig({ listeners: second.config.listeners })).ok).toBe(true);
  };

  it('applies a release that did not change again to an instance restarted empty', async () => {
    const sync = new ReleaseRouteSync(target, await startInstances(), abort.signal, 0);
    const current = routed();
    await sync.sync('webapp', () => current);
    expect(servicesOf()[1]).toEqual(servicesOf()[0]);
    await emptySecond();

    await sync.sync('webapp', () => current);
    expect(servicesOf()[1]).toEqual(servicesOf()[0]);
    expect(started[1]!.proxy.config.services[0]?.routes.at(-1)?.targets).toEqual([
      { version: 'blue', weight: 80 },
      { version: 'green', weight: 20 },
    ]);
  });

  it('reads the routes back only every routeCheckMs', async () => {
    const sync = new ReleaseRouteSync(target, await startInstances(), abort.signal, 3_600_000);
    const current = routed();
    await sync.sync('webapp', () => current);
    await emptySecond();
    await sync.sync('webapp', () => current);
    expect(servicesOf()[1]).toBeUndefined();
  });
});
