/**
 * Issue 16, §1, row 1 for release files: while `aviary apply` switches catalogdetail from
 * release v1 to release v2 (v2 started and made ready, the split set, v1 drained and
 * stopped), `aviary up` is killed with SIGKILL at a seeded moment and started again at once;
 * the operator then applies the same file again, as `aviary apply --watch` would. What must
 * hold, under a steady load: not one request fails or reaches anything but v1 or v2, the
 * second apply succeeds with v2 taking all the traffic, exactly one v2 replica runs and no
 * v1 replica (none orphaned by the killed apply, none started twice), the release reads back
 * from the state directory, and a graceful stop leaves nothing behind.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AVIARY_BIN,
  checkGracefulStop,
  crash,
  getJson,
  rolloutOf,
  startUp,
  TOKEN,
  type UpProcess,
} from '../aviary-up.js';
import { APP, APP_PATH, catalogYaml } from '../catalog-yaml.js';
import { censusOf, replicaCounts } from '../process-census.js';
import type { RunScope } from '../run-scope.js';
import { total, type RunContext, type Scenario, requestsFailed, secondsSpread } from '../scenario.js';
import { countByVersion, SteadyLoad, checkNoRequestFailed } from '../steady-load.js';
import { sleep, waitUntil } from '../waiting.js';

/** The release-file kill scenario. */
export const releaseFileKillScenario: Scenario = {
  name: 'controller-kill-release',
  summary:
    'kill -9 of aviary up at a seeded moment of `aviary apply` (v1 → v2), restarted, the file applied again, under steady load',
  defaultRuns: 20,
  runTimeoutMs: 150_000,
  run: killDuringApply,
  keyFigure(runs) {
    return (
      `${requestsFailed(runs)}; resume ${secondsSpread(runs, 'resumeMs')}; ` +
      `${total(runs, 'killedMidApply')}/${runs.length} kills before the apply answered`
    );
  },
};

const release = (tag: 'v1.0.0' | 'v2.0.0'): string =>
  `app: ${APP}\nversions:\n  - {name: ${tag.slice(0, 2)}, tag: ${tag}, weight: 100}\n`;

/** Runs `aviary apply -f file` against `up`; answers the child (exit code once it exits). */
function apply(scope: RunScope, up: UpProcess, file: string) {
  return scope.spawn(process.execPath, [AVIARY_BIN, 'apply', '-f', file, '--api', up.controlUrl], {
    AVIARY_TOKEN: TOKEN,
  });
}

async function killDuringApply(context: RunContext): Promise<void> {
  const { scope, signal, random } = context;
  const dir = await scope.tempDir();
  const stateDir = join(dir, 'state');
  const file = join(dir, 'aviary.yaml');
  await writeFile(file, catalogYaml({ stateDir, marker: scope.marker, version: '1' }));
  const v1File = join(dir, 'release-v1.yaml');
  const v2File = join(dir, 'release-v2.yaml');
  await writeFile(v1File, release('v1.0.0'));
  await writeFile(v2File, release('v2.0.0'));

  let up = await startUp(scope, file, signal);
  await waitUntil(
    'catalogdetail initialised',
    async () => ((await rolloutOf(up, APP, signal))?.status ? true : undefined),
    signal,
    up.output,
  );
  const first = apply(scope, up, v1File);
  await first.exited;
  context.check(
    'the first apply (v1, hand-over from the controller) succeeds',
    first.child.exitCode === 0,
    first.output(),
  );

  const load = SteadyLoad.start(up.routerUrl, { path: APP_PATH });
  scope.defer(() => load.stop());
  await load.more(20, signal);

  // The kill: a seeded moment within the apply's usual length (start, readiness, drain of 1 s, stop).
  const second = apply(scope, up, v2File);
  await sleep(random.int(0, 2500), signal);
  context.figure('killedMidApply', second.hasExited() ? 0 : 1);
  const killedAt = Date.now();
  await crash(up);
  await second.exited;

  up = await startUp(scope, file, signal);
  await waitUntil(
    'the restarted control API',
    () => getJson(up, `/api/v1/apps/${APP}/release`, signal),
    signal,
    up.output,
  );
  context.figure('resumeMs', Date.now() - killedAt);
  const again = apply(scope, up, v2File);
  await again.exited;
  context.check('the file applied again succeeds', again.child.exitCode === 0, again.output());
  const appliedAt = Date.now();

  const view = await getJson(up, `/api/v1/apps/${APP}/release`, signal);
  const versions = (view?.versions ?? []).map(
    (v: any) => `${v.name}:${v.share}%:${v.readyReplicas}/${v.desiredReplicas}`,
  );
  context.check(
    'v2 alone takes all the traffic, ready',
    JSON.stringify(versions) === '["v2:100%:1/1"]',
    JSON.stringify(versions),
  );

  const settled = await waitUntil(
    'one v2 replica and no v1',
    async () => (JSON.stringify(replicaCounts(await censusOf(scope))) === '{"2":1}' ? true : undefined),
    signal,
    undefined,
    15_000,
  ).catch(() => false);
  const census = await censusOf(scope);
  context.check(
    'exactly one v2 replica runs (no orphan, no duplicate)',
    settled,
    JSON.stringify(replicaCounts(census)),
  );
  context.check(
    'one controller and one proxy',
    census.controllers.length === 1 && census.proxies.length === 1,
    JSON.stringify(census),
  );

  await waitUntil(
    '30 requests after the apply',
    () => (load.since(appliedAt).length >= 30 ? true : undefined),
    signal,
  );
  await load.stop();
  checkNoRequestFailed(context, load);
  const versionsSeen = Object.keys(countByVersion(load.samples));
  context.check(
    'every answer comes from v1 or v2',
    versionsSeen.every((v) => v === '1' || v === '2'),
    versionsSeen.join(','),
  );
  const after = load.since(appliedAt);
  context.check(
    'after the apply every request reaches v2',
    after.every((s) => s.version === '2'),
    JSON.stringify(countByVersion(after)),
  );

  await checkGracefulStop(context, up, signal);
  const stored = JSON.parse(await readFile(join(stateDir, 'releases', `${APP}.json`), 'utf8')) as unknown;
  context.check(
    'the release reads back from the state directory',
    JSON.stringify(stored).includes('"v2.0.0"'),
    JSON.stringify(stored).slice(0, 300),
  );
}
