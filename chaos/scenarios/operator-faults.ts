/**
 * Issue 16's operator row, on the real test control plane (test/cluster: etcd,
 * kube-apiserver, controller-manager, scheduler; KWOK plays the kubelet): the built
 * `aviary operator`, in processes of the run, rolls a Canary out (interval 10 s, step 10)
 * while
 * - `apiserver-restart`: the API server is restarted at a seeded weight (every watch broken,
 *   every call refused while it is down);
 * - `leader-kill`: the Lease holder of two operators is killed with SIGKILL at a seeded
 *   weight, and the standby must take over once the Lease expires;
 * - `watch-expired`: the operator is stopped (SIGSTOP) while etcd is compacted past every
 *   resourceVersion it watches from and the API server restarts, then continued: its
 *   watches get 410 Gone and it must list again.
 * Each time the rollout must succeed with every weight step taken exactly once, counted from
 * the Canary's `WeightAdvanced` Events (docs/adr/0032).
 */
import { controlPlaneSkipReason } from '../../test/cluster/binaries.js';
import { NS } from '../../test/kubernetes/operator-fixture.js';
import { sampleOf } from '../../test/kubernetes/operator-process.js';
import { madeAt, OperatorRun, STEP, stepsIn } from '../operator-run.js';
import { percentile, seconds, secondsSpread, total, valuesOf, type Scenario } from '../scenario.js';
import { waitUntil } from '../waiting.js';

export type OperatorFault = 'apiserver-restart' | 'leader-kill' | 'watch-expired';

/** A lease short enough for a run, in the proportions of Kubernetes' 15 s / 10 s / 2 s. */
const SHORT_LEASE = [
  '--leader-elect-lease-duration=4s',
  '--leader-elect-renew-deadline=3s',
  '--leader-elect-retry-period=1s',
];
/** A renew deadline longer than any pause of a run: a stopped operator is stopped, not lost. */
const LONG_LEASE = [
  '--leader-elect-lease-duration=300s',
  '--leader-elect-renew-deadline=240s',
  '--leader-elect-retry-period=2s',
];
async function apiServerRestart(run: OperatorRun, faultAt: number): Promise<void> {
  await run.start();
  const operator = await run.operator([]);
  await run.line(operator, /leading as/);
  const before = await run.release('2');
  await run.statusWeightAtLeast(faultAt);
  const taken = (await run.fixture.advances()).length;
  const down = performance.now();
  await run.fixture.plane.restartApiServer();
  const back = performance.now();
  run.context.figure('apiServerDownMs', back - down);
  run.context.figure('resumeMs', (await run.nextStepAfter(taken)) - back);
  await run.checkSucceededOnce(before);
  run.context.check('the operator outlives the API server restart', !operator.hasExited(), operator.output());
  await run.stop([operator]);
}

async function leaderKill(run: OperatorRun, faultAt: number): Promise<void> {
  await run.start();
  const a = await run.operator(SHORT_LEASE);
  await run.line(a, /leading as/);
  const b = await run.operator(SHORT_LEASE);
  await run.line(b, /standby as .* held by/);
  const [idA, idB] = [await run.identity(a), await run.identity(b)];
  const before = await run.release('2');
  await run.statusWeightAtLeast(faultAt);
  const taken = (await run.fixture.advances()).length;
  const killed = performance.now();
  const killedAt = Date.now();
  process.kill(a.pid, 'SIGKILL');
  await a.exited;
  await run.line(b, /leading as/);
  run.context.figure('takeoverMs', performance.now() - killed);
  run.context.figure('resumeMs', (await run.nextStepAfter(taken)) - killed);
  await run.checkSucceededOnce(before);
  const lease = await run.fixture.getJson<{ spec: { holderIdentity?: string; acquireTime?: string } }>([
    'lease',
    `aviary-operator-${NS}`,
    '-n',
    NS,
  ]);
  run.context.check(
    'the standby holds the Lease',
    lease.spec.holderIdentity === idB,
    lease.spec.holderIdentity,
  );
  const tookAt = Date.parse(lease.spec.acquireTime ?? '');
  const events = await run.canaryEvents();
  const byA = events.filter((e) => e.reportingInstance === idA);
  const byB = events.filter((e) => e.reportingInstance === idB);
  run.context.check(
    'the standby wrote nothing before it held the Lease, the killed leader nothing after',
    byB.every((e) => madeAt(e) >= tookAt - 1) && byA.every((e) => madeAt(e) <= killedAt),
    `Lease taken at ${tookAt}, leader killed at ${killedAt}`,
  );
  run.context.check(
    'the two operators took every step once between them',
    JSON.stringify([...stepsIn(byA), ...stepsIn(byB)].sort((x, y) => x - y)) === JSON.stringify(run.steps),
    `leader ${stepsIn(byA).join(', ')}; standby ${stepsIn(byB).join(', ')}`,
  );
  await run.stop([b]);
}

