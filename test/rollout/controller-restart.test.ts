/**
 * Case g of issue 3: `kill -9` of `aviary up` in the middle of an analysis, then a restart on
 * the same file and state directory. The new controller adopts the processes the old one left
 * running, resumes the rollout from its persisted status (the weights go on from where they
 * were), and its router never sends a client to a dead version.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  failures,
  isGone,
  tempDir,
  TOKEN,
  TrafficLoop,
  waitFor,
  waitUntilGone,
  TEST_TIMEOUT_MS,
} from './support.js';
import { persisted, restartYaml, rollout, startController, eventsOnceSucceeded } from './up-process.js';

const aviaryYaml = restartYaml;

describe('controller killed with SIGKILL mid-analysis', { timeout: TEST_TIMEOUT_MS }, () => {
  it('resumes the rollout after a restart, adopting the processes it left running', async () => {
    const dir = await tempDir();
    const stateDir = join(dir, 'state');
    const file = join(dir, 'aviary.yaml');
    await writeFile(file, aviaryYaml(stateDir, '1'));

    const first = await startController(file, TOKEN);
    await waitFor('v1 initialised', async () =>
      (await rollout(first)).status?.phase === 'Initialized' ? true : undefined,
    );
    const firstTraffic = TrafficLoop.start(first.routerUrl);
    await writeFile(file, aviaryYaml(stateDir, '2'));
    // The state file, not the API, says where a restart resumes: the API shows a tick's
    // decision while its actions still run, the file only once they are done.
    await waitFor(
      'a persisted canary weight of 20 % or more',
      async () => {
        const status = (await persisted(stateDir)).status;
        return status?.phase === 'Progressing' && status.canaryWeight >= 20 ? true : undefined;
      },
      first.output,
    );
    const before = await rollout(first);
    const primaryPid: number = before.processes.primary.replicas[0].pid;
    const canaryPid: number = before.processes.canary.replicas[0].pid;

    const killedAt = Date.now();
    process.kill(first.child.pid!, 'SIGKILL');
    await first.exited;
    await firstTraffic.stop();
    expect(failures(firstTraffic.samples.filter((s) => s.endedAt < killedAt))).toEqual([]);
    const saved = await persisted(stateDir);
    expect(saved.status).toMatchObject({
      phase: 'Progressing',
      lastAppliedSpec: before.status.lastAppliedSpec,
    });
    expect(saved.status!.canaryWeight).toBeGreaterThanOrEqual(20);
    // The versions outlive their controller.
    expect(isGone(primaryPid) || isGone(canaryPid)).toBe(false);

    const second = await startController(file, TOKEN);
    const traffic = TrafficLoop.start(second.routerUrl);
    const adopted = await rollout(second);
    expect(adopted.processes.canary.replicas[0]).toMatchObject({ pid: canaryPid, adopted: true });
    expect(adopted.processes.primary.replicas[0]).toMatchObject({ pid: primaryPid, adopted: true });
    expect(adopted.status.canaryWeight).toBeGreaterThanOrEqual(saved.status!.canaryWeight);

    const events = await eventsOnceSucceeded(second);
    const afterRestart = events.filter((e) => e.at > killedAt);
    expect(afterRestart.map((e) => e.reason)).not.toContain('NewRevision');
    expect(afterRestart.map((e) => e.reason)).not.toContain('Restarted');
    expect(afterRestart.find((e) => e.reason === 'ControllerRestarted')?.message).toBe(
      'controller restarted; adopted 2 replicas of catalogdetail',
    );
    for (const step of afterRestart.filter((e) => e.reason === 'WeightAdvanced'))
      expect(step.canaryWeight).toBeGreaterThan(saved.status!.canaryWeight);
    // One weight schedule across both controllers: nothing was started again from scratch.
    expect(events.filter((e) => e.reason === 'WeightAdvanced').map((e) => e.canaryWeight)).toEqual([
      10, 20, 30, 40, 50,
    ]);
    await waitUntilGone([primaryPid, canaryPid]);

    await traffic.more(30);
    await traffic.stop();
    expect(traffic.samples.length).toBeGreaterThan(30);
    expect(failures(traffic.samples)).toEqual([]);
    expect(traffic.samples.at(-1)!.version).toBe('2');

    process.kill(second.child.pid!, 'SIGTERM');
    await second.exited;
    expect(second.child.exitCode).toBe(0);
  });
});
