/**
 * Issue 16, §1, "webhook receiver flooded (bounded) while a build runs": `aviary up` with a
 * git pipeline source (a local bare repository, `onPublish: canary`) is sent a tag push the
 * way the post-receive hook sends it; while the build runs, and again while the canary
 * rollout it starts progresses, the receiver is flooded from 127.0.0.1 (unsigned, wrong
 * signature, signed copies of the real delivery, over many connections). What must hold: the
 * build publishes the tag once and the rollout succeeds with an undisturbed schedule, the
 * product does not exit, every flood answer is a documented status and some are 429 or 503,
 * a forge's ping from 127.0.0.2 is answered during the flood, the controller's RSS stays
 * bounded, a new delivery after the flood is accepted, and a graceful stop leaves nothing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  deliverRefUpdates,
  githubPushPayload,
  gitPeeler,
  type RefUpdate,
} from '../../src/cli/push-delivery.js';
import {
  checkGracefulStop,
  eventsOf,
  getJson,
  rolloutOf,
  startUp,
  type UpProcess,
  rolloutInPhase,
} from '../aviary-up.js';
import { APP, APP_PATH, catalogYaml } from '../catalog-yaml.js';
import { total, type RunContext, type Scenario } from '../scenario.js';
import { flood, forgePing, type FloodAnswers } from '../webhook-flood-load.js';
import { sampleRss } from '../rss-sampler.js';
import { describeFailures, SteadyLoad } from '../steady-load.js';
import { sleep, waitUntil } from '../waiting.js';

const REPOSITORY = 'acme/catalogdetail';
const ZERO = '0'.repeat(40);
/** The canary analysis of catalog-yaml.ts undisturbed: stepWeight 10 up to maxWeight 50. */
const UNDISTURBED_STEPS = ['10', '20', '30', '40', '50'];
/** Statuses the receiver documents for these deliveries: duplicate (200), 401, 429, 503. */
const DOCUMENTED = new Set(['200', '401', '429', '503']);
/** Growth of the controller's RSS over the flood taken as unbounded. */
const RSS_BOUND_MB = 100;
/** The injected fault's settings: admission limits too high to bite (the schema's maxima). */
const ADMISSION_OFF = ', maxInFlight: 10000, rateLimit: {perSecond: 100000, burst: 1000000}';

const run = promisify(execFile);
const git = (cwd: string, ...args: string[]) =>
  run('git', ['-c', 'user.name=Chaos', '-c', 'user.email=chaos@aviary.invalid', ...args], { cwd }).then(
    (out) => out.stdout.trim(),
  );

/** The scenario. */
export const webhookFloodScenario: Scenario = {
  name: 'webhook-flood',
  summary:
    'webhook receiver flooded (thousands of unsigned, forged and replayed deliveries) during a build and its canary rollout',
  defaultRuns: 5,
  runTimeoutMs: 180_000,
  injections: {
    'admission-off':
      'pipelines.webhooks limits at their maxima: no flood answer is 429 or 503, so "some flood answers are 429 or 503" fails',
  },
  run: floodDuringBuild,
  keyFigure(runs) {
    const other = total(runs, 'answersOther');
    return (
      `${total(runs, 'requests')} deliveries: ${total(runs, 'answers429')} 429, ${total(runs, 'answers503')} 503, ` +
      `${total(runs, 'answers200') + total(runs, 'answers401')} 200/401, ${other} other; ` +
      `RSS +${Math.max(0, ...runs.map((r) => r.figures.rssGrowthMb ?? 0)).toFixed(0)} MB max; ` +
      `${total(runs, 'undisturbed')}/${runs.length} builds and rollouts as undisturbed`
    );
  },
};

