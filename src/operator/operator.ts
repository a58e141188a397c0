/**
 * The Kubernetes operator: Aviary's rollout controller driven by Canary objects
 * (docs/adr/0019-kubernetes-operator.md). The same controller, step function, checks and
 * judge as `aviary up`, with Kubernetes edges: Canaries and target Deployments read from
 * list-and-watch caches, the `deployment` target, the Gateway API router, rollout state in
 * each Canary's status subresource with an Event per transition, and traffic for the checks
 * and the judge from the data plane's Prometheus. A Canary the operator cannot run (a missing
 * Deployment, a bad field) gets `Ready=False` with the reason, and is tried again when it or
 * its target changes: never a crash loop. Commands come as annotations on the Canary
 * (canary-commands.ts, docs/adr/0021) or through the control API and dashboard of `aviary up`,
 * served here over the same controller, which also applies release files (cluster-releases.ts,
 * docs/adr/0024).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { trafficSourceOf, type TrafficWindows } from '../analysis/traffic-source.js';
import { KubeApi } from '../kubernetes/kube-api.js';
import { ObjectCacheOf } from '../kubernetes/object-cache.js';
import { GatewayApiRouter } from '../router/gateway-api/gateway-api-router.js';
import { JudgeEvaluator } from '../rollout/controller/judge-evaluator.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import { RolloutController } from '../rollout/controller/controller.js';
import { StateStore } from '../rollout/state/state-store.js';
import { loadGates } from '../rollout/webhooks/gate-file.js';
import { WebhookClient } from '../rollout/webhooks/webhook-client.js';
import { DeploymentTarget } from '../target/kubernetes/deployment-target.js';
import { CANARY_API_VERSION, type CanaryObject } from './canary-app.js';
import { CanaryReader } from './canary-reader.js';
import { operatorControlServer, type ControlApiOptions } from './operator-control.js';
import { CanaryStatusStore } from './canary-status-store.js';
import { hasCommands } from './canary-annotations.js';
import { CanaryCommands } from './canary-commands.js';
import { listenFor } from '../listen-failure.js';
import { WindowsObserver } from '../metrics/windows-observer.js';
import { firstAnswer } from '../rollout/controller/first-answer.js';
import { startClusterAnalysis } from './cluster-analysis.js';
import { ClusterReleases, type ClusterReleaseOptions } from './cluster-releases.js';
import { operatorTraffic, type OperatorPrometheus } from './operator-traffic.js';

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
  readonly prometheus?: OperatorPrometheus;
  /** Per-version traffic, instead of `prometheus` (tests); without either, checks fail, saying so. */
  readonly traffic?: TrafficWindows;
  /** Shortest `analysis.interval` accepted; default Flagger's. */
  readonly minAnalysisIntervalMs?: number;
  /** How long a weight change waits for the gateways to accept the HTTPRoute; default 10 s. */
  readonly acceptanceTimeoutMs?: number;
  /** Longest wait between controller ticks; default 1 s. */
  readonly maxTickMs?: number;
  /**
   * Serve the control API of `aviary up` over these Canaries (the CLI's `--api`): reads are
   * open, commands need `token`. Host default 127.0.0.1; port 0 picks a free one.
   */
  readonly controlApi?: ControlApiOptions;
  /** How release files (`aviary apply` to the control API) run: image repository, Gateways, drain time. */
  readonly releases?: ClusterReleaseOptions;
  /** Who this operator is, in its Events' `reportingInstance`: its leader-election identity. */
  readonly instance?: string;
  /** Called before each write to the API server; throws when it must not write (a lost leader). */
  readonly beforeWrite?: () => void;
}

/** A running operator. */
export interface Operator {
  readonly controller: RolloutController;
  readonly api: KubeApi;
  readonly releases: ClusterReleases;
  /** The control API's URL, when `controlApi` was given. */
  readonly controlUrl?: string;
  /** Stops ticking and watching; the cluster's objects stay as they are. */
  close(): Promise<void>;
}

