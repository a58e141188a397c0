/**
 * Issue 16, §1, the replica row: one canary replica (of two) fails at a seeded moment of a
 * canary rollout's analysis, under steady load through the supervised proxy of the built
 * `aviary up`.
 * - `replica-kill`: `kill -9` of the replica. Exit supervision must take it out of routing
 *   and start a replacement, which becomes ready and is routed to.
 * - `replica-stop`: SIGSTOP for 30 s, then SIGCONT: hung, not dead. Its readiness probe (an
 *   HTTP GET with a 1 s timeout) must take it out of routing while it is still alive; it has
 *   no liveness probe, so, as in Kubernetes, it is not restarted and comes back into routing
 *   once SIGCONT makes it answer again.
 * The victim is drawn among the two ready canary replicas the control API lists (pid and
 * endpoint); its process carries the run's marker like every replica, so the census sees it.
 * Checks run every 3 s rather than the 500 ms of the other scenarios (see
 * `withAnalysisInterval`), and the fault comes at weight 10..30, so the analysis is still
 * going when the readiness probe sees the hang.
 *
 * What must hold, and why:
 * - No client waits longer than the route's request timeout, which the scenario leaves at
 *   Aviary's default (15 s, `DEFAULT_REQUEST_TIMEOUT_MS`), plus a margin of 10 s. The client
 *   aborts a request itself at 25 s and counts that as a hang. The margin absorbs late timers
 *   on two loaded cores, and 25 s is still shorter than the 30-s stop, so a request held for
 *   the whole hang fails the check. This bounds a hang; it is not a performance assertion.
 * - Every request that fails is a 5xx answered by the proxy (connection refused, reset or
 *   timed out), never a hang, and it is counted as a canary server error in the proxy's
 *   /metrics (the per-version counters the success-rate check and the judge read): the
 *   canary's 5xx grow by at least the client failures, and the primary's do not grow. The
 *   default route has no retries, so nothing hides a failure from the analysis.
 * - The replica leaves the proxy's persisted configuration (taken out of routing); after a
 *   kill a new process takes its slot and is routed to; after a stop the same process is
 *   routed to again.
 * - The rollout ends within its progress deadline: promoted, or rolled back by its checks
 *   (ThresholdReached). Both are correct: a canary replica that fails is, to the analysis,
 *   a canary that fails requests, and whether a few failed requests exceed the 99 % success
 *   rate depends on how many requests the canary served in that window. What must not happen
 *   is a rollout wedged until its deadline, or failed for another reason.
 * - Exactly the outcome's replicas run at the end (two v2 after a promotion, two v1 after a
 *   rollback), and a graceful stop leaves nothing behind.
 * Figures: requests, failedRequests, hungRequests, maxLatencyMs, outMs (fault to out of
 * routing), backMs (fault to a ready replica routed in its slot), rolledBack.
 * `--inject no-request-timeout` (replica-stop) sets `service.timeout: 0`: requests held by
 * the stopped replica then wait the whole 30 s, and "no client request waits longer" fails.
 * `--quick` does not shorten the stop: the hang bound is only tested by a stop longer than it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../src/config/app-canary.js';
import { checkGracefulStop, eventsOf, rolloutOf, startUp, rolloutInPhase } from '../aviary-up.js';
import { APP, APP_PATH, catalogYaml } from '../catalog-yaml.js';
import { spawnOrphan } from '../orphan.js';
import { censusOf, replicaCounts } from '../process-census.js';
import {
  processState,
  replicasOf,
  requestCounts,
  routedEndpoints,
  routesTo,
} from '../replica-observation.js';
import { checkRequests, checkSlot, HANG_MARGIN_MS, type ReplicaFault } from './replica-fault-checks.js';
import { percentile, total, valuesOf, type RunContext, type Scenario } from '../scenario.js';
import { SteadyLoad } from '../steady-load.js';
import { sleep, waitUntil } from '../waiting.js';

/** How long a stopped replica stays stopped. */
const STOP_MS = 30_000;
/** Progress states of an undisturbed canary rollout of catalogYaml (weights 10..50, promotion). */
const PROGRESS_STATES = 8;

