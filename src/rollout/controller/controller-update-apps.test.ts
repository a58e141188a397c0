import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryRouter } from '../../../test/fakes/in-memory-router.js';
import { inMemoryController } from '../../../test/fakes/in-memory-controller.js';
import { appSpec } from '../../../test/support/rollout-scenario.js';
import { pollUntil } from '../../../test/support/poll.js';
import type { AppRouteSpec } from '../../router/traffic-router.js';
import type { RolloutController } from './controller.js';
import { type ControllerOptions } from './controller.js';
import { defaultStateStore } from './rollout-persistence.js';

/** A router that counts the route specs it is asked to apply. */
class CountingRouter extends InMemoryRouter {
  reconciled = 0;
  override reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void> {
    this.reconciled += 1;
    return super.reconcile(spec, signal);
  }
}

const app = (version: string) =>
  appSpec({
    process: { command: 'node', args: ['server.js'], env: { VERSION: version } },
    canary: { analysis: { interval: '1m', threshold: 2, stepWeight: 10, maxWeight: 50, metrics: [] } },
  });

describe('specs read again', () => {
  let dir: string | undefined;
  let controller: RolloutController | undefined;
  afterEach(async () => {
    await controller?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A controller over an in-memory target and `router`, its state in a fresh directory (or `store`). */
  async function controllerWith(
    router: CountingRouter,
    store?: (dir: string) => ControllerOptions['store'],
  ): Promise<RolloutController> {
    dir = await mkdtemp(join(tmpdir(), 'aviary-update-apps-'));
    const chosen = store?.(dir);
    controller = inMemoryController({
      stateDir: dir,
      router,
      ...(chosen !== undefined ? { store: chosen } : {}),
      maxTickMs: 20,
    });
    return controller;
  }

  it('an equal spec (a new object) re-applies no route; a changed one does', async () => {
    // The operator reads every Canary again when one changes: with 200 of them, a re-read
    // that re-applied each route cost 6 HTTPRoute writes per Canary per step.
    const router = new CountingRouter();
    const c = await controllerWith(router);
    await c.start([app('1')]);
    await pollUntil(() => (c.view('webapp').status?.phase === 'Initialized' ? true : undefined));
    await c.tick('webapp');
    const before = router.reconciled;

    c.updateApps([app('1')]);
    await c.tick('webapp');
    expect(router.reconciled).toBe(before);

    c.updateApps([app('2')]);
    await c.tick('webapp');
    expect(router.reconciled).toBeGreaterThan(before);
  });

  it('adding no new app reads no saved state (the operator adds at every Canary change)', async () => {
    // On the operator the store is the Canaries' status: each read of it made every
    // Canary's next save a write.
    let loads = 0;
    const counted = (dir: string) => {
      const inner = defaultStateStore(dir, undefined);
      return {
        loadAll: () => ((loads += 1), inner.loadAll()),
        save: inner.save.bind(inner),
        remove: inner.remove.bind(inner),
        settled: inner.settled.bind(inner),
      };
    };
    const controller = await controllerWith(new CountingRouter(), counted);
    await controller.start([app('1')]);
    expect(loads).toBe(1);
    await controller.add([app('1')]);
    await controller.add([]);
    expect(loads).toBe(1);
  });
});