/** Starts the operator; resolves once the caches are synced and the controller runs. */
export async function startOperator(options: OperatorOptions): Promise<Operator> {
  const { namespace } = options;
  await mkdir(options.stateDir, { recursive: true });
  const api = new KubeApi({
    ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.beforeWrite !== undefined ? { beforeWrite: options.beforeWrite } : {}),
  });
  const target = new DeploymentTarget({ api, namespace });
  const canaries = new ObjectCacheOf<CanaryObject>(
    api,
    { apiVersion: CANARY_API_VERSION, kind: 'Canary', namespace },
    // The controller's document in `status.aviary` is read once, by the status store's own
    // list at start; kept in the cache it would be a second copy of every rollout's history.
    { trim: (canary) => void delete (canary as { status?: { aviary?: unknown } }).status?.aviary },
  );
  // A list refused for good (a verb missing from the ServiceAccount's role, a CRD not
  // installed) stops the start with the API server's reason, rather than running on an empty
  // cache that would leave every Canary waiting without a word.
  await Promise.all([target.synced(), canaries.synced]).catch(async (error: unknown) => {
    await Promise.all([canaries.stop(), target.close()]);
    throw error;
  });

  const reader = new CanaryReader({
    api,
    namespace,
    canaries,
    target,
    ...(options.minAnalysisIntervalMs !== undefined
      ? { minAnalysisIntervalMs: options.minAnalysisIntervalMs }
      : {}),
  });
  const routes = reader.routes;
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
  // Each role's Service, as the Deployment target names it (<svc>-primary, <svc>-canary).
  const serviceOf = (app: string, version: string) => `${routes.get(app)?.name ?? app}-${version}`;
  const traffic = operatorTraffic(namespace, serviceOf, options.prometheus, options.traffic);
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
  const store = new CanaryStatusStore({
    api,
    namespace,
    canaryOf: (app) => canaries.get(app, namespace),
    ...(options.instance !== undefined ? { instance: options.instance } : {}),
  });
  /** A Warning Event on the Canary `app`, with its rollout's phase and weight when it runs. */
  const warn = (app: string, reason: string, message: string): Promise<void> =>
    store.recordWarning(app, reason, message, () =>
      late.controller?.apps().includes(app) ? late.controller.view(app).status : undefined,
    );
  // A missing or bad MetricTemplate or AlertProvider is a Warning Event on the Canary naming it.
  const analysis = startClusterAnalysis(api, {
    namespace,
    warn: (app, reason, message) => void warn(app, reason, message).catch(() => undefined),
  });
  await analysis.synced.catch(async (error: unknown) => {
    await Promise.all([canaries.stop(), target.close(), analysis.stop()]);
    throw error;
  });
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
  const commands = new CanaryCommands({ controller, api, warn });
  /** Carries out the command annotations of every Canary that has some (after `controller.add`). */
  const handleCommands = async (names?: readonly string[]): Promise<void> => {
    for (const canary of canaries.list(namespace)) {
      const name = canary.metadata?.name ?? '';
      if ((names === undefined || names.includes(name)) && hasCommands(canary.metadata?.annotations))
        await commands.handle(canary).catch(() => undefined);
    }
  };
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
    void reader.writeReady(event.app, false, 'Failing', event.message).catch(() => undefined);
  });
  controller.on('status', (view: { app: string; status: Parameters<JudgeEvaluator['observe']>[1] }) => {
    void judge.observe(view.app, view.status).catch(() => undefined);
  });

  await controller.start(await reader.apps());
  await handleCommands();
  // Changes to Canaries or Deployments are read together once they settle (a rollout of a
  // new image changes the Deployment several times within a second).
  let timer: NodeJS.Timeout | undefined;
  let sync = Promise.resolve();
  const resync = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      sync = sync
        .then(async () => {
          await controller.add(await reader.apps());
          await handleCommands();
        })
        .catch(() => undefined);
    }, 200);
  };
  // The operator's own status writes change a Canary too; only a new spec (generation) or a
  // Canary added or deleted changes what runs, so only those are read again.
  const generations = new Map<string, number | undefined>();
  const stopCanaries = canaries.onChange((canary, verb) => {
    const name = canary.metadata?.name ?? '';
    const generation = canary.metadata?.generation;
    if (verb === 'update' && generations.get(name) === generation) {
      // Annotations change no generation: a command given with kubectl is carried out now.
      if (hasCommands(canary.metadata?.annotations))
        sync = sync.then(() => handleCommands([name])).catch(() => undefined);
      return;
    }
    if (verb === 'delete') {
      // Its primary, Services and HTTPRoute go with it (owner references): driving it further
      // would only create them again for the garbage collector.
      generations.delete(name);
      sync = sync.then(() => controller.forget(name)).catch(() => undefined);
      return;
    }
    generations.set(name, generation);
    resync();
  });
  // Likewise a target's spec (its generation), not the status the Deployment controller keeps
  // writing while pods come and go: with 200 Canaries, every such write re-read them all.
  const targetGenerations = new Map<string, number | undefined>();
  const stopDeployments = target.onDeploymentChange((deployment: V1Deployment, verb) => {
    const name = deployment.metadata?.name ?? '';
    const generation = deployment.metadata?.generation;
    if (verb === 'update' && targetGenerations.get(name) === generation) return;
    if (verb === 'delete') targetGenerations.delete(name);
    else targetGenerations.set(name, generation);
    if (
      canaries
        .list(namespace)
        .some((c) => (c.spec?.targetRef as { name?: string } | undefined)?.name === name)
    )
      resync();
  });
  const releases = new ClusterReleases(api, namespace, options.releases);
  // Without the Gateway API's CRDs there are no releases to resume; an apply says what is missing.
  await releases.start().catch(() => undefined);
  const control =
    options.controlApi === undefined
      ? undefined
      : operatorControlServer(options.controlApi, { controller, target, router, traffic, api, releases });
  const close = async (): Promise<void> => {
    await control?.close();
    await releases.close();
    clearTimeout(timer);
    stopCanaries();
    stopDeployments();
    await sync;
    await controller.stop();
    await Promise.all([canaries.stop(), target.close(), analysis.stop()]);
  };
  let address: { host: string; port: number } | undefined;
  try {
    address = control && (await listenFor('--api-port', () => control.start()));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    controller,
    api,
    releases,
    ...(address !== undefined ? { controlUrl: `http://${address.host}:${address.port}` } : {}),
    close,
  };
}
