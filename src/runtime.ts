/**
 * The runtime behind `aviary up` and the demo: the router, the targets, the rollout
 * controller and the control API wired together. This is the composition root: the router
 * kind (`router.kind`), each app's workload kind, the metric providers and the notifiers
 * are built from their registries as `aviary.yaml` names them; with the defaults everything
 * runs in one process with nothing else installed.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { workloadKindOf, type AppSpec, type AviaryConfig, type WorkloadKind } from './config/app-schema.js';
import { ConfigError } from './config/config-error.js';
import { listenFor } from './listen-failure.js';
import { JudgeEvaluator } from './rollout/controller/judge-evaluator.js';
import { trafficSourceOf } from './analysis/traffic-source.js';
import { ControlServer, type ExtraRoute } from './api/control-server.js';
import { TemplateEvaluator } from './rollout/controller/metric-template-evaluator.js';
import { AlertDispatcher } from './notify/alert-dispatcher.js';
import { createNotifier } from './notify/notifier-registry.js';
import type { ProxyServer } from './proxy/proxy-server.js';
import { createRouterEngine, type RouterContext } from './router/router-registry.js';
import type { RouterEngine } from './router/router-engine.js';
import type { RolloutEventRecord } from './rollout/controller/action-executor.js';
import { RolloutController, type ClockJump, type RolloutView } from './rollout/controller/controller.js';
import type { ExtraMetricEvaluator } from './rollout/controller/check-runner.js';
import { firstAnswer } from './rollout/controller/first-answer.js';
import { loadGates } from './rollout/webhooks/gate-file.js';
import { StateStore } from './rollout/state/state-store.js';
import { prepareStateDirectory } from './rollout/state/state-directory.js';
import { WebhookClient } from './rollout/webhooks/webhook-client.js';
import { targetRegistry } from './target/target-registry.js';
import { WorkloadTargets } from './target/workload-targets.js';
import { pipelineRoutes } from './api/pipeline-routes.js';
import { releaseRoutes } from './api/release-routes.js';
import { ReleaseManager } from './rollout/releases/release-manager.js';
import { ReleaseRouterGuard } from './rollout/releases/release-router-guard.js';
import { dashboardRoutes } from './web/dashboard-routes.js';
import { ArtifactStore, artifactStoreRoot } from './pipelines/artifacts/artifact-store.js';
import { canaryConfigOf } from './pipelines/flows/canary-from-artifact.js';
import { applyThroughReleaseManager } from './pipelines/flows/release-flow.js';
import { runtimePipelines, startPipelines, type RuntimePipelines } from './pipelines/pipelines-service.js';

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
  /** Where `router.kind: aviary-admin` reads its tokens from (environment, base directory). */
  readonly routerContext?: RouterContext;
  /** The directory of `aviary.yaml`: relative secret files of `pipelines` are read from there. Default the working directory. */
  readonly baseDir?: string;
  /** The environment `pipelines` secrets are read from; default `process.env`. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/** A running embedded Aviary. */
