/**
 * Issue 16, §1, row 1: `aviary up` is killed with SIGKILL at a seeded moment of a rollout
 * (canary, A/B or blue/green) and started again at once, while a steady load goes through
 * the supervised proxy. What must hold, against an undisturbed run of the same rollout:
 * it succeeds with the same schedule of steps (no step lost, repeated or restarted), not one
 * request fails or reaches a version that is not serving, A/B and blue/green clients see the
 * canary only where the strategy allows, exactly the promoted version's replicas run at the
 * end, one proxy survives every controller, the state journal reads back, and a graceful
 * stop leaves nothing behind.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
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
import { AB_HEADER, APP, APP_PATH, catalogYaml, type Strategy } from '../catalog-yaml.js';
import { spawnOrphan } from '../orphan.js';
import { censusOf, replicaCounts } from '../process-census.js';
import { total, type RunContext, type Scenario, requestsFailed, secondsSpread } from '../scenario.js';
import { countByVersion, SteadyLoad, type LoadClient, checkNoRequestFailed } from '../steady-load.js';
import { sleep, waitUntil } from '../waiting.js';

/** The progress events an undisturbed rollout of each strategy records, in order. */
const SCHEDULE: Record<Strategy, { reason: string; values: string[] }> = {
  canary: { reason: 'WeightAdvanced', values: ['10', '20', '30', '40', '50'] },
  ab: { reason: 'IterationAdvanced', values: ['1/4', '2/4', '3/4', '4/4'] },
  'blue-green': { reason: 'IterationAdvanced', values: ['1/3', '2/3', '3/3'] },
};
/** Distinct progress states an undisturbed rollout passes through (the kill is drawn among them). */
const PROGRESS_STATES: Record<Strategy, number> = { canary: 8, ab: 7, 'blue-green': 6 };

function scheduleOf(strategy: Strategy, events: readonly RolloutEventRecord[]): string[] {
  const { reason } = SCHEDULE[strategy];
  return events
    .filter((e) => e.reason === reason)
    .map((e) =>
      strategy === 'canary' ? String(e.canaryWeight) : (/(\d+\/\d+)$/.exec(e.message)?.[1] ?? e.message),
    );
}

/** One progress state of the rollout, as a key that changes at every step. */
function progressKey(rollout: any): string {
  const status = rollout?.status;
  return `${status?.phase}/${status?.canaryWeight}/${status?.iterations}`;
}

const CLIENTS: Record<Strategy, LoadClient[]> = {
  canary: [{ tag: 'plain' }, { tag: 'plain' }],
  ab: [{ tag: 'plain' }, { tag: 'insider', headers: { ...AB_HEADER } }],
  'blue-green': [{ tag: 'plain' }, { tag: 'plain' }],
};

/** The kill scenario of one strategy. */
export function controllerKillScenario(strategy: Strategy): Scenario {
  return {
    name: `controller-kill-${strategy}`,
    summary: `kill -9 of aviary up at a seeded moment of a ${strategy} rollout, restarted at once, under steady load`,
    defaultRuns: 20,
    runTimeoutMs: 150_000,
    injections: {
      'orphan-replica': 'a marked process outlives the graceful stop: the run must fail with "left behind"',
    },
    run: (context) => killDuringRollout(strategy, context),
    keyFigure(runs) {
      return (
        `${requestsFailed(runs)}; resume ${secondsSpread(runs, 'resumeMs')}; ` +
        `${total(runs, 'killedMidRollout')}/${runs.length} kills mid-rollout`
      );
    },
  };
}

