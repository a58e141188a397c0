import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inMemoryController } from '../../../test/fakes/in-memory-controller.js';
import { appSpec } from '../../../test/support/rollout-scenario.js';
import { pollUntil } from '../../../test/support/poll.js';
import type { ClockJump, RolloutController } from './controller.js';

const HOUR = 3_600_000;
const app = (version: string) =>
  appSpec({
    process: { command: 'node', args: ['server.js'], env: { VERSION: version } },
    canary: {
      progressDeadlineSeconds: 300,
      analysis: { interval: '1m', threshold: 2, stepWeight: 10, maxWeight: 30, metrics: [] },
    },
  });

describe('the controller when the wall clock jumps mid-analysis', () => {
  let dir: string | undefined;
  let controller: RolloutController | undefined;
  afterEach(async () => {
    await controller?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /**
   * A canary rollout ticked by hand on injected clocks, the wall clock stepped by `jumpMs` (and
   * then by `thenMs`) 20 s into the interval at weight 20: its weights, events and outcome.
   */
  async function rolloutWithJump(jumpMs: number, thenMs = 0) {
    const clock = { wall: 1_700_000_000_000, mono: 0 };
    const pass = (ms: number) => ((clock.wall += ms), (clock.mono += ms));
    dir = await mkdtemp(join(tmpdir(), 'aviary-clock-jumps-'));
    // Ticks run when the test asks: the scheduler's own wait is an hour of the injected clock.
    const c = inMemoryController({
      stateDir: dir,
      maxTickMs: HOUR,
      now: () => clock.wall,
      monotonic: () => clock.mono,
    });
    controller = c;
    const jumps: ClockJump[] = [];
    c.on('clockJump', (jump: ClockJump) => jumps.push(jump));
    await c.start([app('1')]);
    await pollUntil(() => (c.view('webapp').status?.phase === 'Initialized' ? true : undefined));
    c.updateApps([app('2')]);
    await c.tick('webapp');
    for (let i = 0; i < 20 && !['Succeeded', 'Failed'].includes(c.view('webapp').status!.phase); i++) {
      if (c.view('webapp').status!.canaryWeight === 20 && jumps.length === 0 && jumpMs !== 0) {
        pass(20_000);
        clock.wall += jumpMs;
        await c.tick('webapp');
        if (thenMs !== 0) {
          pass(20_000);
          clock.wall += thenMs;
          await c.tick('webapp');
          pass(20_000);
        } else pass(40_000);
      } else pass(60_000);
      await c.tick('webapp');
    }
    const events = c.events('webapp');
    return {
      phase: c.view('webapp').status!.phase,
      weights: events.filter((e) => e.reason === 'WeightAdvanced').map((e) => e.canaryWeight),
      failures: events.filter((e) => ['DeadlineExceeded', 'Failed', 'ChecksFailed'].includes(e.reason)),
      clockEvents: events.filter((e) => e.reason === 'ClockJumped').map((e) => e.message),
      jumps,
    };
  }

  it.each([
    ['forward 1 h', HOUR, 0],
    ['back 1 h', -HOUR, 0],
    ['back 1 h and forward again', -HOUR, HOUR],
  ])(
    '%s: the rollout succeeds with the steps of an undisturbed one, and says the clock jumped',
    async (_, jumpMs, thenMs) => {
      const undisturbed = await rolloutWithJump(0);
      await controller?.stop();
      const jumped = await rolloutWithJump(jumpMs, thenMs);
      expect(undisturbed).toMatchObject({ phase: 'Succeeded', weights: [10, 20, 30], failures: [] });
      expect(jumped).toMatchObject({ phase: 'Succeeded', weights: undisturbed.weights, failures: [] });
      expect(jumped.jumps).toEqual(
        [jumpMs, thenMs].filter((ms) => ms !== 0).map((ms) => ({ app: 'webapp', jumpMs: ms })),
      );
      expect(jumped.clockEvents[0]).toMatch(/jumped (forward|back) 3600\.0 s during the rollout of webapp/);
    },
  );
});
