/**
 * Issue 10: one rollout controller drives two standalone routers (`aviary proxy`, the real
 * CLI) through the admin API router. Both follow the rollout's weights, and one killed and
 * started again empty on the same ports is brought back in line by the controller within a
 * few ticks, without waiting for a weight change.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProxyConfig } from '../../src/config/proxy-schema.js';
import type { MetricObservation, MetricObserver } from '../../src/metrics/metric-observer.js';
import { RolloutController, type RolloutView } from '../../src/rollout/controller/controller.js';
import { GateStore } from '../../src/rollout/webhooks/gates.js';
import { WebhookClient } from '../../src/rollout/webhooks/webhook-client.js';
import { AdminApiRouter } from '../../src/router/admin-api-router.js';
import { routeStateOf } from '../../src/router/service-config.js';
import { ProcessTarget } from '../../src/target/process/process-target.js';
import { ensureBuilt, spawnCli, type CliProcess } from '../cli/cli-support.js';
import { APP, APP_PATH, catalogApp, catalogProcess, testConfig, type CanaryInput } from './catalog-config.js';
import { TEST_TIMEOUT_MS, waitFor } from './deadline-waits.js';
import { onCleanup, tempDir } from './test-cleanup.js';

const ADMIN_TOKEN = 'remote-routers-token';

/** Analysis without metrics: 25 → 50, then waits at the confirm-promotion gate. */
const CANARY: CanaryInput = {
  progressDeadlineSeconds: 60,
  analysis: {
    interval: '500ms',
    threshold: 2,
    stepWeight: 25,
    maxWeight: 50,
    webhooks: [{ name: 'approve', type: 'confirm-promotion', url: 'aviary:gate' }],
  },
};

/** The analysis asks for no metric; an observer is still required. */
class NoMetricsObserver implements MetricObserver {
  readonly kind = 'none';
  observe(): Promise<MetricObservation> {
    return Promise.reject(new Error('this rollout measures no metric'));
  }
}

/** A running `aviary proxy` and where it answers. */
interface RunningProxy {
  readonly cli: CliProcess;
  readonly adminPort: number;
  readonly listenerPort: number;
  readonly adminUrl: string;
  readonly routerUrl: string;
}

/** Starts `aviary proxy` with no service at all; port 0 picks free ports. */
async function startProxy(
  dir: string,
  name: string,
  ports = { listener: 0, admin: 0 },
): Promise<RunningProxy> {
  const configFile = join(dir, `${name}.json`);
  await writeFile(configFile, JSON.stringify({ listeners: [{ port: ports.listener }] }));
  const args = ['proxy', '--config', configFile, '--admin', `127.0.0.1:${ports.admin}`];
  const cli = spawnCli([...args, '--token-file', join(dir, 'token')], { env: { AVIARY_TOKEN: ADMIN_TOKEN } });
  onCleanup(async () => {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
  const out = await cli.waitForStdout((text) => text.includes('admin API on'), `${name} admin API address`);
  const listenerPort = Number(/listener default on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  const adminPort = Number(/admin API on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  return {
    cli,
    adminPort,
    listenerPort,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    routerUrl: `http://127.0.0.1:${listenerPort}`,
  };
}

/** The configuration a router answers `GET /config` with. */
async function configOf(proxy: RunningProxy): Promise<ProxyConfig> {
  const res = await fetch(`${proxy.adminUrl}/config`);
  return ((await res.json()) as { config: ProxyConfig }).config;
}

/** The app's service on a router, JSON-encoded for comparison; undefined when it has none. */
async function serviceOf(proxy: RunningProxy): Promise<string | undefined> {
  const service = (await configOf(proxy)).services.find((s) => s.name === APP);
  return service === undefined ? undefined : JSON.stringify(service);
}

/** Polls until both routers hold the same service for the app, routing `weights`. */
async function waitForBoth(proxies: readonly RunningProxy[], weights: Record<string, number>): Promise<void> {
  const describe = async () =>
    (
      await Promise.all(proxies.map(async (p) => `${p.adminUrl}: ${(await serviceOf(p)) ?? 'no routes'}`))
    ).join('\n');
  let last = '';
  await waitFor(
    `both routers to route ${JSON.stringify(weights)} with the same service`,
    async () => {
      last = await describe();
      const [first, ...others] = await Promise.all(proxies.map((p) => serviceOf(p)));
      if (first === undefined || others.some((s) => s !== first)) return undefined;
      const routed = routeStateOf(await configOf(proxies[0]!), APP).weights;
      return JSON.stringify(routed) === JSON.stringify(weights) ? true : undefined;
    },
    () => last,
  );
}

/** Versions that answered `count` requests sent through one router. */
async function versionsThrough(proxy: RunningProxy, count: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${proxy.routerUrl}${APP_PATH}`);
    const version = res.ok ? ((await res.json()) as { version: string }).version : `status ${res.status}`;
    counts[version] = (counts[version] ?? 0) + 1;
  }
  return counts;
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
    expect(await serviceOf(proxies[1])).toBeUndefined();
    await waitForBoth(proxies, { primary: 50, canary: 50 });
    expect(view?.status).toMatchObject({ phase: 'WaitingPromotion', canaryWeight: 50 });
    expect(Object.keys(await versionsThrough(proxies[1], 40)).sort()).toEqual(['1', '2']);

    await controller.setGate(APP, 'confirm-promotion', true, 'remote-routers test');
    await waitForPhase('Succeeded');
    await waitForBoth(proxies, { primary: 100 });
    for (const proxy of proxies) expect(await versionsThrough(proxy, 10)).toEqual({ '2': 10 });
  });
});
