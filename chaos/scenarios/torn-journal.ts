/**
 * Issue 16, §1, a torn journal line: `aviary up` is killed with SIGKILL at a seeded moment of
 * a canary rollout, and the power cut that could have come with it is simulated by cutting
 * the state journal's last line at every byte offset. What must hold: the product's journal
 * reader (the one a restart uses) reads all complete state at every offset, the lines before
 * the cut, never a partial line and never an error; it reports the torn tail exactly when a
 * line was cut; and a real restart on one seeded cut (one run in three cuts only the newline)
 * comes up, warns about the torn tail, keeps every event of the complete lines, and finishes
 * the rollout.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
import type { PersistedRollout } from '../../src/rollout/controller/app-record.js';
import { journalGenerations, journalPath } from '../../src/rollout/state/state-journal-read.js';
import { StateJournal, type StoredState } from '../../src/rollout/state/state-journal.js';
import {
  crash,
  eventsOf,
  readPersisted,
  rolloutOf,
  startUp,
  stopGracefully,
  rolloutInPhase,
  canaryWeightAtLeast,
} from '../aviary-up.js';
import { APP, APP_PATH, catalogYaml } from '../catalog-yaml.js';
import { total, type RunContext, type Scenario } from '../scenario.js';
import { SteadyLoad, checkNoRequestFailed } from '../steady-load.js';
import { waitUntil } from '../waiting.js';

type Stored = StoredState<PersistedRollout, RolloutEventRecord> | undefined;

/** The torn-journal scenario. */
export const tornJournalScenario: Scenario = {
  name: 'torn-journal',
  summary:
    "kill -9 mid-rollout, then the journal's last line cut at every byte offset; one seeded cut restarted for real",
  defaultRuns: 5,
  runTimeoutMs: 150_000,
  injections: {
    'cut-complete-line':
      'the cuts start one byte into the line before the last: the complete-state check must fail',
  },
  run: tornJournal,
  keyFigure(runs) {
    return (
      `${total(runs, 'offsets')} cut offsets: ${total(runs, 'offsetsReadWhole')} read all complete state, ` +
      `${total(runs, 'tornReported')}/${total(runs, 'tornExpected')} torn tails reported; ` +
      `${total(runs, 'restartsResumed')}/${runs.length} restarts finished the rollout`
    );
  },
};

