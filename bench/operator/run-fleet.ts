/**
 * One fleet run of the operator bench in its own namespace of a running control plane: the
 * Gateway and the simulated gateway controller, N target Deployments and N Canaries, then
 * `aviary operator` started as a child process; once every Canary is Initialized and the
 * operator is quiet, every target gets a new image at once, and the run waits for every
 * rollout to end. Returns what was measured; never throws for a slow or failed rollout (the
 * report says so), only for a bench that could not set up.
 */
import { join } from 'node:path';
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import type { ControlPlane } from '../../test/cluster/control-plane.js';
import { startGatewayController } from '../../test/kubernetes/gateway-controller.js';
import {
  IMAGES,
  canaryObject,
  gatewayObject,
  imagePatch,
  memberName,
  namespaceObject,
  targetDeployment,
  type FleetAnalysis,
} from './fleet-objects.js';
import { FleetWatch, isTerminal } from './fleet-watch.js';
import { OperatorProcess, memoryOf } from './operator-process.js';
import { countsBetween, type CountSource, type RequestCount } from './request-counts.js';

/** What one run is asked to do. */
export interface FleetRunOptions {
  readonly plane: ControlPlane;
  readonly namespace: string;
  readonly count: number;
  readonly analysis: FleetAnalysis;
  /** performance.now() after which the run stops waiting and reports what it has. */
  readonly deadline: number;
  /** Operator state and log go under this directory. */
  readonly dir: string;
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
}

/** Operator memory in MB. */
export interface MemoryFigures {
  /** VmHWM at the end of the run: the largest RSS the process ever had. */
  readonly peakMb: number;
  /** Median VmRSS while the initialized fleet waited for the new image. */
  readonly idleMb: number;
  /** Median VmRSS in the settle window after the rollouts ended. */
  readonly settledMb: number;
}

