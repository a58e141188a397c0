/**
 * Issue 16, §1, row 3: the metrics backend goes away during a canary rollout whose checks
 * it answers. `aviary up` runs with `metricsServer` set to a real Prometheus that scrapes its
 * control API, so the built-in `request-success-rate` check is PromQL there; the judge is
 * off (in `aviary up` it reads the router's counters in process and never needs Prometheus).
 * - `metrics-backend-down`: Prometheus is SIGKILLed at a seeded moment after the first step
 *   and stays down for two to three analysis intervals (a whole step), then starts again on
 *   the same port and TSDB.
 * - `metrics-backend-flapping`: Prometheus is killed and started again several times, down
 *   and up for seeded spells, while the rollout goes on.
 *
 * The policy under test (docs/configuration.md, "When a metric cannot be read"): a check
 * whose query fails is a failed check, as in Flagger; a query with no data yet holds. What
 * must hold: no step and no promotion while Prometheus is down, the query failures are
 * counted as failed checks with the provider's error, `aviary up` never exits, not one
 * request fails, and the rollout, whose failed checks stay under its threshold, ends
 * promoted with the undisturbed schedule of steps.
 *
 * "While down" is from the kill plus {@link DECISION_GRACE_MS} to the moment Prometheus
 * answers again: a step decided on a query answered just before the kill is written a few
 * milliseconds after it. The grace only keeps that race out of the check; it times nothing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
import { eventsOf, startUp, stopGracefully, type UpProcess, rolloutInPhase } from '../aviary-up.js';
import { APP, APP_PATH, catalogYaml } from '../catalog-yaml.js';
import { PrometheusBackend, prometheusMissing } from '../prometheus-backend.js';
import { total, type RunContext, type Scenario, requestsFailed } from '../scenario.js';
import { describeFailures, SteadyLoad } from '../steady-load.js';
import { sleep, waitUntil } from '../waiting.js';

const INTERVAL_MS = 2_000;
/** Failed checks the rollout tolerates: more than any outage here can cost. */
const THRESHOLD = 20;
const ANALYSIS =
  `{interval: ${INTERVAL_MS}ms, threshold: ${THRESHOLD}, stepWeight: 10, maxWeight: 50, judge: false, ` +
  'metrics: [{name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}]}';
const SCHEDULE = ['10', '20', '30', '40', '50'];
/** Events of the moves decided on the checks (what follows a promotion waits for readiness only). */
const PROGRESS = new Set(['WeightAdvanced', 'Promoting']);
/** See the module comment. */
const DECISION_GRACE_MS = 1_000;
/** A scraped sample of the router's series: Prometheus is back for the checks. */
const READY_QUERY = 'aviary_proxy_requests_total';

type Mode = 'down' | 'flapping';

/** One metrics-backend scenario. */
export function metricsBackendScenario(mode: Mode): Scenario {
  return {
    name: `metrics-backend-${mode}`,
    summary:
      mode === 'down'
        ? 'Prometheus (answering the checks) SIGKILLed for 2-3 analysis intervals mid-rollout, then restarted, under steady load'
        : 'Prometheus killed and restarted 4 times (down 2-3 s, up 1-3 s, seeded) during a rollout, under steady load',
    defaultRuns: mode === 'down' ? 10 : 5,
    runTimeoutMs: 180_000,
    injections: {
      'ignore-query-errors':
        'the checks read the router in process instead (metricsServer unset): no failed check while Prometheus is down, so the run must fail with "query failures are failed checks"',
    },
    run: (context) => outage(mode, context),
    keyFigure(runs) {
      return (
        `${total(runs, 'progressWhileDown')} steps or promotions while down; ` +
        `${total(runs, 'queryFailures')} query failures counted as failed checks over ${(total(runs, 'downMs') / 1000).toFixed(0)} s down; ` +
        requestsFailed(runs)
      );
    },
  };
}