async function tornJournal(context: RunContext): Promise<void> {
  const { scope, signal, random } = context;
  const dir = await scope.tempDir();
  const stateDir = join(dir, 'state');
  const journalDir = join(stateDir, 'rollouts');
  const file = join(dir, 'aviary.yaml');
  const yaml = (version: string): string =>
    catalogYaml({ stateDir, marker: scope.marker, version, strategy: 'canary' });
  await writeFile(file, yaml('1'));
  let up = await startUp(scope, file, signal);
  await rolloutInPhase(up, APP, ['Initialized'], signal);
  // The analysis judges the success rate of live requests: without them the canary would not advance.
  const load = SteadyLoad.start(up.routerUrl, { path: APP_PATH });
  scope.defer(() => load.stop());
  await writeFile(file, yaml('2'));
  const weight = random.int(1, 4) * 10;
  await canaryWeightAtLeast(up, APP, weight, signal);
  await crash(up);

  // The journal as the crash left it, and where its last line starts.
  const generation = (await journalGenerations(journalDir)).at(-1);
  if (generation === undefined) throw new Error(`no journal in ${journalDir}`);
  const path = journalPath(journalDir, generation);
  const pristine = await readFile(path);
  const lastLineStart = pristine.lastIndexOf(10, pristine.length - 2) + 1;
  if (lastLineStart <= 0 || pristine.at(-1) !== 10)
    throw new Error(`${path}: expected whole lines after a header`);
  const pristineFiles = await snapshotOf(journalDir);

  // Every cut of the last line, read by the product's reader from a scratch copy.
  const scratch = join(dir, 'scratch');
  await restore(pristineFiles, scratch);
  const scratchPath = journalPath(scratch, generation);
  const readAt = async (length: number): Promise<{ stored: Stored; torn: number }> => {
    await writeFile(scratchPath, pristine.subarray(0, length));
    let torn = 0;
    const reader = new StateJournal<PersistedRollout, RolloutEventRecord>(scratch, {
      onTornTail: () => torn++,
    });
    return { stored: await reader.load(APP), torn };
  };
  const complete = JSON.stringify((await readAt(lastLineStart)).stored);
  const whole = JSON.stringify((await readAt(pristine.length)).stored);
  context.check('the whole journal reads back', whole !== 'undefined');
  const firstCut = context.inject.has('cut-complete-line') ? lastLineStart - 1 : lastLineStart;
  let readWhole = 0;
  let reported = 0;
  const wrong: number[] = [];
  for (let length = firstCut; length < pristine.length; length++) {
    if (signal.aborted) return;
    const { stored, torn } = await readAt(length);
    if (JSON.stringify(stored) === complete) readWhole++;
    else wrong.push(length - lastLineStart);
    if ((torn === 1) === length > lastLineStart) reported++;
  }
  const offsets = pristine.length - firstCut;
  context.figure('offsets', offsets);
  context.figure('offsetsReadWhole', readWhole);
  context.figure('tornExpected', offsets);
  context.figure('tornReported', reported);
  context.check(
    'every cut reads all complete state (the lines before the torn one)',
    readWhole === offsets,
    `wrong at offsets ${wrong.slice(0, 10).join(', ')} of ${pristine.length - lastLineStart}`,
  );
  context.check('the torn tail is reported exactly when a line was cut', reported === offsets);

  // One cut for real: restore, cut, restart aviary up on it (its proxy and replicas still run).
  const cut =
    context.random.int(0, 2) === 0 ? pristine.length - 1 : random.int(lastLineStart + 1, pristine.length - 2);
  const expected = JSON.parse(complete) as NonNullable<Stored>;
  await restore(pristineFiles, journalDir);
  await writeFile(path, pristine.subarray(0, cut));
  up = await startUp(scope, file, signal);
  const events = await waitUntil(
    'the restarted controller to answer the events',
    async () => ((await rolloutOf(up, APP, signal))?.status ? eventsOf(up, APP, signal) : undefined),
    signal,
    up.output,
  );
  const kept = JSON.stringify(events.slice(0, expected.events.length)) === JSON.stringify(expected.events);
  context.check(
    'the restart keeps every event of the complete lines',
    kept,
    `${events.length} events, expected ${expected.events.length} first`,
  );
  const final = await waitUntil(
    'the rollout to end after the restart',
    async () => {
      const phase = (await rolloutOf(up, APP, signal))?.status?.phase;
      return phase === 'Succeeded' || phase === 'Failed' ? phase : undefined;
    },
    signal,
    up.output,
  );
  context.check('the rollout succeeds after the restart', final === 'Succeeded', `phase ${final}`);
  await load.stop();
  checkNoRequestFailed(context, load);
  context.check(
    'the restart warns about the torn tail',
    /last line is torn/.test(up.output()),
    up.output().slice(-500),
  );
  const exitCode = await stopGracefully(up);
  context.check('aviary up stops with exit code 0', exitCode === 0, `exit code ${exitCode}`);
  context.check(
    'the journal reads back as succeeded',
    (await readPersisted(stateDir, APP))?.state.status?.phase === 'Succeeded',
  );
  context.figure('restartsResumed', final === 'Succeeded' ? 1 : 0);
}

/** The files of `dir` (the journal directory has no subdirectories) and their bytes. */
async function snapshotOf(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
  return files;
}

/** Writes `files` into `dir` (no process writes there meanwhile: its controller is dead). */
async function restore(files: ReadonlyMap<string, Buffer>, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
}
