/**
 * The operator's release file with real processes: catalogdetail starts under the
 * rollout controller, a release takes it over, edited weights move the split measured
 * through the router, invalid edits leave the split alone, and a removed version is drained
 * (no request fails, none reaches it afterwards) before its process is stopped.
 * The steps share one runtime and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPidAlive } from '../../src/target/process/process-group.js';
import { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';
import {
  askVersion,
  getRelease,
  pollUntil,
  postRelease,
  startCatalogRuntime,
  stopRuntime,
  versionsOf,
  waitForExit,
  type ReleaseRuntime,
} from './support.js';

const leaks = new ProcessLeakCheck();
const APP = 'catalogdetail';
let started: ReleaseRuntime | undefined;

function release(v1: number, v2?: number): unknown {
  const versions = [{ name: 'backend-v1', tag: 'v1.0.0', weight: v1 }];
  if (v2 !== undefined) versions.push({ name: 'backend-v2', tag: 'v2.0.0', weight: v2 });
  return { app: APP, versions };
}

function env(): ReleaseRuntime {
  if (!started) throw new Error('runtime not started');
  return started;
}

beforeAll(async () => {
  started = await startCatalogRuntime(leaks);
});

afterAll(async () => {
  await stopRuntime(started);
  expect(await leaks.leftovers()).toEqual([]);
});

describe('release file with real processes', () => {
  it('takes catalogdetail over from the controller and splits 50/50', async () => {
    const { runtime, pool } = env();
    const controllerPid = (await runtime.target.status(APP, 'primary'))?.replicas[0]?.pid;
    expect(controllerPid).toEqual(expect.any(Number));
    const applied = await postRelease(runtime, APP, release(50, 50));
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({
      handedOver: true,
      started: ['backend-v1', 'backend-v2'],
      removed: [],
    });
    expect(applied.body.release.versions.map((v: any) => [v.name, v.share, v.readyReplicas])).toEqual([
      ['backend-v1', 50, 1],
      ['backend-v2', 50, 1],
    ]);
    await waitForExit(controllerPid!);
    expect(runtime.controller.apps()).not.toContain(APP);
    // 400 requests at p = 0.5: a standard deviation of 10, so 150..250 is five of them.
    const counts = await versionsOf(pool, 400);
    expect(counts.get('error')).toBeUndefined();
    expect(counts.get('1')).toBeGreaterThanOrEqual(150);
    expect(counts.get('1')).toBeLessThanOrEqual(250);
    expect((counts.get('1') ?? 0) + (counts.get('2') ?? 0)).toBe(400);
  });

  it('moves the split when the weights are edited', async () => {
    const { runtime, pool } = env();
    const pidsBefore = (await getRelease(runtime, APP)).versions.map((v: any) => v.pids[0]);
    const applied = await postRelease(runtime, APP, release(90, 10));
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({ started: [], updated: [], unchanged: ['backend-v1', 'backend-v2'] });
    expect(applied.body.release.versions.map((v: any) => v.share)).toEqual([90, 10]);
    expect(applied.body.release.versions.map((v: any) => v.pids[0])).toEqual(pidsBefore);
    // 400 requests at p = 0.1: mean 40, standard deviation 6, so 10..70 is five of them.
    const counts = await versionsOf(pool, 400);
    expect(counts.get('2')).toBeGreaterThanOrEqual(10);
    expect(counts.get('2')).toBeLessThanOrEqual(70);
    expect(counts.get('1')).toBe(400 - (counts.get('2') ?? 0));
  });

  it('rejects invalid edits naming the entry, and keeps the running split', async () => {
    const { runtime, pool } = env();
    const v1 = { name: 'backend-v1', tag: 'v1.0.0', weight: 90 };
    const cases: [unknown, string, string][] = [
      [
        {
          versions: [
            { ...v1, weight: 0 },
            { name: 'backend-v2', tag: 'v2.0.0', weight: 0 },
          ],
        },
        'versions',
        'all weights are 0',
      ],
      [
        { versions: [v1, { ...v1, tag: 'v2.0.0' }] },
        'versions[1].name',
        'entry "backend-v1": duplicate name',
      ],
      [
        { versions: [v1, { name: 'backend-v3', tag: 'latest', weight: 10 }] },
        'versions[1].tag',
        'entry "backend-v3": unknown version',
      ],
      [
        { versions: [v1, { name: 'backend-v2', tag: 'v2.0.0', weight: -10 }] },
        'versions[1].weight',
        'entry "backend-v2": expected a number >= 0',
      ],
      [
        { versions: [v1, { name: 'backend-v2', tag: 'v2.0.0 && reboot', weight: 10 }] },
        'versions[1].tag',
        'entry "backend-v2": bad tag',
      ],
    ];
    for (const [document, path, message] of cases) {
      const answer = await postRelease(runtime, APP, document);
      expect(answer.status).toBe(422);
      expect(answer.body.error.code).toBe('AVIARY_CONFIG_INVALID');
      expect(answer.body.error.issues).toContainEqual({ path, message: expect.stringContaining(message) });
    }
    expect((await postRelease(runtime, APP, release(50, 50), 'wrong-token')).status).toBe(401);
    const unknown = await postRelease(runtime, 'shop', {
      versions: [{ name: 'a', tag: 'v1.0.0', weight: 1 }],
    });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'AVIARY_NOT_FOUND']);
    const view = await getRelease(runtime, APP);
    expect(view.versions.map((v: any) => [v.name, v.weight, v.share])).toEqual([
      ['backend-v1', 90, 90],
      ['backend-v2', 10, 10],
    ]);
    expect(view.events.filter((e: any) => e.reason === 'ReleaseRejected')).toHaveLength(cases.length);
    const counts = await versionsOf(pool, 400);
    expect(counts.get('2')).toBeGreaterThanOrEqual(10);
    expect(counts.get('2')).toBeLessThanOrEqual(70);
  });

  it('drains a removed version before stopping it: no failed request, none answered by it afterwards', async () => {
    const { runtime, pool } = env();
    expect((await postRelease(runtime, APP, release(50, 50))).status).toBe(200);
    const v2Pid: number = (await getRelease(runtime, APP)).versions[1].pids[0];
    expect(await isPidAlive(v2Pid)).toBe(true);
    const answers: { status: number; version: string | undefined }[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) answers.push(await askVersion(pool));
    })();
    await pollUntil(() => (answers.some((a) => a.version === '2') ? true : undefined));
    const removal = await postRelease(runtime, APP, release(100));
    loading = false;
    await load;
    expect(removal.status).toBe(200);
    expect(removal.body.removed).toEqual(['backend-v2']);
    expect(removal.body.release.versions.map((v: any) => [v.name, v.share])).toEqual([['backend-v1', 100]]);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(await isPidAlive(v2Pid)).toBe(false);
    const reasons = (await getRelease(runtime, APP)).events.map((e: any) => e.reason);
    expect(reasons.slice(-4)).toEqual([
      'ReleaseApplied',
      'Draining',
      'RemovedFromRouting',
      'VersionsStopped',
    ]);
    const after = await versionsOf(pool, 200);
    expect([...after.entries()]).toEqual([['1', 200]]);
  });
});
