/**
 * The embedded runtime: Aviary's parts wired together for `aviary up` and the demo — the
 * built-in router, the process target, the rollout controller and the control API, all in
 * one process with nothing else installed. This is the composition root; every part can
 * also be used alone.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppSpec, AviaryConfig } from './config/app-schema.js';
import { proxyConfigSchema } from './config/proxy-schema.js';
import { ControlServer, type ExtraRoute } from './api/control-server.js';
import { EmbeddedObserver } from './metrics/embedded-observer.js';
import { AlertDispatcher } from './notify/alert-dispatcher.js';
import { createNotifier } from './notify/notifier-registry.js';
import { ProxyServer } from './proxy/proxy-server.js';
import { EmbeddedRouter } from './router/embedded-router.js';
import { RolloutController } from './rollout/controller.js';
import type { ExtraMetricEvaluator } from './rollout/check-runner.js';
import { GateStore } from './rollout/gates.js';
import { WebhookClient } from './rollout/webhook-client.js';
import { ProcessTarget } from './target/process-target.js';

/** Options of {@link startRuntime}. */
export interface RuntimeOptions {
  /** Bearer token of the control API. */
  readonly token: string;
  /** Time a retiring endpoint keeps serving requests in flight after leaving the router. Default 1 s. */
  readonly drainMs?: number;
  /** Longest wait between controller ticks. Default 1 s. */
  readonly maxTickMs?: number;
  /** Extra read-only routes of the control API (the dashboard). */
  readonly extraRoutes?: (runtime: Runtime) => readonly ExtraRoute[];
  /** Metrics beyond the built-in ones (templates, the statistical judge). */
  readonly extraMetrics?: ExtraMetricEvaluator;
}

/** A running embedded Aviary. */
export interface Runtime {
  readonly config: AviaryConfig;
  readonly proxy: ProxyServer;
  readonly target: ProcessTarget;
  readonly controller: RolloutController;
  readonly control: ControlServer;
  readonly routerUrl: string;
  readonly controlUrl: string;
  /** Applies an edited config: changed process specs become new revisions. */
  update(config: AviaryConfig): void;
  /** Stops ticking, stops every process, closes the router and the API. */
  close(): Promise<void>;
}

async function loadGates(stateDir: string): Promise<GateStore> {
  try {
    return GateStore.fromJSON(JSON.parse(await readFile(join(stateDir, 'gates.json'), 'utf8')));
  } catch {
    return new GateStore();
  }
}

function alertsFor(config: AviaryConfig): (app: AppSpec) => AlertDispatcher | undefined {
  const cache = new Map<string, AlertDispatcher>();
  return (app) => {
    if (app.canary.analysis.alerts.length === 0) return undefined;
    let dispatcher = cache.get(app.name);
    if (!dispatcher) {
      const subscriptions = app.canary.analysis.alerts.flatMap((alert) => {
        const provider = config.alertProviders.find((p) => p.name === alert.providerRef.name);
        return provider
          ? [{ name: alert.name, severity: alert.severity, notifier: createNotifier(provider) }]
          : [];
      });
      dispatcher = new AlertDispatcher(subscriptions);
      cache.set(app.name, dispatcher);
    }
    return dispatcher;
  };
}

/** Starts the embedded runtime for a validated `aviary.yaml`. */
export async function startRuntime(config: AviaryConfig, options: RuntimeOptions): Promise<Runtime> {
  const proxy = new ProxyServer(
    proxyConfigSchema.parse({
      listeners: [{ name: 'router', host: config.router.host, port: config.router.port }],
    }),
  );
  await proxy.start();
  const router = new EmbeddedRouter(proxy);
  const gates = await loadGates(config.stateDir);
  const webhooks = new WebhookClient({ gates });
  // The target tells the controller about leaving replicas; the controller needs the target.
  const late: { controller?: RolloutController } = {};
  const drainMs = options.drainMs ?? 1000;
  const target = new ProcessTarget({
    stateDir: join(config.stateDir, 'processes'),
    onRetiring: async (app) => {
      await late.controller?.resync(app);
      await sleep(drainMs);
    },
  });
  let current = config;
  const controller = new RolloutController({
    stateDir: config.stateDir,
    executor: { target, router, webhooks, alerts: (app) => alertsFor(current)(app), namespace: 'default' },
    checks: {
      webhooks,
      observer: new EmbeddedObserver(proxy.metrics),
      ...(options.extraMetrics ? { extraMetrics: options.extraMetrics } : {}),
    },
    gates,
    ...(options.maxTickMs !== undefined ? { maxTickMs: options.maxTickMs } : {}),
  });
  late.controller = controller;
  const runtime: Runtime = {
    config,
    proxy,
    target,
    controller,
    control: undefined as unknown as ControlServer,
    routerUrl: '',
    controlUrl: '',
    update(next) {
      current = next;
      controller.updateApps(next.apps);
    },
    async close() {
      await controller.stop();
      await control.close();
      await target.close();
      await proxy.close();
    },
  };
  const control = new ControlServer(controller, {
    host: config.api.host,
    port: config.api.port,
    token: options.token,
    extraMetrics: () => proxy.metrics.render(),
    describe: async (app) => ({
      processes: {
        primary: (await target.status(app, 'primary')) ?? null,
        canary: (await target.status(app, 'canary')) ?? null,
      },
      routes: await router.getRoutes(app).catch(() => null),
    }),
    extraRoutes: options.extraRoutes?.(runtime) ?? [],
  });
  const controlAddress = await control.start();
  const routerAddress = proxy.address();
  Object.assign(runtime, {
    control,
    routerUrl: `http://${routerAddress.host}:${routerAddress.port}`,
    controlUrl: `http://${controlAddress.host}:${controlAddress.port}`,
  });
  await controller.start(config.apps);
  return runtime;
}
