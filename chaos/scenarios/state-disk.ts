/**
 * Issue 16, §1, "disk full or state directory read-only during a rollout": `aviary up` runs
 * with its state directory on a small tmpfs this run mounts, under steady load; at a seeded
 * weight of a canary rollout the tmpfs is filled (`state-disk-full`) or the rollout journal's
 * directory is remounted read-only (`state-read-only`: a bind mount of it onto itself, since
 * the whole tmpfs cannot be remounted read-only while the replicas' and the proxy's log files
 * are open for writing there: EBUSY), held across three analysis intervals, then freed. What
 * must hold (docs/adr/0031-state-write-failures.md): no request fails; the failure is
 * reported through the control API (the rollout's `stateWriteFailure`, a `StateWriteFailed`
 * event naming the journal and the errno, the metric); no step or promotion while state could
 * not be written; once freed the error clears and the rollout ends as undisturbed; the
 * journal reads back with no corrupt line; a restart after recovery finds the rollout done;
 * nothing is left behind. `mount`/`umount` run through execFile, never a shell; a run that
 * may not mount fails with the exact error.
 */
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { journalGenerations, journalPath } from '../../src/rollout/state/state-journal-read.js';
import {
  checkNothingLeftBehind,
  eventsOf,
  getJson,
  readPersisted,
  rolloutOf,
  startUp,
  stopGracefully,
  type UpProcess,
  rolloutInPhase,
  canaryWeightAtLeast,
} from '../aviary-up.js';
import { APP, APP_PATH, catalogYaml } from '../catalog-yaml.js';
import { total, type RunContext, type Scenario, requestsFailed } from '../scenario.js';
import { SteadyLoad, checkNoRequestFailed } from '../steady-load.js';
import { fill, mountCommand, mountTmpfs, tmpfsMountRefusal } from '../tmpfs-mount.js';
import { sleep, waitUntil } from '../waiting.js';

/** The two faults: the tmpfs filled, or the journal's directory made read-only. */
export type StateDiskFault = 'full' | 'read-only';
const ERRNO: Record<StateDiskFault, string> = { full: 'ENOSPC', 'read-only': 'EROFS' };
const SCHEDULE = '10,20,30,40,50';
/** Analysis intervals the fault is held across, after the controller reported it. */
const HELD_INTERVALS = 3;
const INTERVAL_MS = 500;

/** The state-disk scenario of one fault. */
export function stateDiskScenario(fault: StateDiskFault): Scenario {
  return {
    name: fault === 'full' ? 'state-disk-full' : 'state-read-only',
    summary: `state directory ${fault === 'full' ? 'full (ENOSPC)' : 'read-only (EROFS)'} mid-rollout for ${HELD_INTERVALS} analysis intervals, under steady load`,
    defaultRuns: 10,
    runTimeoutMs: 150_000,
    injections: {
      'glue-torn-line':
        'a torn line with a whole one appended to it, as an append after a failed one would glue: the no-corrupt-line check must fail',
    },
    run: (context) => stateDiskRun(fault, context),
    unavailable: tmpfsMountRefusal,
    keyFigure(runs) {
      return (
        `${requestsFailed(runs)}; ` +
        `${total(runs, 'stepsWhileFailing')} steps while state could not be written; ` +
        `${total(runs, 'recovered')}/${runs.length} recovered to the undisturbed outcome`
      );
    },
  };
}

