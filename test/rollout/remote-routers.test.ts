/**
 * Issue 10: one rollout controller drives two standalone routers (`aviary proxy`, the real
 * CLI) through the admin API router. Both follow the rollout's weights, and one killed and
 * started again empty on the same ports is brought back in line by the controller within a
 * few ticks, without waiting for a weight change.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricObservation, MetricObserver } from '../../src/metrics/metric-observer.js';
import { RolloutController, type RolloutView } from '../../src/rollout/controller/controller.js';
import { GateStore } from '../../src/rollout/webhooks/gates.js';
import { WebhookClient } from '../../src/rollout/webhooks/webhook-client.js';
import { AdminApiRouter } from '../../src/router/admin-api-router.js';
import { ProcessTarget } from '../../src/target/process/process-target.js';
import { ensureBuilt } from '../cli/cli-support.js';
import { APP, catalogApp, catalogProcess, quickCanary, testConfig } from './catalog-config.js';
import { TEST_TIMEOUT_MS, waitFor } from './deadline-waits.js';
import { onCleanup, tempDir } from './test-cleanup.js';
import { ADMIN_TOKEN, startProxy, versionsThrough, waitForBoth } from './proxy-instances.js';

/** Analysis without metrics: 25 → 50, then waits at the confirm-promotion gate. */
const CANARY = quickCanary({
  stepWeight: 25,
  maxWeight: 50,
  webhooks: [{ name: 'approve', type: 'confirm-promotion', url: 'aviary:gate' }],
});

/** The analysis asks for no metric; an observer is still required. */
class NoMetricsObserver implements MetricObserver {
  readonly kind = 'none';
  observe(): Promise<MetricObservation> {
    return Promise.reject(new Error('this rollout measures no metric'));
  }
}

describe('one controller over two aviary proxy instances', { timeout: TEST_TIMEOUT_MS }, () => {
  beforeAll(() => ensureBuilt(), 240_000);

  it('both follow the rollout, and one restarted empty is brought back in line', async () => {
    const dir = await tempDir('aviary-remote-routers-');
    const proxies = [await startProxy(dir, 'first'), await startProxy(dir, 'second')];
    const router = new AdminApiRouter({
      endpoints: proxies.map((p) => ({ url: p.adminUrl, token: ADMIN_TOKEN })),
    });
    const late: { controller?: RolloutController } = {};
    const target = new ProcessTarget({
      stateDir: join(dir, 'processes'),
      onRetiring: async (app) => late.controller?.resync(app),
    });
    onCleanup(() => target.close());
    const gates = new GateStore();
    const webhooks = new WebhookClient({ gates });
    const controller = new RolloutController({
      stateDir: dir,
      executor: {
        target,
        router,
        webhooks,
        alerts: () => undefined,
        namespace: 'default',
        routeCheckMs: 200,
      },
      checks: { webhooks, observer: new NoMetricsObserver() },
      gates,
      maxTickMs: 250,
    });
    late.controller = controller;
    onCleanup(() => controller.stop());
    let view: RolloutView | undefined;
    controller.on('status', (next: RolloutView) => (view = next));
    const waitForPhase = (phase: string) =>
      waitFor(
        `rollout in phase ${phase}`,
        () => (view?.status?.phase === phase ? true : undefined),
        () =>
          controller
            .events(APP)
            .slice(-6)
            .map((e) => `${e.reason}: ${e.message}`)
            .join('\n'),
      );
    const appFor = (version: string) => testConfig(dir, [catalogApp(catalogProcess(version), CANARY)]).apps;

    await controller.start(appFor('1'));
    await waitForPhase('Initialized');
    await waitForBoth(proxies, { primary: 100 });
    expect(await versionsThrough(proxies[1]!, 10)).toEqual({ '1': 10 });

    controller.updateApps(appFor('2'));
    await waitForPhase('WaitingPromotion');
    await waitForBoth(proxies, { primary: 50, canary: 50 });
    // 40 requests at 50/50: one version alone has probability 2 * 0.5^40 < 1e-11.
    for (const proxy of proxies)
      expect(Object.keys(await versionsThrough(proxy, 40)).sort()).toEqual(['1', '2']);

    // The second router dies and comes back on the same ports with no service at all.
    const second = proxies[1]!;
    second.cli.child.kill('SIGKILL');
    await second.cli.exited;
    proxies[1] = await startProxy(dir, 'second-restarted', {
      listener: second.listenerPort,
      admin: second.adminPort,
    });
    // It starts with no service at all (startProxy writes an empty config); the controller may
    // already be refilling it by the time it could be read, so that is not asserted here.
    await waitForBoth(proxies, { primary: 50, canary: 50 });
    expect(view?.status).toMatchObject({ phase: 'WaitingPromotion', canaryWeight: 50 });
    expect(Object.keys(await versionsThrough(proxies[1], 40)).sort()).toEqual(['1', '2']);

    await controller.setGate(APP, 'confirm-promotion', true, 'remote-routers test');
    await waitForPhase('Succeeded');
    await waitForBoth(proxies, { primary: 100 });
    for (const proxy of proxies) expect(await versionsThrough(proxy, 10)).toEqual({ '2': 10 });
  });
});