async function watchExpired(run: OperatorRun, faultAt: number): Promise<void> {
  // The API server compacts etcd every 2 s (5 min by default), so a stale watch gets its 410.
  await run.start(['--etcd-compaction-interval=2s']);
  const operator = await run.operator(LONG_LEASE);
  await run.line(operator, /leading as/);
  const controlUrl = (await run.line(operator, /control API on (http:\/\/\S+)/))[1]!;
  const expired = async () =>
    sampleOf(
      await (await fetch(`${controlUrl}/metrics`)).text(),
      'aviary_kube_watch_restarts_total',
      'resource="canaries",reason="expired"',
    );
  const expiredBefore = await expired();
  const before = await run.release('2');
  await run.statusWeightAtLeast(faultAt);
  process.kill(operator.pid, 'SIGSTOP');
  // Writes that move etcd's revision past every resourceVersion the operator has seen...
  for (let i = 0; i < 5; i++) await run.fixture.run(['create', 'configmap', `stale-watch-${i}`, '-n', NS]);
  const list = await run.fixture.getJson<{ metadata: { resourceVersion: string } }>(['configmaps', '-n', NS]);
  const revision = Number(list.metadata.resourceVersion);
  // ...and the API server's compactor compacting etcd past them.
  await waitUntil(
    `etcd compacted to revision ${revision}`,
    async () => {
      const metrics = await (await fetch(`${run.fixture.plane.etcdUrl}/metrics`)).text();
      const compacted = Number(/^etcd_debugging_mvcc_compact_revision (\S+)$/m.exec(metrics)?.[1] ?? 0);
      return compacted >= revision ? true : undefined;
    },
    run.context.signal,
  );
  await run.fixture.plane.restartApiServer();
  const taken = (await run.fixture.advances()).length;
  const continued = performance.now();
  process.kill(operator.pid, 'SIGCONT');
  const relisted = await waitUntil(
    'a 410 Gone on the Canaries watch, counted',
    async () => ((await expired()) > expiredBefore ? true : undefined),
    run.context.signal,
  ).catch(() => false);
  run.context.check(
    'the stale watch gets 410 Gone and lists again',
    relisted,
    'no expired watch restart counted',
  );
  run.context.figure('relists', (await expired()) - expiredBefore);
  run.context.figure('resumeMs', (await run.nextStepAfter(taken)) - continued);
  await run.checkSucceededOnce(before);
  await run.stop([operator]);
}

const SUMMARIES: Record<OperatorFault, string> = {
  'apiserver-restart':
    'kube-apiserver restarted at a seeded weight of a Canary rollout run by the built aviary operator (real test control plane)',
  'leader-kill':
    'two aviary operators; the Lease holder killed with SIGKILL at a seeded weight; the standby takes over (real test control plane)',
  'watch-expired':
    'aviary operator stopped (SIGSTOP) while etcd is compacted past its watches and the API server restarts, then continued: 410 Gone (real test control plane)',
};

const RUNS: Record<OperatorFault, (run: OperatorRun, faultAt: number) => Promise<void>> = {
  'apiserver-restart': apiServerRestart,
  'leader-kill': leaderKill,
  'watch-expired': watchExpired,
};

/** The operator scenario for `fault`. */
export function operatorFaultScenario(fault: OperatorFault): Scenario {
  return {
    name: `operator-${fault}`,
    summary: SUMMARIES[fault],
    defaultRuns: 5,
    runTimeoutMs: 480_000,
    unavailable: controlPlaneSkipReason,
    async run(context) {
      // Five steps of 10 s, or three in CI's quick run; the fault comes at a seeded step before the last.
      const run = new OperatorRun(context, context.quick ? 30 : 50);
      const faultAt = context.random.int(1, run.steps.length - 1) * STEP;
      context.figure('faultAtWeight', faultAt);
      await RUNS[fault](run, faultAt);
    },
    keyFigure(runs) {
      const once = runs.filter((r) => r.figures.doubleSteps === 0 && r.passed).length;
      const extra =
        fault === 'leader-kill'
          ? `; takeover p50 ${seconds(percentile(valuesOf(runs, 'takeoverMs'), 50))}`
          : fault === 'watch-expired'
            ? `; ${total(runs, 'relists')} relists after 410`
            : '';
      return `every step once in ${once}/${runs.length}; ${total(runs, 'doubleSteps')} steps taken twice; next step after the fault ${secondsSpread(runs, 'resumeMs')}${extra}`;
    },
  };
}

/** The three operator scenarios, in issue 16's order. */
export const OPERATOR_SCENARIOS: readonly Scenario[] = [
  operatorFaultScenario('apiserver-restart'),
  operatorFaultScenario('leader-kill'),
  operatorFaultScenario('watch-expired'),
];