async function stateDiskRun(fault: StateDiskFault, context: RunContext): Promise<void> {
  const { scope, signal, random } = context;
  const dir = await scope.tempDir();
  const stateDir = join(dir, 'state');
  const journalDir = join(stateDir, 'rollouts');
  await mkdir(stateDir);
  await mountTmpfs(scope, stateDir, '2m');
  if (fault === 'read-only') {
    await mkdir(journalDir, { mode: 0o700 });
    await mountCommand('mount', ['--bind', journalDir, journalDir]);
    scope.defer(() =>
      mountCommand('umount', [journalDir]).catch(() => mountCommand('umount', ['-l', journalDir])),
    );
  }
  const file = join(dir, 'aviary.yaml');
  const yaml = (version: string): string =>
    catalogYaml({ stateDir, marker: scope.marker, version, strategy: 'canary' });
  await writeFile(file, yaml('1'));
  let up: UpProcess = await startUp(scope, file, signal);
  await rolloutInPhase(up, APP, ['Initialized'], signal);
  const load = SteadyLoad.start(up.routerUrl, { path: APP_PATH });
  scope.defer(() => load.stop());
  await writeFile(file, yaml('2'));
  const weight = random.int(1, 3) * 10;
  await canaryWeightAtLeast(up, APP, weight, signal);

  const filler = join(stateDir, 'filler');
  if (fault === 'full') context.figure('filledBytes', await fill(filler));
  else await mountCommand('mount', ['-o', 'remount,bind,ro', journalDir]);
  context.log(`${fault} at weight ${weight}`);
  const reported = await waitUntil(
    'the controller to report the failed state write',
    async () => {
      const r = await rolloutOf(up, APP, signal);
      return r?.stateWriteFailure ? r : undefined;
    },
    signal,
    up.output,
  );
  const failure = reported.stateWriteFailure;
  context.check(
    'the control API reports the failed write with its errno and journal',
    failure.code === ERRNO[fault] && String(failure.path).startsWith(journalDir),
    JSON.stringify(failure),
  );
  // Held across several analysis intervals: the weight the controller shows must not move.
  const heldWeights = new Set<number>();
  let metricSeen = false;
  const holdUntil = Date.now() + HELD_INTERVALS * INTERVAL_MS;
  while (Date.now() < holdUntil) {
    heldWeights.add((await rolloutOf(up, APP, signal))?.status?.canaryWeight);
    const metrics = await fetch(`${up.controlUrl}/metrics`, { signal }).then((r) => r.text());
    metricSeen ||= metrics.includes(`aviary_rollout_state_write_failing{app="${APP}"} 1`);
    await sleep(100, signal);
  }
  context.check('the metric shows the failing state write', metricSeen);
  context.check(
    'the rollout holds its weight while state cannot be written',
    heldWeights.size === 1,
    [...heldWeights].join(','),
  );

  if (fault === 'full') await rm(filler);
  else await mountCommand('mount', ['-o', 'remount,bind,rw', journalDir]);
  await waitUntil(
    'the failure to clear',
    async () => {
      const r = await rolloutOf(up, APP, signal);
      return r?.status && r.stateWriteFailure === undefined ? true : undefined;
    },
    signal,
    up.output,
  );
  const final = await rolloutInPhase(up, APP, ['Succeeded', 'Failed'], signal);
  const events = await eventsOf(up, APP, signal);
  const failedAt = events.find((e) => e.reason === 'StateWriteFailed');
  const recoveredAt = events.find((e) => e.reason === 'StateWriteRecovered');
  context.check(
    'a StateWriteFailed event names the journal and the errno, then StateWriteRecovered',
    failedAt !== undefined &&
      recoveredAt !== undefined &&
      failedAt.message.includes(journalDir) &&
      failedAt.message.includes(ERRNO[fault]),
    failedAt?.message ?? 'no StateWriteFailed event',
  );
  const progress = events.filter(
    (e) =>
      ['WeightAdvanced', 'Promoting', 'Promoted', 'Succeeded'].includes(e.reason) &&
      failedAt &&
      recoveredAt &&
      e.at > failedAt.at &&
      e.at < recoveredAt.at,
  );
  context.figure('stepsWhileFailing', progress.length);
  context.check(
    'no step or promotion while state could not be written',
    progress.length === 0,
    progress.map((e) => `${e.reason} ${e.canaryWeight}`).join(', '),
  );
  const schedule = events
    .filter((e) => e.reason === 'WeightAdvanced')
    .map((e) => e.canaryWeight)
    .join(',');
  const undisturbed =
    final.status.phase === 'Succeeded' &&
    schedule === SCHEDULE &&
    final.status.lastPromotedSpec === final.revision;
  context.check(
    'the rollout ends as undisturbed (same steps, v2 promoted)',
    undisturbed,
    `phase ${final.status.phase}, steps ${schedule}`,
  );
  context.figure('recovered', undisturbed ? 1 : 0);

  await load.stop();
  checkNoRequestFailed(context, load);

  // A restart after recovery reads what was written and finds the rollout done.
  context.check('aviary up stops with exit code 0', (await stopGracefully(up)) === 0);
  up = await startUp(scope, file, signal);
  const resumed = await waitUntil(
    'the restarted controller to answer',
    () => rolloutOf(up, APP, signal),
    signal,
    up.output,
  );
  context.check(
    'a restart after recovery resumes the promoted rollout',
    resumed.status?.phase === 'Succeeded' && resumed.status?.lastPromotedSpec === final.revision,
    `phase ${resumed.status?.phase}, promoted ${resumed.status?.lastPromotedSpec}`,
  );
  const versions = await getJson(up, `/api/v1/rollouts/${APP}/events`, signal);
  context.check(
    'the restart keeps both events of the fault',
    JSON.stringify(versions).includes('StateWriteRecovered'),
  );
  context.check('aviary up stops with exit code 0 after the restart', (await stopGracefully(up)) === 0);

  if (context.inject.has('glue-torn-line')) {
    const newest = journalPath(journalDir, (await journalGenerations(journalDir)).at(-1) ?? 0);
    const lines = (await readFile(newest, 'utf8')).split('\n');
    await appendFile(newest, `{"app":"${APP}","sta${lines.at(-2) ?? ''}\n`);
  }
  await checkJournal(context, stateDir, journalDir);
  await checkNothingLeftBehind(context, signal);
}

/** The journal as a restart reads it, and each file's lines: none corrupt, but a torn last one. */
async function checkJournal(context: RunContext, stateDir: string, journalDir: string): Promise<void> {
  const persisted = await readPersisted(stateDir, APP);
  context.check(
    'the journal reads back as succeeded',
    persisted?.state.status?.phase === 'Succeeded',
    `phase ${persisted?.state.status?.phase}`,
  );
  const corrupt: string[] = [];
  for (const generation of await journalGenerations(journalDir)) {
    const path = journalPath(journalDir, generation);
    const whole = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    for (const [index, line] of whole.entries()) {
      try {
        JSON.parse(line);
      } catch {
        corrupt.push(`${path}:${index + 1}: ${line.slice(0, 60)}`);
      }
    }
  }
  context.check('no journal has a corrupt line', corrupt.length === 0, corrupt.join('; '));
  const temporary = (await readdir(stateDir, { recursive: true })).filter((name) => name.endsWith('.tmp'));
  context.check(
    'no temporary file is left in the state directory',
    temporary.length === 0,
    temporary.join(', '),
  );
}
