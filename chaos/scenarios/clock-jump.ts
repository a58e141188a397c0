/**
 * Issue 16, §1, the clock-jump row: the built `aviary up` and its supervised proxy run under
 * libfaketime (chaos/fake-clock.ts), and at a seeded moment of a canary's analysis, under
 * steady load, the wall clock jumps +1 h (`clock-jump-forward`, past the progress deadline
 * and thousands of intervals) or −1 h and, after the next step, back again
 * (`clock-jump-back`); the monotonic clock goes on. What must hold, against an undisturbed
 * run of the same rollout: it succeeds, promoted by its analysis, with the same schedule of
 * steps (none skipped or repeated), no rollback, deadline or failed check from the jump, not
 * one request fails, the state journal reads back, and a graceful stop leaves nothing
 * behind. Figures: the jump, and the real time from it to the next step.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkGracefulStop,
  crash,
  eventsOf,
  readPersisted,
  rolloutOf,
  startUp,
  type UpProcess,
  rolloutInPhase,
} from '../aviary-up.js';
import { APP, APP_PATH, catalogYaml } from '../catalog-yaml.js';
import { FakeClock } from '../fake-clock.js';
import { total, type RunContext, type Scenario, requestsFailed, secondsSpread } from '../scenario.js';
import { countByVersion, SteadyLoad, checkNoRequestFailed } from '../steady-load.js';
import { sleep, waitUntil } from '../waiting.js';

/** The weights an undisturbed canary rollout of the chaos app steps through, in order. */
const SCHEDULE = ['10', '20', '30', '40', '50'];
/** Events that only a failing analysis records. */
const FAILURE_REASONS = new Set([
  'ChecksFailed',
  'ThresholdReached',
  'DeadlineExceeded',
  'RegressionDetected',
  'Failed',
]);
const HOUR_S = 3600;

type Direction = 'forward' | 'back';

/** One progress state of the rollout, as a key that changes at every step. */
function progressKey(rollout: any): string {
  const status = rollout?.status;
  return `${status?.phase}/${status?.canaryWeight}`;
}

/** The clock-jump scenario in one direction. */
export function clockJumpScenario(direction: Direction): Scenario {
  return {
    name: `clock-jump-${direction}`,
    summary:
      direction === 'forward'
        ? 'wall clock +1 h (libfaketime) at a seeded moment of a canary analysis, under steady load'
        : 'wall clock −1 h and, after the next step, back again (libfaketime), mid canary analysis, under steady load',
    defaultRuns: 10,
    runTimeoutMs: 120_000,
    injections:
      direction === 'forward'
        ? {
            'restart-across-jump':
              'aviary up is killed before the jump and started after it: no monotonic clock spans a restart, so the hour counts as elapsed and the deadline rolls back; the run must fail with "no rollback or promotion caused by the jump"',
          }
        : {},
    run: (context) => jumpDuringAnalysis(direction, context),
    keyFigure(runs) {
      return (
        `${requestsFailed(runs)}; next step after the jump ${secondsSpread(runs, 'nextStepMs')}; ` +
        `${total(runs, 'jumpedMidAnalysis')}/${runs.length} jumps mid-analysis`
      );
    },
  };
}