/** What one run measured. */
export interface FleetRun {
  readonly namespace: string;
  readonly count: number;
  readonly countSource: CountSource;
  /** Seconds from the operator's start until every Canary was Initialized (undefined if never). */
  readonly initialiseSeconds: number | undefined;
  /** The operator's requests from its start until the fleet was initialized and quiet. */
  readonly initialiseCounts: readonly RequestCount[];
  /** The operator's requests from the first image patch until the settle window ended. */
  readonly rolloutCounts: readonly RequestCount[];
  /** Seconds from the first image patch to the last rollout's end (undefined if one never ended). */
  readonly rolloutSeconds: number | undefined;
  /** Seconds the bench took to send all N image patches. */
  readonly patchSpreadSeconds: number;
  /** Members' phases at the end. */
  readonly phases: Record<string, number>;
  /** Members that did not end Succeeded, with their phase. */
  readonly notSucceeded: readonly { name: string; phase: string }[];
  /** Per member, ms from its image patch to the first change of its Canary's status. */
  readonly statusLatencyMs: readonly number[];
  /** Per member, ms from its image patch to the operator scaling its target from 0. */
  readonly scaleLatencyMs: readonly number[];
  /** Per member, the earlier of the two: the first write of the operator the bench saw. */
  readonly firstWriteLatencyMs: readonly number[];
  /** Per member, the rollout's transitions: the operator's Normal Events on its Canary but NotReady. */
  readonly stepsPerRollout: readonly number[];
  /** The operator's Events on the Canaries during the rollout, by `type/reason`. */
  readonly eventReasons: Readonly<Record<string, number>>;
  readonly memory: MemoryFigures;
  /** Why the run stopped early, if it did. */
  readonly stoppedEarly: string | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` on every item with at most `limit` in flight. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};

/** Samples the operator's VmRSS every 250 ms. */
class MemorySampler {
  readonly samples: { at: number; rssMb: number }[] = [];
  readonly #timer: NodeJS.Timeout;
  constructor(pid: number) {
    this.#timer = setInterval(() => {
      const memory = memoryOf(pid);
      if (memory !== undefined) this.samples.push({ at: performance.now(), rssMb: memory.rssMb });
    }, 250);
  }
  medianBetween(from: number, to: number): number {
    return median(this.samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.rssMb));
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Runs one fleet; see the module comment. */
export async function runFleet(options: FleetRunOptions): Promise<FleetRun> {
  const { plane, namespace, count, log } = options;
  const api = new KubeApi({ kubeconfig: plane.kubeconfig });
  const objects = KubernetesObjectApi.makeApiClient(api.config);
  const names = Array.from({ length: count }, (_, i) => memberName(i));
  const create = (object: KubernetesObject): Promise<unknown> => objects.create(object);

  await create(namespaceObject(namespace));
  await create(gatewayObject(namespace));
  const gateway = startGatewayController(plane.kubeconfig, namespace);
  const watch = new FleetWatch(api, namespace);
  let operator: OperatorProcess | undefined;
  let sampler: MemorySampler | undefined;
  try {
    await watch.start();
    // The bench writes with POST and strategic-merge PATCH, never server-side apply, so that
    // the API server's APPLY count is the operator's alone (request-counts.ts).
    await eachLimited(names, 16, async (name) => {
      await create(targetDeployment(namespace, name, IMAGES.initial));
      await create(canaryObject(namespace, name, options.analysis));
    });
    log(`${namespace}: ${count} Deployments and Canaries created`);

    operator = await OperatorProcess.start({
      kubeconfig: plane.kubeconfig,
      namespace,
      stateDir: join(options.dir, `state-${namespace}`),
      logFile: join(options.dir, `operator-${namespace}.log`),
      apiServer: { server: plane.server, caFile: plane.caFile, token: plane.token },
    });
    sampler = new MemorySampler(operator.pid);
    const operatorStarted = performance.now();
    const atStart = await operator.requestCounts();
    log(
      `${namespace}: aviary operator pid ${operator.pid} started; API requests counted by the ${operator.countSource}`,
    );

    const waitFor = async (what: string, done: () => boolean): Promise<string | undefined> => {
      let lastRefresh = performance.now();
      let lastLog = 0;
      while (!done()) {
        const now = performance.now();
        if (now > options.deadline)
          return `budget ran out waiting for ${what}: ${JSON.stringify(watch.phases())}`;
        if (now - lastRefresh > 5_000) {
          await watch.refresh().catch(() => undefined);
          lastRefresh = now;
        }
        if (now - lastLog > 10_000) {
          log(`${namespace}: waiting for ${what}: ${JSON.stringify(watch.phases())}`);
          lastLog = now;
        }
        await sleep(100);
      }
      return undefined;
    };
    const allInitialized = (): boolean =>
      names.every((name) => watch.members.get(name)?.phase === 'Initialized');
    let stoppedEarly = await waitFor('every Canary Initialized', allInitialized);
    const initialised = performance.now();
    const initialiseSeconds = stoppedEarly === undefined ? (initialised - operatorStarted) / 1000 : undefined;
    // The operator writes nothing for an initialized, unchanged Canary; the pause lets the
    // last initialisation writes land before the rollout's count begins.
    await sleep(3_000);
    const idleMb = sampler.medianBetween(initialised, performance.now());
    const beforeRollout = await operator.requestCounts();

    let firstPatch = Number.NaN;
    let lastPatch = Number.NaN;
    let rolloutEnd: number | undefined;
    let settledMb = Number.NaN;
    let afterRollout = beforeRollout;
    if (stoppedEarly === undefined) {
      firstPatch = performance.now();
      await eachLimited(names, 32, async (name) => {
        watch.markPatched(name);
        await objects.patch(
          imagePatch(name, namespace, IMAGES.next),
          undefined,
          undefined,
          undefined,
          undefined,
          PatchStrategy.StrategicMergePatch,
        );
      });
      lastPatch = performance.now();
      log(`${namespace}: ${count} images patched in ${((lastPatch - firstPatch) / 1000).toFixed(1)} s`);
      stoppedEarly = await waitFor('every rollout to end', () =>
        names.every((name) => isTerminal(watch.members.get(name)?.phase)),
      );
      if (stoppedEarly === undefined)
        rolloutEnd = Math.max(...names.map((name) => watch.members.get(name)?.finishedAt ?? Number.NaN));
      const settleFrom = performance.now();
      await sleep(3_000);
      settledMb = sampler.medianBetween(settleFrom, performance.now());
      afterRollout = await operator.requestCounts();
    }
    const peakMb = memoryOf(operator.pid)?.hwmMb ?? Number.NaN;
    const views = names.map((name) => ({ name, view: watch.members.get(name) ?? { phase: undefined } }));
    const since = (at: number | undefined, from: number | undefined): number[] =>
      at === undefined || from === undefined ? [] : [at - from];
    return {
      namespace,
      count,
      countSource: operator.countSource,
      initialiseSeconds,
      initialiseCounts: countsBetween(atStart, beforeRollout),
      rolloutCounts: countsBetween(beforeRollout, afterRollout),
      rolloutSeconds: rolloutEnd === undefined ? undefined : (rolloutEnd - firstPatch) / 1000,
      patchSpreadSeconds: (lastPatch - firstPatch) / 1000,
      phases: watch.phases(),
      notSucceeded: views
        .filter(({ view }) => view.phase !== 'Succeeded')
        .map(({ name, view }) => ({ name, phase: view.phase ?? 'none' })),
      statusLatencyMs: views.flatMap(({ view }) => since(view.statusWrittenAt, view.patchedAt)),
      scaleLatencyMs: views.flatMap(({ view }) => since(view.targetScaledAt, view.patchedAt)),
      firstWriteLatencyMs: views.flatMap(({ view }) => {
        const seen = [view.statusWrittenAt, view.targetScaledAt].filter((t) => t !== undefined);
        return seen.length === 0 ? [] : since(Math.min(...seen), view.patchedAt);
      }),
      ...(Number.isNaN(firstPatch)
        ? { stepsPerRollout: [], eventReasons: {} }
        : await stepsPerCanary(api, namespace, names, firstPatch)),
      memory: { peakMb, idleMb, settledMb },
      stoppedEarly,
    };
  } finally {
    sampler?.stop();
    watch.stop();
    await operator?.stop();
    await gateway.stop();
    // The next run has its own namespace; this one's objects (and KWOK pods) go away.
    await objects.delete(namespaceObject(namespace)).catch(() => undefined);
  }
}

/**
 * The operator's Events on each Canary since the first image patch. A Normal one is a
 * transition of the rollout (NewRevision, each WeightAdvanced, Promoting, ...): a step. Not
 * steps: a Warning (a failed tick, a halt) and `NotReady` (a check tick that waits for pods,
 * Flagger's "Halt advancement"), though each costs writes too. Each Event's name carries the
 * time of its transition in hex milliseconds (canary-status-store.ts).
 */
async function stepsPerCanary(
  api: KubeApi,
  namespace: string,
  names: readonly string[],
  firstPatch: number,
): Promise<{ stepsPerRollout: number[]; eventReasons: Record<string, number> }> {
  const since = Date.now() - (performance.now() - firstPatch);
  const events = await api.list<
    KubernetesObject & { involvedObject?: { kind?: string; name?: string }; type?: string; reason?: string }
  >('v1', 'Event', namespace);
  const steps = new Map<string, number>(names.map((name) => [name, 0]));
  const eventReasons: Record<string, number> = {};
  for (const event of events) {
    const name = event.involvedObject?.name ?? '';
    if (event.involvedObject?.kind !== 'Canary' || !steps.has(name)) continue;
    const at = parseInt(event.metadata?.name?.split('.')[1] ?? '0', 16);
    if (at < since) continue;
    const key = `${event.type ?? ''}/${event.reason ?? ''}`;
    eventReasons[key] = (eventReasons[key] ?? 0) + 1;
    if (event.type !== 'Warning' && event.reason !== 'NotReady') steps.set(name, steps.get(name)! + 1);
  }
  return { stepsPerRollout: names.map((name) => steps.get(name)!), eventReasons };
}