async function floodDuringBuild(context: RunContext): Promise<void> {
  const { scope, signal } = context;
  const dir = await scope.tempDir();
  const bare = join(dir, 'git', 'catalogdetail.git');
  const clone = join(dir, 'work');
  await mkdir(bare, { recursive: true });
  await mkdir(clone, { recursive: true });
  await git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
  await git(clone, 'init', '--quiet', '--initial-branch=main');
  await writeFile(join(clone, 'README.md'), 'catalogdetail\n');
  await git(clone, 'add', '.');
  await git(clone, 'commit', '--quiet', '-m', 'catalogdetail');
  const secret = randomBytes(24).toString('hex');
  const secretFile = join(dir, 'webhook-secret');
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  const build = `[[${JSON.stringify(process.execPath)}, "-e", "setTimeout(() => {}, 3000)"]]`;
  const limits = context.inject.has('admission-off') ? ADMISSION_OFF : '';
  const file = join(dir, 'aviary.yaml');
  await writeFile(
    file,
    `${catalogYaml({ stateDir: join(dir, 'state'), marker: scope.marker, version: '1', strategy: 'canary' })}pipelines:
  webhooks: {port: 0${limits}}
  sources:
    - {name: catalogdetail, forge: github, repository: ${REPOSITORY}, url: ${JSON.stringify(bare)}, secretFile: ${JSON.stringify(secretFile)},
       build: {app: ${APP}, steps: ${build}, timeout: 1m, onPublish: canary}}
`,
  );

  const up = await startUp(scope, file, signal);
  const hooks = await waitUntil(
    'aviary up to print its webhook address',
    () => /git webhooks on (http:\/\/\S+?)\/hooks\//.exec(up.output())?.[1],
    signal,
    up.output,
  );
  const initial = await rolloutInPhase(up, APP, ['Initialized'], signal);
  const firstRevision = String(initial.revision);
  // The canary's analysis judges the success rate of real requests through the router.
  const load = SteadyLoad.start(up.routerUrl, { path: APP_PATH, clients: [{ tag: 'plain' }] });
  scope.defer(() => load.stop());

  const push = async (tag: string) => {
    await git(clone, 'commit', '--quiet', '--allow-empty', '-m', tag);
    await git(clone, 'tag', '-a', tag, '-m', tag);
    await git(clone, 'push', '--quiet', bare, 'main', tag);
    const update: RefUpdate = {
      before: ZERO,
      after: await git(bare, 'rev-parse', tag),
      ref: `refs/tags/${tag}`,
    };
    const options = { url: `${hooks}/hooks/github`, repository: REPOSITORY, secret, cloneUrl: bare };
    const [result] = await deliverRefUpdates([update], {
      ...options,
      peel: gitPeeler(bare),
      log: (line) => context.log(line),
      warn: (line) => context.log(line),
    });
    const head = await git(bare, 'rev-parse', `${tag}^{commit}`);
    const body = Buffer.from(JSON.stringify(githubPushPayload(update, REPOSITORY, bare, head)));
    return { status: result?.status, delivery: { body, deliveryId: result?.deliveryId ?? '', secret } };
  };
  const first = await push('v2.0.0');
  context.check('the tag push is accepted', first.status === 202, `status ${first.status}`);

  const rss = sampleRss(up.pid, signal);
  const baselineMb = await rss.now();
  const runsNow = () => getJson(up, '/api/v1/pipelines/runs', signal) as Promise<any[] | undefined>;
  const buildState = (await runsNow())?.[0]?.state;
  context.check(
    'the flood starts while the build is queued or running',
    ['queued', 'running'].includes(buildState),
    buildState,
  );
  const quick = context.quick;
  const wave = (n: number) =>
    flood({
      url: `${hooks}/hooks/github`,
      total: n,
      connections: quick ? 32 : 100,
      original: first.delivery,
      signal,
    });
  const floodStarted = Date.now();
  const [buildWave, ping] = await Promise.all([
    wave(quick ? 600 : 2000),
    sleep(200, signal).then(() => forgePing(hooks, secret)),
  ]);
  context.check('a forge ping from 127.0.0.2 is answered during the flood', ping === 200, `status ${ping}`);
  await waitUntil(
    'the canary rollout of v2.0.0 to progress',
    async () =>
      ['Progressing', 'Succeeded'].includes((await rolloutOf(up, APP, signal))?.status?.phase)
        ? true
        : undefined,
    signal,
    up.output,
  );
  const rolloutWave = await wave(quick ? 600 : 2000);
  context.figure('floodMs', Date.now() - floodStarted);
  context.check('aviary up is still running after the flood', !up.hasExited(), up.output().slice(-500));
  recordAnswers(context, [buildWave, rolloutWave]);
  const peakMb = await rss.stop();
  context.figure('rssGrowthMb', Math.max(0, peakMb - baselineMb));
  context.check(
    `the controller's RSS grows by less than ${RSS_BOUND_MB} MB`,
    peakMb - baselineMb < RSS_BOUND_MB,
    `${baselineMb.toFixed(0)} -> ${peakMb.toFixed(0)} MB`,
  );

  const undisturbed = await checkOutcome(context, up, firstRevision, runsNow);
  await load.stop();
  const failed = load.failures();
  context.figure('routedRequests', load.samples.length);
  context.check('no request through the router fails', failed.length === 0, describeFailures(failed));
  context.figure('undisturbed', undisturbed ? 1 : 0);

  // A refused forge redelivers by hand: the next push is accepted once the bucket has a token.
  let after = await push('v3.0.0');
  for (let tries = 1; (after.status === 429 || after.status === 503) && tries < 20; tries += 1) {
    await sleep(500, signal);
    after = await push(`v3.0.${tries}`);
  }
  context.check('a new delivery after the flood is accepted', after.status === 202, `status ${after.status}`);
  await waitUntil(
    'the build after the flood to end',
    async () => {
      const latest = (await runsNow())?.at(-1);
      return (await runsNow())?.length !== 1 && ['succeeded', 'failed', 'timed-out'].includes(latest?.state)
        ? true
        : undefined;
    },
    signal,
    up.output,
  );

  await checkGracefulStop(context, up, signal);
}

