/**
 * The Kubernetes operator: Aviary's rollout controller driven by Canary objects
 * (docs/adr/0019-kubernetes-operator.md). The same controller, step function, checks and
 * judge as `aviary up`, with Kubernetes edges: Canaries and target Deployments read from
 * list-and-watch caches, the `deployment` target, the Gateway API router, rollout state in
 * each Canary's status subresource with an Event per transition, and traffic for the checks
 * and the judge from the data plane's Prometheus. A Canary the operator cannot run (a missing
 * Deployment, a bad field) gets `Ready=False` with the reason, and is tried again when it or
 * its target changes: never a crash loop.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import type { AppSpec } from '../config/app-schema.js';
import { ConfigError } from '../config/config-error.js';
import { trafficSourceOf, type TrafficWindows } from '../analysis/traffic-source.js';
import { KubeApi } from '../kubernetes/kube-api.js';
import { PrometheusTraffic, type TrafficDataPlane } from '../metrics/prometheus-traffic.js';
import { ObjectCacheOf } from '../kubernetes/object-cache.js';
import { GatewayApiRouter } from '../router/gateway-api/gateway-api-router.js';
import type { HttpRouteOptions } from '../router/gateway-api/http-route.js';
import { JudgeEvaluator } from '../rollout/controller/judge-evaluator.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import { RolloutController } from '../rollout/controller/controller.js';
import { StateStore } from '../rollout/state/state-store.js';
import { loadGates } from '../rollout/webhooks/gate-file.js';
import { WebhookClient } from '../rollout/webhooks/webhook-client.js';
import { DeploymentTarget } from '../target/kubernetes/deployment-target.js';
import { CANARY_API_VERSION, canaryApp, type CanaryObject } from './canary-app.js';
import { CanaryStatusStore } from './canary-status-store.js';
import { WindowsObserver } from '../metrics/windows-observer.js';
import { firstAnswer } from '../rollout/controller/first-answer.js';
import { startClusterAnalysis } from './cluster-analysis.js';

/** Options of {@link startOperator}. */
export interface OperatorOptions {
  /** A kubeconfig file; default `$KUBECONFIG`, ~/.kube/config or the pod's service account. */
  readonly kubeconfig?: string;
  /** The namespace whose Canaries the operator runs. */
  readonly namespace: string;
  /** Local state: manual gates and the judge's evidence between ticks. */
  readonly stateDir: string;
  /**
   * The data plane's Prometheus, for the built-in checks and the judge (docs/adr/0020): its
   * URL, whose series (`istio` or `envoy-gateway`) and which `up` series say how far it has
   * scraped. Without it, those checks fail, saying so.
   */
  readonly prometheus?: {
    readonly address: string;
    readonly dataPlane: TrafficDataPlane;
    readonly scrapeTargets?: string;
  };
  /** Per-version traffic, instead of `prometheus` (tests); without either, checks fail, saying so. */
  readonly traffic?: TrafficWindows;
  /** Shortest `analysis.interval` accepted; default Flagger's. */
  readonly minAnalysisIntervalMs?: number;
  /** How long a weight change waits for the gateways to accept the HTTPRoute; default 10 s. */
  readonly acceptanceTimeoutMs?: number;
  /** Longest wait between controller ticks; default 1 s. */
  readonly maxTickMs?: number;
}

/** A running operator. */
export interface Operator {
  readonly controller: RolloutController;
  readonly api: KubeApi;
  /** Stops ticking and watching; the cluster's objects stay as they are. */
  close(): Promise<void>;
}

/** Traffic windows that say why there are none, so a check fails with the reason, not silence. */
const NO_TRAFFIC: TrafficWindows = {
  windowSeconds: 0,
  buckets: () =>
    Promise.reject(
      new Error('no traffic source: start the operator with --prometheus URL (the data plane metrics)'),
    ),
};

