/**
 * The judge reports its reference's count beside the canary's, and with it the real state
 * machine tells a canary silent at low traffic (held past the progress deadline) from one
 * silent beside a busy primary (rolled back by it): docs/adr/0022-deadline-at-low-traffic.md.
 */
import { describe, expect, it } from 'vitest';
import type { RolloutStatus } from '../step/rollout-status.js';
import { harness, T0, tick } from './judge-evaluator-test-support.js';

const MINUTE = 60_000;

describe('JudgeEvaluator: the reference count behind a hold', () => {
  it('a hold carries the primary’s requests over the span it counts the canary’s', async () => {
    const h = harness();
    h.traffic.fill('primary', T0 - 10_000, T0, 9, 0.005);
    h.traffic.fill('canary', T0 - 10_000, T0, 5, 0);
    expect(await h.judge(T0)).toMatchObject({ sampleSize: 50, referenceSampleSize: 90 });
  });

  /**
   * 20 minutes of checks once a minute at weight 10 after the canary's only request; the
   * primary takes one request every `primaryEveryS` seconds. Returns the last status.
   */
  async function silentCanary(primaryEveryS: number): Promise<RolloutStatus> {
    const h = harness(undefined, { lastProgressTime: T0, nextCheckAt: T0 });
    // The judge's first window is the interval (10 s) before its first check, at minute 1.
    h.traffic.fill('canary', T0 + 55_000, T0 + 56_000, 1, 0);
    for (let minute = 1; minute <= 20 && h.status.phase === 'Progressing'; minute++) {
      const now = T0 + minute * MINUTE;
      // Filled a minute at a time: the router's window keeps the last minutes only.
      for (let s = (minute - 1) * 60; s < minute * 60; s += primaryEveryS) {
        h.traffic.fill('primary', T0 + s * 1000, T0 + (s + 1) * 1000, 1, 0);
      }
      h.status = tick(h, await h.judge(now), [], now).status;
    }
    return h.status;
  }

  it('holds a canary silent for 19 minutes when the primary took 57 requests (0.9^57 ≈ 2.5e-3)', async () => {
    const status = await silentCanary(20);
    expect(status.phase).toBe('Progressing');
    expect(status.judgeEvidence).toMatchObject({ canaryRequests: 1 });
  });

  it('rolls back a canary silent for the deadline while the primary took a request a second', async () => {
    const status = await silentCanary(1);
    expect(status.phase).toBe('Failed');
  });
});