/** The scenario of one fault. */
export function replicaFaultScenario(fault: ReplicaFault): Scenario {
  return {
    name: `replica-${fault}`,
    summary:
      fault === 'kill'
        ? 'kill -9 of one of two canary replicas mid-analysis under steady load: out of routing, replaced, failures counted, no hang'
        : 'SIGSTOP of one of two canary replicas for 30 s mid-analysis: out of routing while hung, back after SIGCONT, no client waits past the timeout',
    defaultRuns: fault === 'kill' ? 10 : 5,
    runTimeoutMs: fault === 'kill' ? 120_000 : 180_000,
    injections:
      fault === 'stop'
        ? {
            'no-request-timeout':
              'service.timeout 0: a request held by the stopped replica waits past the bound',
          }
        : {
            'orphan-replica':
              'a marked process outlives the graceful stop: the run must fail with "left behind"',
          },
    run: (context) => faultDuringAnalysis(fault, context),
    keyFigure(runs) {
      const out = valuesOf(runs, 'outMs');
      return (
        `${total(runs, 'failedRequests')} of ${total(runs, 'requests')} requests failed, ${total(runs, 'hungRequests')} hung; ` +
        `max latency ${(Math.max(0, ...valuesOf(runs, 'maxLatencyMs')) / 1000).toFixed(1)} s; ` +
        `out of routing p50 ${(percentile(out, 50) / 1000).toFixed(1)} s; ${total(runs, 'rolledBack')}/${runs.length} rolled back`
      );
    },
  };
}