/** Starts the operator; resolves once the caches are synced and the controller runs. */
export async function startOperator(options: OperatorOptions): Promise<Operator> {
  const { namespace } = options;
  await mkdir(options.stateDir, { recursive: true });
  const api = new KubeApi(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {});
  const target = new DeploymentTarget({ api, namespace });
  const canaries = new ObjectCacheOf<CanaryObject>(api, {
    apiVersion: CANARY_API_VERSION,
    kind: 'Canary',
    namespace,
  });
  await Promise.all([target.synced(), canaries.synced]);

  const routes = new Map<string, HttpRouteOptions>();
  const router = new GatewayApiRouter(api, {
    routeOf: (app) => {
      const route = routes.get(app);
      if (route === undefined) throw new Error(`no Canary ${namespace}/${app} known to the operator`);
      return route;
    },
    ...(options.acceptanceTimeoutMs !== undefined
      ? { acceptanceTimeoutMs: options.acceptanceTimeoutMs }
      : {}),
  });
  const prometheus = options.prometheus;
  const traffic =
    options.traffic ??
    (prometheus === undefined
      ? NO_TRAFFIC
      : new PrometheusTraffic({
          address: prometheus.address,
          dataPlane: prometheus.dataPlane,
          namespace,
          // Each role's Service, as the Deployment target names it (<svc>-primary, <svc>-canary).
          serviceOf: (app, version) => `${routes.get(app)?.name ?? app}-${version}`,
          ...(prometheus.scrapeTargets !== undefined ? { scrapeTargets: prometheus.scrapeTargets } : {}),
        }));
  const settledUntil = traffic.settledUntil?.bind(traffic);
  const gates = await loadGates(options.stateDir);
  const webhooks = new WebhookClient({ gates });
  const late: { controller?: RolloutController } = {};
  const judge = new JudgeEvaluator({
    traffic: trafficSourceOf(traffic),
    status: (app) => late.controller?.view(app).status,
    store: new StateStore(join(options.stateDir, 'judge')),
    ...(settledUntil !== undefined ? { settledUntil } : {}),
  });
  const store = new CanaryStatusStore({ api, namespace, canaryOf: (app) => canaries.get(app, namespace) });
  // A missing or bad MetricTemplate or AlertProvider is a Warning Event on the Canary naming it.
  const analysis = startClusterAnalysis(api, {
    namespace,
    warn: (app, reason, message) => {
      const event = { at: Date.now(), app, reason, message, severity: 'warning' as const };
      void store.recordEvent(app, { ...event, phase: '', canaryWeight: 0 }).catch(() => undefined);
    },
  });
  await analysis.synced;
  const controller = new RolloutController({
    stateDir: options.stateDir,
    store,
    executor: { target, router, webhooks, alerts: analysis.alerts, namespace },
    checks: {
      webhooks,
      observer: new WindowsObserver(traffic),
      extraMetrics: firstAnswer([judge.evaluate, analysis.evaluate]),
    },
    gates,
    ...(options.maxTickMs !== undefined ? { maxTickMs: options.maxTickMs } : {}),
  });
  late.controller = controller;
  // A tick that keeps failing saves nothing, so the Canary would show nothing: each new
  // failure is a Warning Event and Ready=False on it, until a tick succeeds and writes the
  // status again (e.g. a Gateway that does not accept the HTTPRoute).
  const lastFailure = new Map<string, string>();
  controller.on('event', (event: RolloutEventRecord) => {
    if (event.reason !== 'Error') {
      lastFailure.delete(event.app);
      return;
    }
    if (lastFailure.get(event.app) === event.message) return;
    lastFailure.set(event.app, event.message);
    store.rewrite(event.app);
    void store.recordEvent(event.app, event).catch(() => undefined);
    void writeReady(api, namespace, event.app, false, 'Failing', event.message).catch(() => undefined);
  });
  controller.on('status', (view: { app: string; status: Parameters<JudgeEvaluator['observe']>[1] }) => {
    void judge.observe(view.app, view.status).catch(() => undefined);
  });

  /** Canaries whose last reading failed, by name, with the message written to their status. */
  const refused = new Map<string, string>();
  /** The ignored fields last written to each Canary's `status.ignoredFields`, as JSON. */
  const reportedIgnored = new Map<string, string>();
  const appsNow = async (): Promise<AppSpec[]> => {
    const apps: AppSpec[] = [];
    for (const canary of canaries.list(namespace)) {
      const name = canary.metadata?.name ?? '';
      const targetName = (canary.spec?.targetRef as { name?: string } | undefined)?.name ?? '';
      try {
        const primary = target.deployment(namespace, `${targetName}-primary`);
        const read = canaryApp(canary, target.deployment(namespace, targetName), {
          ...(primary !== undefined ? { primary } : {}),
          ...(options.minAnalysisIntervalMs !== undefined
            ? { minAnalysisIntervalMs: options.minAnalysisIntervalMs }
            : {}),
        });
        routes.set(name, read.route);
        apps.push(read.app);
        if (refused.delete(name))
          await writeReady(api, namespace, name, true, 'Ready', 'the operator runs this Canary');
        const ignored = JSON.stringify(read.ignored);
        if (reportedIgnored.get(name) !== ignored && (read.ignored.length > 0 || reportedIgnored.has(name))) {
          reportedIgnored.set(name, ignored);
          await api
            .patchStatus(
              `/apis/${CANARY_API_VERSION}/namespaces/${namespace}/canaries/${name}`,
              { apiVersion: CANARY_API_VERSION, kind: 'Canary', namespace, name },
              { ignoredFields: read.ignored },
            )
            .catch(() => reportedIgnored.delete(name));
        }
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const message = error.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
        if (refused.get(name) !== message) {
          refused.set(name, message);
          await writeReady(api, namespace, name, false, 'InvalidCanary', message).catch(() => undefined);
        }
      }
    }
    return apps;
  };

  await controller.start(await appsNow());
  // Changes to Canaries or Deployments are read together once they settle (a rollout of a
  // new image changes the Deployment several times within a second).
  let timer: NodeJS.Timeout | undefined;
  let sync = Promise.resolve();
  const resync = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      sync = sync.then(async () => controller.add(await appsNow())).catch(() => undefined);
    }, 200);
  };
  // The operator's own status writes change a Canary too; only a new spec (generation) or a
  // Canary added or deleted changes what runs, so only those are read again.
  const generations = new Map<string, number | undefined>();
  const stopCanaries = canaries.onChange((canary, verb) => {
    const name = canary.metadata?.name ?? '';
    const generation = canary.metadata?.generation;
    if (verb === 'update' && generations.get(name) === generation) return;
    if (verb === 'delete') generations.delete(name);
    else generations.set(name, generation);
    resync();
  });
  const stopDeployments = target.onDeploymentChange((deployment: V1Deployment) => {
    const name = deployment.metadata?.name;
    if (
      canaries
        .list(namespace)
        .some((c) => (c.spec?.targetRef as { name?: string } | undefined)?.name === name)
    )
      resync();
  });
  return {
    controller,
    api,
    async close() {
      clearTimeout(timer);
      stopCanaries();
      stopDeployments();
      await sync;
      await controller.stop();
      await Promise.all([canaries.stop(), target.close(), analysis.stop()]);
    },
  };
}

/** `status.conditions[type=Ready]` of a Canary, through the status subresource. */
async function writeReady(
  api: KubeApi,
  namespace: string,
  name: string,
  ready: boolean,
  reason: string,
  message: string,
): Promise<void> {
  const at = new Date().toISOString();
  await api.patchStatus(
    `/apis/${CANARY_API_VERSION}/namespaces/${namespace}/canaries/${name}`,
    { apiVersion: CANARY_API_VERSION, kind: 'Canary', namespace, name },
    {
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason,
          message,
          lastUpdateTime: at,
          lastTransitionTime: at,
        },
      ],
    },
  );
}
