/**
 * The embedded runtime: Aviary's parts wired together for `aviary up` and the demo — the
 * built-in router, the process target, the rollout controller and the control API, all in
 * one process with nothing else installed. This is the composition root; every part can
 * also be used alone.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppSpec, AviaryConfig } from './config/app-schema.js';
import { proxyConfigSchema } from './config/proxy-schema.js';
import { JudgeEvaluator } from './rollout/controller/judge-evaluator.js';
import { ControlServer, type ExtraRoute } from './api/control-server.js';
import { EmbeddedObserver } from './metrics/embedded-observer.js';
import { TemplateEvaluator } from './rollout/controller/metric-template-evaluator.js';
import { AlertDispatcher } from './notify/alert-dispatcher.js';
import { createNotifier } from './notify/notifier-registry.js';
import { ProxyServer } from './proxy/proxy-server.js';
import { EmbeddedRouter } from './router/embedded-router.js';
import type { RolloutEventRecord } from './rollout/controller/action-executor.js';
import { RolloutController, type RolloutView } from './rollout/controller/controller.js';
import type { ExtraMetricEvaluator } from './rollout/controller/check-runner.js';
import { loadGates } from './rollout/webhooks/gate-file.js';
import { StateStore } from './rollout/state/state-store.js';
import { WebhookClient } from './rollout/webhooks/webhook-client.js';
import { ProcessTarget } from './target/process/process-target.js';
import { releaseRoutes } from './api/release-routes.js';
import { ReleaseManager } from './rollout/releases/release-manager.js';
import { ReleaseRouterGuard } from './rollout/releases/release-router-guard.js';
import { dashboardRoutes } from './web/dashboard-routes.js';

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
  /** Apps run from an operator's release file (`aviary apply`). */
  readonly releases: ReleaseManager;
  readonly control: ControlServer;
  readonly routerUrl: string;
  readonly controlUrl: string;
  /** Applies an edited config: changed process specs become new revisions. */
  update(config: AviaryConfig): void;
  /** Stops ticking, stops every process, closes the router and the API. */
  close(): Promise<void>;
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

/** The first evaluator that answers a metric, in order; undefined when none does. */
function firstAnswer(evaluators: readonly (ExtraMetricEvaluator | undefined)[]): ExtraMetricEvaluator {
  return async (app, metric, nowMs, signal) => {
    for (const evaluate of evaluators) {
      const result = await evaluate?.(app, metric, nowMs, signal);
      if (result !== undefined) return result;
    }
    return undefined;
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
  const late: { controller?: RolloutController; releases?: ReleaseManager } = {};
  const drainMs = options.drainMs ?? 1000;
  const target = new ProcessTarget({
    stateDir: join(config.stateDir, 'processes'),
    onRetiring: async (app) => {
      await late.controller?.resync(app);
      await late.releases?.resync(app);
      await sleep(drainMs);
    },
  });
  let current = config;
  const templates = new TemplateEvaluator({ config: () => current, namespace: 'default' });
  const judge = new JudgeEvaluator({
    traffic: (app, version) => proxy.metrics.versionTraffic(app, version),
    status: (app) => late.controller?.view(app).status,
    // A regression rolls back at the next tick instead of waiting for `threshold`.
    store: new StateStore(join(config.stateDir, 'judge')),
  });
  // Apps run from a release file are routed by the release manager; the controller's calls for them are dropped.
  const routerGuard = new ReleaseRouterGuard(router);
  const controller = new RolloutController({
    stateDir: config.stateDir,
    executor: {
      target,
      router: routerGuard,
      webhooks,
      alerts: (app) => alertsFor(current)(app),
      namespace: 'default',
    },
    checks: {
      webhooks,
      observer: new EmbeddedObserver(proxy.metrics),
      extraMetrics: firstAnswer([options.extraMetrics, judge.evaluate, templates.evaluate]),
    },
    gates,
    ...(options.maxTickMs !== undefined ? { maxTickMs: options.maxTickMs } : {}),
  });
  late.controller = controller;
  controller.on('status', (view: RolloutView) => {
    void judge.observe(view.app, view.status).catch(() => undefined);
  });
  controller.on('event', (event: RolloutEventRecord) => {
    if (event.reason !== 'NewRevision' && event.reason !== 'Restarted') return;
    // Flagger checks the metric providers when a canary starts; an offline one is an event.
    void templates
      .checkProviders(controller.spec(event.app), AbortSignal.timeout(30_000))
      .then((notices) => {
        for (const notice of notices) {
          const { phase, canaryWeight } = event;
          controller.emit('event', { ...notice, at: Date.now(), app: event.app, phase, canaryWeight });
        }
      })
      .catch(() => undefined);
  });
  const releases = new ReleaseManager({
    stateDir: config.stateDir,
    target,
    router,
    guard: routerGuard,
    controller,
    apps: () => current.apps,
    drainMs,
  });
  late.releases = releases;
  const runtime: Runtime = {
    config,
    proxy,
    target,
    controller,
    releases,
    control: undefined as unknown as ControlServer,
    routerUrl: '',
    controlUrl: '',
    update(next) {
      current = next;
      controller.updateApps(next.apps);
      releases.updateApps(next.apps);
    },
    async close() {
      await controller.stop();
      await releases.close();
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
    extraRoutes: [
      releaseRoutes(releases, options.token),
      ...dashboardRoutes(runtime),
      ...(options.extraRoutes?.(runtime) ?? []),
    ],
  });
  const controlAddress = await control.start();
  const routerAddress = proxy.address();
  Object.assign(runtime, {
    control,
    routerUrl: `http://${routerAddress.host}:${routerAddress.port}`,
    controlUrl: `http://${controlAddress.host}:${controlAddress.port}`,
  });
  await releases.load();
  await controller.start(config.apps.filter((app) => !releases.owns(app.name)));
  await releases.start();
  return runtime;
}