async function jumpDuringAnalysis(direction: Direction, context: RunContext): Promise<void> {
  const { scope, signal, random } = context;
  const dir = await scope.tempDir();
  const stateDir = join(dir, 'state');
  const file = join(dir, 'aviary.yaml');
  const clock = await FakeClock.create(dir);
  const yaml = (version: string): string =>
    catalogYaml({ stateDir, marker: scope.marker, version, strategy: 'canary' });
  await writeFile(file, yaml('1'));

  let up: UpProcess = await startUp(scope, file, signal, clock.env());
  const rollout = (): Promise<any> => rolloutOf(up, APP, signal);
  await rolloutInPhase(up, APP, ['Initialized'], signal);
  const load = SteadyLoad.start(up.routerUrl, { path: APP_PATH });
  scope.defer(() => load.stop());
  await load.more(20, signal);

  // The jump: after a seeded number of steps of the analysis (weight 10 to 40), plus a seeded part of an interval.
  const stepsBeforeJump = random.int(1, 4);
  const jitterMs = random.int(0, 499);
  await writeFile(file, yaml('2'));
  await waitUntil(
    `${stepsBeforeJump} steps of the analysis`,
    async () => {
      const status = (await rollout())?.status;
      const past = ['Promoting', 'Finalising', 'Succeeded', 'Failed'].includes(status?.phase);
      const reached = status?.phase === 'Progressing' && status.canaryWeight >= stepsBeforeJump * 10;
      return past || reached ? true : undefined;
    },
    signal,
    up.output,
  );
  await sleep(jitterMs, signal);
  const before = await rollout();
  context.figure('jumpedMidAnalysis', before?.status?.phase === 'Progressing' ? 1 : 0);
  const jumpS = direction === 'forward' ? HOUR_S : -HOUR_S;
  context.figure('jumpS', jumpS);
  context.log(`jump ${jumpS} s at ${progressKey(before)} (+${jitterMs} ms)`);
  const restart = context.inject.has('restart-across-jump');
  if (restart) await crash(up);
  const jumpedAt = Date.now();
  await clock.setOffsetSeconds(jumpS);
  if (restart) up = await startUp(scope, file, signal, clock.env());

  const nextStep = await waitUntil(
    'the next step after the jump',
    async () => {
      const key = progressKey(await rollout());
      return key !== progressKey(before) ? key : undefined;
    },
    signal,
    up.output,
  );
  context.figure('nextStepMs', Date.now() - jumpedAt);
  context.log(`next step ${nextStep} ${Date.now() - jumpedAt} ms after the jump`);
  if (direction === 'back') {
    // The step above may come from a tick that read the clock before the jump: the clock goes
    // back only once the controller has seen it, or the two jumps could cancel between ticks.
    await waitUntil(
      'the controller to record the jump',
      async () =>
        (await eventsOf(up, APP, signal)).some((e) => e.reason === 'ClockJumped') ? true : undefined,
      signal,
      up.output,
    );
    await clock.setOffsetSeconds(0);
    context.log('clock back to real time');
  }

  const final = await rolloutInPhase(up, APP, ['Succeeded', 'Failed'], signal);
  const succeededAt = Date.now();
  const events = await eventsOf(up, APP, signal);
  const failures = events.filter((e) => FAILURE_REASONS.has(e.reason));
  context.check(
    'no rollback or promotion caused by the jump',
    final.status.phase === 'Succeeded' && final.status.promotion === 'analysis' && failures.length === 0,
    `phase ${final.status.phase}, promotion ${final.status.promotion}; ${failures.map((e) => `${e.reason}: ${e.message}`).join('; ')}`,
  );
  const told = events.filter((e) => e.reason === 'ClockJumped');
  context.check(
    'the controller records the jump as an event',
    told.length >= (restart ? 0 : 1),
    `${told.length} ClockJumped events`,
  );
  const schedule = events.filter((e) => e.reason === 'WeightAdvanced').map((e) => String(e.canaryWeight));
  context.check(
    'the same step schedule as an undisturbed rollout',
    JSON.stringify(schedule) === JSON.stringify(SCHEDULE),
    `got ${schedule.join(',')}`,
  );

  await waitUntil(
    '30 requests after the promotion',
    () => (load.since(succeededAt).length >= 30 ? true : undefined),
    signal,
  );
  await load.stop();
  checkNoRequestFailed(context, load);
  const after = load.since(succeededAt);
  context.check(
    'after the promotion every request reaches v2',
    after.every((s) => s.version === '2'),
    JSON.stringify(countByVersion(after)),
  );

  await checkGracefulStop(context, up, signal);
  const persisted = await readPersisted(stateDir, APP);
  context.check(
    'the state journal reads back as succeeded',
    persisted?.state.status?.phase === 'Succeeded',
    `phase ${persisted?.state.status?.phase}`,
  );
}