/** Checks the build and the rollout against what they do undisturbed; true when all held. */
async function checkOutcome(
  context: RunContext,
  up: UpProcess,
  firstRevision: string,
  runsNow: () => Promise<any[] | undefined>,
): Promise<boolean> {
  const { signal } = context;
  const final = await waitUntil(
    'the rollout of v2.0.0 to end',
    async () => {
      const r = await rolloutOf(up, APP, signal);
      return ['Succeeded', 'Failed'].includes(r?.status?.phase) && r.revision !== firstRevision
        ? r
        : undefined;
    },
    signal,
    up.output,
    90_000,
  );
  const runs = (await runsNow()) ?? [];
  const steps = (await eventsOf(up, APP, signal))
    .filter((e) => e.reason === 'WeightAdvanced')
    .map((e) => String(e.canaryWeight));
  const held = [
    [
      'one build, succeeded, published v2.0.0 (copies queue none)',
      runs.length === 1 && runs[0]?.state === 'succeeded' && runs[0]?.artifact?.tag === 'v2.0.0',
      JSON.stringify(runs.map((r) => [r.state, r.artifact?.tag])),
    ],
    [
      'the rollout succeeds and promotes the new revision',
      final.status.phase === 'Succeeded' && final.status.lastPromotedSpec === final.revision,
      `phase ${final.status.phase}`,
    ],
    [
      'the same step schedule as an undisturbed rollout',
      JSON.stringify(steps) === JSON.stringify(UNDISTURBED_STEPS),
      steps.join(','),
    ],
  ] as const;
  for (const [what, ok, detail] of held) context.check(what, ok, detail);
  return held.every(([, ok]) => ok);
}

function recordAnswers(context: RunContext, waves: readonly FloodAnswers[]): void {
  const answers: FloodAnswers = {};
  for (const wave of waves)
    for (const [key, n] of Object.entries(wave)) answers[key] = (answers[key] ?? 0) + n;
  const count = (key: string) => answers[key] ?? 0;
  const sent = Object.values(answers).reduce((a, b) => a + b, 0);
  const other = Object.entries(answers).filter(([key]) => !DOCUMENTED.has(key));
  context.figure('requests', sent);
  for (const status of DOCUMENTED) context.figure(`answers${status}`, count(status));
  context.figure(
    'answersOther',
    other.reduce((sum, [, n]) => sum + n, 0),
  );
  context.log(`flood answers ${JSON.stringify(answers)}`);
  context.check(
    'every flood answer is 200 duplicate, 401, 429 or 503',
    other.length === 0,
    JSON.stringify(answers),
  );
  context.check(
    'some flood answers are 429 or 503',
    count('429') + count('503') > 0,
    JSON.stringify(answers),
  );
}