async function outage(mode: Mode, context: RunContext): Promise<void> {
  const missing = prometheusMissing();
  if (missing !== undefined) throw new Error(missing);
  const { scope, signal, random } = context;
  const dir = await scope.tempDir();
  const file = join(dir, 'aviary.yaml');
  const stateDir = join(dir, 'state');
  let metricsServer = '';
  const yaml = (version: string): string =>
    catalogYaml({
      stateDir,
      marker: scope.marker,
      version,
      strategy: 'canary',
      analysis: ANALYSIS,
      progressDeadlineSeconds: 600,
      ...(metricsServer === '' || context.inject.has('ignore-query-errors')
        ? {}
        : { topLevel: `metricsServer: ${metricsServer}` }),
    });
  // The control API's port is known once aviary up runs: start it without metricsServer,
  // point Prometheus at it, then give it metricsServer before the rollout starts.
  await writeFile(file, yaml('1'));
  const up: UpProcess = await startUp(scope, file, signal);
  const prometheus = await PrometheusBackend.prepare(scope, new URL(up.controlUrl).host);
  metricsServer = prometheus.url;
  await writeFile(file, yaml('1'));
  await rolloutInPhase(up, APP, ['Initialized'], signal);

  const load = SteadyLoad.start(up.routerUrl, { path: APP_PATH });
  scope.defer(() => load.stop());
  await prometheus.start(READY_QUERY, signal);
  const editedAt = Date.now();
  await writeFile(file, yaml('2'));
  await waitUntil(
    'the first step',
    async () => {
      const events = await eventsOf(up, APP, signal);
      return events.some((e) => e.reason === 'WeightAdvanced' && e.at >= editedAt) ? true : undefined;
    },
    signal,
    up.output,
  );

  const down: { from: number; to: number }[] = [];
  const spells = mode === 'down' ? 1 : 4;
  for (let spell = 0; spell < spells; spell++) {
    await sleep(mode === 'down' ? random.int(0, INTERVAL_MS) : random.int(1_000, 3_000), signal);
    const from = Date.now();
    await prometheus.kill();
    // Down for at least one interval, so that a check tick falls in every spell.
    await sleep(
      mode === 'down'
        ? random.int(2 * INTERVAL_MS, 3 * INTERVAL_MS)
        : random.int(INTERVAL_MS, INTERVAL_MS + 1_000),
      signal,
    );
    await prometheus.start(READY_QUERY, signal);
    down.push({ from, to: Date.now() });
    context.log(`Prometheus down ${down.at(-1)!.to - from} ms`);
  }
  context.figure(
    'downMs',
    down.reduce((sum, d) => sum + d.to - d.from, 0),
  );

  const final = await rolloutInPhase(up, APP, ['Succeeded', 'Failed'], signal, 120_000);
  const events = (await eventsOf(up, APP, signal)).filter((e) => e.at >= editedAt);
  judgeOutage(context, events, down, final);
  context.check('aviary up never exited', !up.hasExited(), up.output().slice(-500));

  await load.stop();
  context.figure('requests', load.samples.length);
  const failed = load.failures();
  context.figure('failedRequests', failed.length);
  context.check('no request failed', failed.length === 0, describeFailures(failed));
  const code = await stopGracefully(up);
  context.check('a graceful stop exits 0', code === 0, `exit code ${code}`);
}

function judgeOutage(
  context: RunContext,
  events: readonly RolloutEventRecord[],
  down: readonly { from: number; to: number }[],
  final: any,
): void {
  const whileDown = (at: number): boolean => down.some((d) => at >= d.from + DECISION_GRACE_MS && at <= d.to);
  const progress = events.filter((e) => PROGRESS.has(e.reason) && whileDown(e.at));
  context.figure('progressWhileDown', progress.length);
  context.check(
    'no step or promotion while Prometheus is down',
    progress.length === 0,
    progress.map((e) => `${e.reason} ${e.canaryWeight}% at +${e.at - down[0]!.from} ms`).join(', '),
  );
  const failures = events.filter((e) => e.reason === 'ChecksFailed' && /query failed/.test(e.message));
  context.figure('queryFailures', failures.length);
  context.check(
    'query failures are failed checks (the documented policy)',
    failures.length > 0,
    `${failures.length} ChecksFailed events with "query failed"; failedChecks ${final.status.failedChecks}`,
  );
  const schedule = events.filter((e) => e.reason === 'WeightAdvanced').map((e) => String(e.canaryWeight));
  context.check('the rollout is promoted', final.status.phase === 'Succeeded', `phase ${final.status.phase}`);
  context.check(
    'the same step schedule as an undisturbed rollout',
    JSON.stringify(schedule) === JSON.stringify(SCHEDULE),
    `got ${schedule.join(',')}`,
  );
}
