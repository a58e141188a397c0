import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryRouter } from '../../../test/fakes/in-memory-router.js';
import { inMemoryController } from '../../../test/fakes/in-memory-controller.js';
import { appSpec } from '../../../test/support/rollout-scenario.js';
import { pollUntil } from '../../../test/support/poll.js';
import type { RouteState } from '../../router/traffic-router.js';
import type { RolloutEventRecord } from './action-executor.js';
import type { RolloutController } from './controller.js';

/** A router whose route changes fail while `failing` is set, as a cluster router's do while its API server is down. */
class FlakyRouter extends InMemoryRouter {
  failing = false;
  override setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void> {
    if (this.failing) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
    return super.setRoutes(app, state, signal);
  }
}

const app = (version: string) =>
  appSpec({
    process: { command: 'node', args: ['server.js'], env: { VERSION: version } },
    canary: { analysis: { interval: '200ms', threshold: 2, stepWeight: 10, maxWeight: 50, metrics: [] } },
  });

describe('a step whose route change fails', () => {
  let dir: string | undefined;
  let controller: RolloutController | undefined;
  afterEach(async () => {
    await controller?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('is taken again once the router answers: the status does not advance and no event tells of it meanwhile', async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-step-execution-'));
    const router = new FlakyRouter();
    controller = inMemoryController({ stateDir: dir, router, maxTickMs: 20 });
    const events: RolloutEventRecord[] = [];
    controller.on('event', (event: RolloutEventRecord) => events.push(event));
    const c = controller;
    const weight = () => c.view('webapp').status?.canaryWeight;
    await controller.start([app('1')]);
    await pollUntil(() => (c.view('webapp').status?.phase === 'Initialized' ? true : undefined));
    controller.updateApps([app('2')]);
    await pollUntil(() => (weight() === 10 ? true : undefined));

    router.failing = true;
    const errorsBefore = events.filter((e) => e.reason === 'Error').length;
    await pollUntil(() =>
      events.filter((e) => e.reason === 'Error').length >= errorsBefore + 3 ? true : undefined,
    );
    expect(weight()).toBe(10);
    expect((await router.getRoutes('webapp')).weights).toMatchObject({ canary: 10 });

    router.failing = false;
    await pollUntil(() => (c.view('webapp').status?.phase === 'Succeeded' ? true : undefined), 30_000);
    const advances = events.filter((e) => e.reason === 'WeightAdvanced').map((e) => e.canaryWeight);
    expect(advances).toEqual([10, 20, 30, 40, 50]);
  });
});
