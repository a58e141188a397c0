import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inMemoryController } from '../../../test/fakes/in-memory-controller.js';
import { appSpec } from '../../../test/support/rollout-scenario.js';
import { pollUntil } from '../../../test/support/poll.js';
import { StateWriteError } from '../state/state-write-error.js';
import type { RolloutController } from './controller.js';
import { defaultStateStore } from './rollout-persistence.js';

const INTERVAL_MS = 60_000;
const app = (version: string) =>
  appSpec({
    process: { command: 'node', args: ['server.js'], env: { VERSION: version } },
    canary: { analysis: { interval: '1m', threshold: 2, stepWeight: 10, maxWeight: 50, metrics: [] } },
  });

/** An ENOSPC of the journal, as the state journal reports it. */
const diskFull = (dir: string) =>
  new StateWriteError(
    join(dir, 'journal.2.jsonl'),
    'append of 90 bytes',
    Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
  );

describe('a rollout whose state cannot be saved', () => {
  let dir: string | undefined;
  let controller: RolloutController | undefined;
  afterEach(async () => {
    await controller?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('holds (no step) while saves fail, reports it, and goes on to the same outcome once a save succeeds', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'aviary-state-writes-'));
    dir = stateDir;
    const inner = defaultStateStore(stateDir, undefined);
    let failing = false;
    const store: typeof inner = {
      loadAll: () => inner.loadAll(),
      save: (name, state, events) =>
        failing ? Promise.reject(diskFull(stateDir)) : inner.save(name, state, events),
      remove: (name) => inner.remove(name),
      settled: () => inner.settled(),
    };
    let now = 1_000_000;
    const c = inMemoryController({ stateDir, store, now: () => now, maxTickMs: 10 });
    controller = c;
    const weights = () => c.events('webapp').filter((e) => e.reason === 'WeightAdvanced');
    /** One analysis interval later, one tick. */
    const nextInterval = async () => {
      now += INTERVAL_MS;
      await c.tick('webapp');
    };
    /** Intervals until `done`; a rollout that fails or never gets there fails the test instead of hanging it. */
    const intervalsUntil = async (done: () => boolean) => {
      for (let i = 0; !done(); i++) {
        expect(c.view('webapp').status?.phase).not.toBe('Failed');
        expect(i, `${i} intervals at ${JSON.stringify(c.view('webapp').status)}`).toBeLessThan(50);
        await nextInterval();
      }
    };
    await c.start([app('1')]);
    await pollUntil(() => (c.view('webapp').status?.phase === 'Initialized' ? true : undefined));
    c.updateApps([app('2')]);
    await intervalsUntil(() => (c.view('webapp').status?.canaryWeight ?? 0) >= 20);

    failing = true;
    await nextInterval();
    const heldAt = c.view('webapp').status?.canaryWeight;
    const stepsAtFailure = weights().length;
    for (let i = 0; i < 5; i++) await nextInterval();
    expect(c.view('webapp').status?.canaryWeight).toBe(heldAt);
    expect(weights()).toHaveLength(stepsAtFailure);
    expect(c.view('webapp').stateWriteFailure).toMatchObject({
      code: 'ENOSPC',
      path: join(stateDir, 'journal.2.jsonl'),
      attempts: 6,
    });
    const failed = c.events('webapp').filter((e) => e.reason === 'StateWriteFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.message).toContain(
      `${join(stateDir, 'journal.2.jsonl')}: append of 90 bytes failed with ENOSPC`,
    );
    expect(c.metrics.render()).toContain('aviary_rollout_state_write_failing{app="webapp"} 1');

    failing = false;
    await intervalsUntil(() => c.view('webapp').status?.phase === 'Succeeded');
    expect(c.view('webapp').stateWriteFailure).toBeUndefined();
    expect(weights().map((e) => e.canaryWeight)).toEqual([10, 20, 30, 40, 50]);
    expect(c.metrics.render()).toContain('aviary_rollout_state_write_failing{app="webapp"} 0');
    expect(c.metrics.render()).toContain('aviary_rollout_state_write_failures_total{app="webapp"} 6');
    // What a restart reads: the held state was written once space came back, with both events.
    await c.stop();
    const saved = await defaultStateStore(stateDir, undefined).loadAll();
    const reasons = saved.get('webapp')?.events.map((e) => e.reason) ?? [];
    expect(saved.get('webapp')?.state.status?.phase).toBe('Succeeded');
    expect(reasons).toContain('StateWriteFailed');
    expect(reasons).toContain('StateWriteRecovered');
  });
});