export interface Runtime {
  readonly config: AviaryConfig;
  /** The router `router.kind` names, with its observer and life cycle. */
  readonly router: RouterEngine;
  /** The built-in proxy when `router.kind` is `embedded` (it runs in this process); else undefined. */
  readonly proxy: ProxyServer | undefined;
  /** Every app's versions, each on the target of its workload kind. */
  readonly target: WorkloadTargets;
  readonly controller: RolloutController;
  /** Apps run from an operator's release file (`aviary apply`). */
  readonly releases: ReleaseManager;
  /** The git pipelines' runs (when `pipelines` is configured) and the artifact store. */
  readonly pipelines: RuntimePipelines;
  readonly control: ControlServer;
  /** Where clients send traffic (`router.kind: embedded`), or the admin URLs of the proxies driven. */
  readonly routerUrl: string;
  readonly controlUrl: string;
  /**
   * Applies an edited config: changed workloads become new revisions.
   * @throws ConfigError when `router`, `api` or `stateDir` changed; nothing is applied then.
   */
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

/** The process target's directory keeps its name from before workload kinds; the others get their kind's. */
function targetStateDir(stateDir: string, kind: WorkloadKind): string {
  return join(stateDir, kind === 'process' ? 'processes' : kind);
}

/** Starts the runtime for a validated `aviary.yaml`. */
export async function startRuntime(config: AviaryConfig, options: RuntimeOptions): Promise<Runtime> {
  await prepareStateDirectory(config.stateDir);
  const engine = await createRouterEngine(config.router, {
    stateDir: config.stateDir,
    token: options.token,
    ...options.routerContext,
  });
  const router = engine.router;
  const gates = await loadGates(config.stateDir).catch(async (err: unknown) => {
    await engine.close();
    throw err;
  });
  const webhooks = new WebhookClient({ gates });
  // The target tells the controller about leaving replicas; the controller needs the target.
  const late: { controller?: RolloutController; releases?: ReleaseManager } = {};
  const drainMs = options.drainMs ?? 1000;
  const onRetiring = async (app: string): Promise<void> => {
    await late.controller?.resync(app);
    await late.releases?.resync(app);
    await sleep(drainMs);
  };
  // The process target is always built: release files run processes, and a previous run's
  // processes must be adopted or cleaned up even when no app names that kind any more.
  const kinds = new Set<WorkloadKind>(['process', ...config.apps.map((app) => workloadKindOf(app.workload))]);
  const target = new WorkloadTargets(
    (kind) =>
      targetRegistry.create(kind, { stateDir: targetStateDir(config.stateDir, kind), onRetiring }, undefined),
    [...kinds],
  );
  let current = config;
  const templates = new TemplateEvaluator({ config: () => current, namespace: 'default' });
  const judge = new JudgeEvaluator({
    traffic: trafficSourceOf(engine.traffic),
    status: (app) => late.controller?.view(app).status,
    // Asked at check ticks and at looks between them (ADR 0017): a regression rolls back at
    // the look that proves it instead of waiting for `threshold` failed intervals.
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
      observer: engine.observer,
      extraMetrics: firstAnswer([options.extraMetrics, judge.evaluate, templates.evaluate]),
    },
    gates,
    ...(options.maxTickMs !== undefined ? { maxTickMs: options.maxTickMs } : {}),
  });
  late.controller = controller;
  controller.on('status', (view: RolloutView) => {
    void judge.observe(view.app, view.status).catch(() => undefined);
  });
  controller.on('clockJump', ({ app, jumpMs }: ClockJump) => judge.rebase(app, jumpMs));
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
  // One store: the build pipeline publishes into it, release entries run from it.
  const artifacts = await ArtifactStore.open(artifactStoreRoot(config.stateDir));
  const releases = new ReleaseManager({
    resolveArtifact: (app, tag) => artifacts.resolve(app, tag),
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
    router: engine,
    proxy: engine.proxy,
    target,
    controller,
    releases,
    pipelines: runtimePipelines(undefined, artifacts, (app, tag, dir) =>
      releases.usesArtifact(app, tag, dir),
    ),
    control: undefined as unknown as ControlServer,
    routerUrl: '',
    controlUrl: '',
    update(next) {
      // The router and the control API are built once; moving them needs a restart.
      for (const field of ['router', 'api', 'stateDir', 'pipelines'] as const) {
        if (JSON.stringify(next[field]) !== JSON.stringify(current[field])) {
          throw new ConfigError('the edited configuration', [
            {
              path: field,
              message: `changing ${field} needs a restart of aviary up; the running ${field} stays`,
            },
          ]);
        }
      }
      current = next;
      controller.updateApps(next.apps);
      releases.updateApps(next.apps);
    },
    async close() {
      await runtime.pipelines.service?.close();
      await controller.stop();
      await releases.close();
      await control.close();
      await target.close();
      await engine.close();
    },
  };
  const control = new ControlServer(controller, {
    host: config.api.host,
    port: config.api.port,
    token: options.token,
    extraMetrics: () => engine.metricsText(),
    releases,
    describe: async (app) => ({
      processes: {
        primary: (await target.status(app, 'primary')) ?? null,
        canary: (await target.status(app, 'canary')) ?? null,
      },
      routes: await router.getRoutes(app).catch(() => null),
    }),
    extraRoutes: [
      releaseRoutes(releases, options.token),
      // The same object gets its runs once the pipelines start, after the control API.
      pipelineRoutes(runtime.pipelines, options.token),
      ...dashboardRoutes(runtime),
      ...(options.extraRoutes?.(runtime) ?? []),
    ],
  });
  try {
    const controlAddress = await listenFor('api.port', () => control.start());
    Object.assign(runtime, {
      control,
      routerUrl: engine.address,
      controlUrl: `http://${controlAddress.host}:${controlAddress.port}`,
    });
    await releases.load();
    await controller.start(config.apps.filter((app) => !releases.owns(app.name)));
    await releases.start();
    if (config.pipelines !== undefined) {
      const service = await startPipelines({
        config: config.pipelines,
        stateDir: config.stateDir,
        baseDir: options.baseDir ?? process.cwd(),
        environment: options.environment ?? process.env,
        artifacts,
        applyRelease: applyThroughReleaseManager(releases),
        startCanary: (app, tag, dir) => {
          runtime.update(canaryConfigOf(current, app, tag, dir, releases.owns(app)));
          return Promise.resolve();
        },
      });
      Object.assign(runtime.pipelines, { service, runs: service.runs, queue: service.queue });
    }
  } catch (err) {
    // A failed start stops what did start: a router port left open would keep the command
    // (and a CI job running it) from ever exiting.
    await runtime.close().catch(() => undefined);
    throw err;
  }
  return runtime;
}