async function faultDuringAnalysis(fault: ReplicaFault, context: RunContext): Promise<void> {
  const { scope, signal, random } = context;
  const dir = await scope.tempDir();
  const stateDir = join(dir, 'state');
  const file = join(dir, 'aviary.yaml');
  const noTimeout = context.inject.has('no-request-timeout');
  const yaml = (version: string): string => {
    const text = withAnalysisInterval(
      catalogYaml({ stateDir, marker: scope.marker, version, strategy: 'canary', replicas: 2 }),
    );
    return noTimeout ? withServiceTimeoutOff(text) : text;
  };
  await writeFile(file, yaml('1'));
  const up = await startUp(scope, file, signal);
  await rolloutInPhase(up, APP, ['Initialized'], signal);
  const bound = DEFAULT_REQUEST_TIMEOUT_MS + HANG_MARGIN_MS;
  const load = SteadyLoad.start(up.routerUrl, {
    path: APP_PATH,
    clients: [{ tag: 'plain' }, { tag: 'plain' }, { tag: 'plain' }, { tag: 'plain' }],
    requestTimeoutMs: bound,
  });
  scope.defer(() => load.stop());
  await load.more(20, signal);

  // The fault: after a seeded number of progress states of the analysis, plus a seeded part of an interval.
  const statesBefore = random.int(2, PROGRESS_STATES - 4);
  const jitterMs = random.int(0, 499);
  await writeFile(file, yaml('2'));
  const seen = new Set<string>();
  const victim = await waitUntil(
    `${statesBefore} progress states with two ready canary replicas`,
    async () => {
      const status = (await rolloutOf(up, APP))?.status;
      if (status?.phase === 'Progressing') seen.add(`${status.canaryWeight}/${status.iterations}`);
      const replicas = await replicasOf(up, 'canary');
      const ready = replicas.filter((r) => r.ready && r.pid !== null && r.endpoint !== null);
      return seen.size >= statesBefore && ready.length === 2 ? ready[random.int(0, 1)] : undefined;
    },
    signal,
    up.output,
  );
  await sleep(jitterMs, signal);
  const before = await requestCounts(up, signal);
  const pid = victim.pid!;
  const endpoint = victim.endpoint!;
  context.log(`${fault} of canary pid ${pid} (${endpoint}) at weight ${[...seen].at(-1)} (+${jitterMs} ms)`);
  const faultAt = Date.now();
  process.kill(pid, fault === 'kill' ? 'SIGKILL' : 'SIGSTOP');
  scope.defer(() => signalIfAlive(pid, 'SIGCONT'));

  await waitUntil(
    'the replica to leave the routed endpoints',
    async () => (routesTo(await routedEndpoints(stateDir, 'canary'), endpoint) ? undefined : true),
    signal,
    up.output,
  );
  context.figure('outMs', Date.now() - faultAt);
  if (fault === 'stop') {
    const state = await processState(pid);
    context.check(
      'the stopped replica is out of routing while still alive (hung, not dead)',
      state === 'T',
      `state ${state}`,
    );
    await sleep(Math.max(0, faultAt + STOP_MS - Date.now()), signal);
    context.check(
      'the stopped replica stays out of routing',
      !routesTo(await routedEndpoints(stateDir, 'canary'), endpoint),
    );
    signalIfAlive(pid, 'SIGCONT');
  }
  const back = await waitUntil(
    fault === 'kill' ? 'a replacement to be ready and routed' : 'the resumed replica to be routed again',
    async () => {
      const slot = (await replicasOf(up, 'canary')).find((r) => r.replica === victim.replica);
      if (!slot?.ready || slot.endpoint === null) return undefined;
      return routesTo(await routedEndpoints(stateDir, 'canary'), slot.endpoint) ? slot : undefined;
    },
    signal,
    up.output,
  ).catch(() => undefined);
  context.figure('backMs', Date.now() - faultAt);
  checkSlot(fault, context, victim, back);

  // The phase is saved before the tick's events are recorded: the end is its last event.
  const events = await waitUntil(
    'the rollout to end',
    async () => {
      const all = await eventsOf(up, APP);
      return all.some((e) => e.reason === 'Succeeded' || e.reason === 'Failed') ? all : undefined;
    },
    signal,
    up.output,
    150_000,
  );
  const final = await rolloutOf(up, APP);
  const reasons = new Set(events.map((e) => e.reason));
  const rolledBack = final.status.phase === 'Failed';
  context.figure('rolledBack', rolledBack ? 1 : 0);
  context.check(
    'the rollout is promoted, or rolled back by its checks (never wedged until its deadline)',
    !reasons.has('DeadlineExceeded') && (!rolledBack || reasons.has('ThresholdReached')),
    `phase ${final.status.phase}; ${events
      .filter((e) => e.at >= faultAt)
      .map((e) => e.reason)
      .join(',')}`,
  );
  await sleep(1000, signal);
  await load.stop();
  const after = await requestCounts(up, signal);
  checkRequests(context, load, before, after, bound);

  const expected = JSON.stringify({ [rolledBack ? '1' : '2']: 2 });
  const settled = await waitUntil(
    `only the outcome's replicas running (${expected})`,
    async () => (JSON.stringify(replicaCounts(await censusOf(scope))) === expected ? true : undefined),
    signal,
    undefined,
    15_000,
  ).catch(() => false);
  context.check(
    "exactly the outcome's replicas run (no orphan, no duplicate)",
    settled,
    JSON.stringify(replicaCounts(await censusOf(scope))),
  );
  if (context.inject.has('orphan-replica')) spawnOrphan(scope);
  await checkGracefulStop(context, up, signal);
}

/**
 * The aviary.yaml with checks every 3 s instead of 500 ms. A stopped replica is seen by its
 * readiness probe after about 3.3 s (3 failures of a 1-s timeout, every 100 ms): at 500 ms
 * the whole analysis is shorter than that and the rollout promotes before the fault shows.
 */
function withAnalysisInterval(text: string): string {
  const changed = text.replace(
    '{interval: 500ms, threshold: 2, stepWeight: 10',
    '{interval: 3s, threshold: 2, stepWeight: 10',
  );
  if (changed === text) throw new Error('no canary analysis interval of 500ms to lengthen');
  return changed;
}

/** The aviary.yaml with the canary's request timeout turned off (`--inject no-request-timeout`). */
function withServiceTimeoutOff(text: string): string {
  const changed = text.replace(/^(\s+)analysis: /m, '$1service: {timeout: 0}\n$1analysis: ');
  if (changed === text) throw new Error('no analysis block to put the service timeout beside');
  return changed;
}

function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}