async function killDuringRollout(strategy: Strategy, context: RunContext): Promise<void> {
  const { scope, signal, random } = context;
  const dir = await scope.tempDir();
  const stateDir = join(dir, 'state');
  const file = join(dir, 'aviary.yaml');
  const yaml = (version: string): string =>
    catalogYaml({ stateDir, marker: scope.marker, version, strategy });
  await writeFile(file, yaml('1'));

  let up: UpProcess = await startUp(scope, file, signal);
  const initial = await rolloutInPhase(up, APP, ['Initialized'], signal);
  const firstRevision = String(initial.revision);
  const proxiesAtStart = (await censusOf(scope)).proxies;
  const load = SteadyLoad.start(up.routerUrl, { path: APP_PATH, clients: CLIENTS[strategy] });
  scope.defer(() => load.stop());
  await load.more(20, signal);

  // The kill: after a seeded number of progress states since the edit, plus a seeded part of an interval.
  const statesBeforeKill = random.int(1, PROGRESS_STATES[strategy] - 1);
  const jitterMs = random.int(0, 499);
  const editedAt = Date.now();
  await writeFile(file, yaml('2'));
  const seen = new Set<string>([progressKey(initial)]);
  await waitUntil(
    `${statesBeforeKill} progress states of the rollout`,
    async () => {
      const r = await rolloutOf(up, APP, signal);
      if (r?.status) seen.add(progressKey(r));
      return seen.size > statesBeforeKill || r?.status?.phase === 'Succeeded' ? true : undefined;
    },
    signal,
    up.output,
  );
  await sleep(jitterMs, signal);
  const before = await rolloutOf(up, APP, signal);
  const midRollout = before?.status?.phase !== 'Succeeded';
  context.figure('killedMidRollout', midRollout ? 1 : 0);
  context.log(`kill at ${progressKey(before)} (+${jitterMs} ms)`);
  const killedAt = Date.now();
  await crash(up);

  up = await startUp(scope, file, signal);
  const resumed = await waitUntil(
    'the restarted controller to answer the rollout',
    () => rolloutOf(up, APP, signal),
    signal,
    up.output,
  );
  context.figure('resumeMs', Date.now() - killedAt);
  context.check('the restarted controller has the rollout', resumed?.status !== undefined);

  // A rollout that never ends says where it stood and what it last recorded.
  let lastSeen: { rollout?: any; events?: RolloutEventRecord[] } = {};
  const final = await waitUntil(
    'the rollout to succeed after the restart',
    async () => {
      const r = await rolloutOf(up, APP, signal);
      lastSeen = { rollout: r, events: (await eventsOf(up, APP, signal)).slice(-8) };
      if (r?.status?.phase === 'Failed') return r;
      return r?.status?.phase === 'Succeeded' ? r : undefined;
    },
    signal,
    () =>
      `last status ${JSON.stringify(lastSeen.rollout?.status)}\nlast events ${(lastSeen.events ?? [])
        .map((e) => `${e.reason} ${e.canaryWeight}%: ${e.message}`)
        .join(' | ')}\n${up.output()}`,
  );
  const events = await eventsOf(up, APP, signal);
  context.check('the rollout succeeds', final.status.phase === 'Succeeded', `phase ${final.status.phase}`);
  context.check(
    'the new revision is promoted',
    final.revision !== firstRevision && final.status.lastPromotedSpec === final.revision,
    `revision ${final.revision}, promoted ${final.status.lastPromotedSpec}, first ${firstRevision}`,
  );
  const schedule = scheduleOf(strategy, events);
  context.check(
    'the same step schedule as an undisturbed rollout',
    JSON.stringify(schedule) === JSON.stringify(SCHEDULE[strategy].values),
    `got ${schedule.join(',')}`,
  );
  // A kill before the new revision was saved leaves the restart to find it: one start, wherever it came.
  const starts = events.filter((e) => e.reason === 'NewRevision' && e.at >= editedAt);
  context.check(
    'the rollout is started once',
    starts.length === 1,
    starts.map((e) => `${e.at - killedAt} ms after the kill`).join(', '),
  );

  // The promoted version alone serves, with exactly its replicas; one proxy served throughout.
  const settled = await waitUntil(
    'only v2 replicas running',
    async () => {
      const census = await censusOf(scope);
      const counts = replicaCounts(census);
      return JSON.stringify(counts) === '{"2":1}' ? census : undefined;
    },
    signal,
    undefined,
    15_000,
  ).catch(() => undefined);
  const census = settled ?? (await censusOf(scope));
  context.check(
    'exactly the promoted replicas run (no orphan, no duplicate)',
    settled !== undefined,
    JSON.stringify(replicaCounts(census)),
  );
  context.check(
    'one proxy, adopted by every controller',
    JSON.stringify(census.proxies) === JSON.stringify(proxiesAtStart) && census.controllers.length === 1,
    `proxies ${census.proxies.join(',')} (at start ${proxiesAtStart.join(',')}), controllers ${census.controllers.join(',')}`,
  );

  const succeededAt = events.find((e) => e.reason === 'Succeeded')?.at ?? Date.now();
  await waitUntil(
    '30 requests a second after the promotion',
    () => (load.since(succeededAt + 1000).length >= 30 ? true : undefined),
    signal,
  );
  await load.stop();
  checkTraffic(strategy, context, load, events, succeededAt, killedAt);

  if (context.inject.has('orphan-replica')) spawnOrphan(scope);
  await checkGracefulStop(context, up, signal);
  const persisted = await readPersisted(stateDir, APP);
  context.check(
    'the state journal reads back as succeeded',
    persisted?.state.status?.phase === 'Succeeded',
    `phase ${persisted?.state.status?.phase}`,
  );
  context.log(`edited ${killedAt - editedAt} ms before the kill; ${load.samples.length} requests`);
}

function checkTraffic(
  strategy: Strategy,
  context: RunContext,
  load: SteadyLoad,
  events: readonly RolloutEventRecord[],
  succeededAt: number,
  killedAt: number,
): void {
  checkNoRequestFailed(context, load);
  const versions = Object.keys(countByVersion(load.samples));
  context.check(
    'every answer comes from v1 or v2',
    versions.every((v) => v === '1' || v === '2'),
    versions.join(','),
  );
  const after = load.since(succeededAt + 1000);
  context.check(
    'after the promotion every request reaches v2',
    after.length > 0 && after.every((s) => s.version === '2'),
    JSON.stringify(countByVersion(after)),
  );
  // Where the strategy keeps plain clients on the primary during the analysis, they saw only
  // v1 until its last iteration was recorded (events are recorded after a tick's route change,
  // so the switch itself may come just before its own event).
  if (strategy === 'canary') return;
  const iterations = events.filter((e) => e.reason === 'IterationAdvanced');
  const switchedAt = iterations.at(-1)?.at ?? Infinity;
  const switchReason = 'the last iteration';
  const plainBefore = load.samples.filter((s) => s.tag === 'plain' && s.startedAt + s.latencyMs < switchedAt);
  context.check(
    `plain clients reach only v1 before ${switchReason}`,
    plainBefore.every((s) => s.version === '1'),
    `${JSON.stringify(countByVersion(plainBefore))}; v2 answers at ${plainBefore
      .filter((s) => s.version !== '1')
      .map((s) => `${s.startedAt - killedAt}..${s.startedAt + s.latencyMs - killedAt}`)
      .join(', ')} ms after the kill, switch ${switchedAt - killedAt} ms after it`,
  );
}
