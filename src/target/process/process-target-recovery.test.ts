import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  httpAppSpec,
  makeStateDir,
  ProcessLeakCheck,
  removeStateDir,
} from '../../../test/fixtures/apps/http-app-spec.js';
import { readRegistry, writeRegistry } from './child-registry.js';
import { pollUntil } from '../../../test/support/poll.js';
import { isPidAlive } from './process-group.js';
import { ProcessTarget } from './process-target.js';
import type { VersionStatus } from '../target.js';

const CONTROLLER = fileURLToPath(
  new URL('../../../test/fixtures/apps/target-controller.ts', import.meta.url),
);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const leaks = new ProcessLeakCheck();
const app = 'shop';
let stateDir: string;
const targets: ProcessTarget[] = [];
const strays: ChildProcess[] = [];

function open(): ProcessTarget {
  const target = new ProcessTarget({
    stateDir,
    stopGraceMs: 2000,
    adoptedPollMs: 50,
    restartBackoff: { initialMs: 50 },
  });
  targets.push(target);
  return target;
}

const readyPrimary = (target: ProcessTarget, replicas: number) =>
  pollUntil(async () => {
    const status = await target.status(app, 'primary');
    return status?.readyReplicas === replicas ? status : undefined;
  });

async function whoamiPid(endpoint: string): Promise<number> {
  const body = (await (await fetch(`http://${endpoint}/whoami`)).json()) as { pid: number };
  return body.pid;
}

/** Starts a process that is not ours (no instance marker) and stays alive. */
function startStranger(env: Record<string, string> = {}): ChildProcess {
  const child = spawn('sleep', ['30'], {
    env: { ...process.env, ...leaks.env, ...env },
    detached: true,
    stdio: 'ignore',
  });
  strays.push(child);
  return child;
}

async function exitedPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? 0;
}

interface ControllerStarted {
  readonly controller: ChildProcess;
  readonly pids: number[];
  readonly endpoints: string[];
}

/**
 * Runs the controller fixture with `env` for its replicas (see target-controller.ts);
 * resolves with it and the pids and endpoints it reports once its replicas are ready.
 */
async function startController(env: Record<string, string> = {}): Promise<ControllerStarted> {
  const controller = spawn(process.execPath, ['--import', 'tsx', CONTROLLER, stateDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...leaks.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  strays.push(controller);
  const lines = createInterface({ input: controller.stdout });
  for await (const line of lines) {
    if (line.startsWith('{'))
      return { controller, ...(JSON.parse(line) as Omit<ControllerStarted, 'controller'>) };
  }
  throw new Error('controller exited before its replicas were ready');
}

const exitOf = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode);
    else child.once('exit', (code, signal) => resolve(signal ?? code));
  });

beforeEach(async () => {
  stateDir = await makeStateDir();
});

afterEach(async () => {
  for (const target of targets.splice(0)) await target.close();
  for (const child of strays.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await removeStateDir(stateDir);
});

afterAll(async () => {
  expect(await leaks.leftovers()).toEqual([]);
});

describe('ProcessTarget recovery in one process', () => {
  it('adopts live children of a dropped instance and discards entries that are dead or not ours', async () => {
    const first = open();
    await first.ensureVersion(app, 'primary', httpAppSpec(leaks.env, 2));
    const before = await readyPrimary(first, 2);
    await first.release();

    const recorded = await readRegistry(first.registryPath);
    if (recorded === undefined) throw new Error('no registry written');
    const stranger = startStranger();
    const unrecorded = startStranger({ AVIARY_INSTANCE: recorded.instance });
    const dead = await exitedPid();
    const fake = {
      pgid: 1,
      port: 1,
      app,
      role: 'primary' as const,
      revision: before.revision,
      replica: 7,
      startedAt: 0,
      startTicks: null,
    };
    await writeRegistry(first.registryPath, {
      ...recorded,
      children: [
        ...recorded.children,
        { ...fake, pid: dead, pgid: dead },
        { ...fake, pid: stranger.pid ?? 0 },
      ],
    });

    const second = open();
    const report = await second.recover();
    const livePids = before.replicas.map((r) => r.pid);
    expect(report.adopted.map((a) => a.pid).sort()).toEqual([...livePids].sort());
    expect(report.discarded).toEqual(
      expect.arrayContaining([
        { pid: dead, reason: expect.stringMatching(/exited/) as unknown },
        { pid: stranger.pid, reason: expect.stringMatching(/another process; left alone/) as unknown },
        { pid: unrecorded.pid, reason: expect.stringMatching(/never recorded; stopped/) as unknown },
      ]),
    );
    expect(await isPidAlive(stranger.pid ?? 0)).toBe(true);
    expect(await isPidAlive(unrecorded.pid ?? 0)).toBe(false);

    const adopted: VersionStatus = await readyPrimary(second, 2);
    expect(adopted.replicas.map((r) => r.pid).sort()).toEqual([...livePids].sort());
    expect(adopted.replicas.every((r) => r.adopted)).toBe(true);
    const answering = await Promise.all(adopted.endpoints.map(whoamiPid));
    expect(answering.sort()).toEqual([...livePids].sort());
    expect((await readRegistry(second.registryPath))?.children.map((c) => c.pid).sort()).toEqual(
      [...livePids].sort(),
    );
  });

  it('restarts an adopted replica that dies, though it is not our child', async () => {
    const first = open();
    await first.ensureVersion(app, 'primary', httpAppSpec(leaks.env, 1));
    const pid = (await readyPrimary(first, 1)).replicas[0]?.pid ?? 0;
    await first.release();
    const second = open();
    await readyPrimary(second, 1);
    process.kill(pid, 'SIGKILL');
    const restarted = await pollUntil(async () => {
      const status = await second.status(app, 'primary');
      return status?.restarts === 1 && status.readyReplicas === 1 ? status : undefined;
    });
    expect(restarted.replicas[0]).toMatchObject({ adopted: false });
    expect(restarted.replicas[0]?.pid).not.toBe(pid);
    expect(restarted.lastError).toMatch(/adopted process/);
  });

  it('refuses a second live instance on the same state directory', async () => {
    await open().recover();
    await expect(open().recover()).rejects.toMatchObject({ code: 'AVIARY_TARGET_STATE_DIR_IN_USE' });
  });

  it('reports a corrupt registry instead of guessing', async () => {
    await writeFile(`${stateDir}/children.json`, '{"format": 1, "instance": ');
    await expect(open().recover()).rejects.toMatchObject({ code: 'AVIARY_TARGET_STATE_CORRUPT' });
  });
});

describe('ProcessTarget recovery across controller processes', () => {
  it('adopts the children of a controller killed with SIGKILL', async () => {
    const { controller, pids } = await startController();
    await expect(open().recover()).rejects.toMatchObject({ code: 'AVIARY_TARGET_STATE_DIR_IN_USE' });

    controller.kill('SIGKILL');
    expect(await exitOf(controller)).toBe('SIGKILL');
    for (const pid of pids) expect(await isPidAlive(pid)).toBe(true);

    const successor = open();
    const report = await successor.recover();
    expect(report.adopted.map((a) => a.pid).sort()).toEqual([...pids].sort());
    const adopted = await readyPrimary(successor, 2);
    expect((await Promise.all(adopted.endpoints.map(whoamiPid))).sort()).toEqual([...pids].sort());

    await successor.close();
    for (const pid of pids) expect(await isPidAlive(pid)).toBe(false);
  });

  it('keeps an adopted replica that logs every request running, its new lines in logs()', async () => {
    const { controller, pids, endpoints } = await startController({ LOG_REQUESTS: '1' });
    controller.kill('SIGKILL');
    expect(await exitOf(controller)).toBe('SIGKILL');
    // Each request writes a line while no controller runs: on a pipe, the app would die of EPIPE.
    for (const endpoint of endpoints) expect(await whoamiPid(endpoint)).toBeGreaterThan(0);

    const successor = open();
    const stale = join(successor.logDir, `${app}-primary-gone-r0.stdout`);
    await writeFile(stale, 'output of a replica that died while no controller ran\n');
    expect((await successor.recover()).adopted.map((a) => a.pid).sort()).toEqual([...pids].sort());
    const outputFiles = async () =>
      (await readdir(successor.logDir)).filter((name) => /\.(stdout|stderr)$/.test(name)).sort();
    expect(await outputFiles()).toHaveLength(4);
    expect(existsSync(stale)).toBe(false);
    const adopted = await readyPrimary(successor, 2);
    for (let round = 0; round < 3; round++) {
      for (const endpoint of adopted.endpoints) {
        const response = await fetch(`http://${endpoint}/env/AVIARY_REPLICA`);
        expect(response.status).toBe(200);
        await response.text();
      }
    }
    const logged = await pollUntil(async () => {
      const lines = (await successor.logs(app, 'primary')).filter(
        (line) => line.stream === 'stdout' && line.text === 'GET /env/AVIARY_REPLICA',
      );
      return lines.length === 6 ? lines : undefined;
    });
    expect(logged.map((line) => line.replica).sort()).toEqual([0, 0, 0, 1, 1, 1]);

    const after = await successor.status(app, 'primary');
    expect(after).toMatchObject({ restarts: 0, lastError: null, readyReplicas: 2 });
    expect(after?.replicas.map((r) => r.pid).sort()).toEqual([...pids].sort());
    expect(after?.replicas.every((r) => r.adopted)).toBe(true);
    for (const pid of pids) expect(await isPidAlive(pid)).toBe(true);

    await successor.close();
    expect(await outputFiles()).toEqual([]);
  });

  it('stops every child when the controller receives SIGTERM', async () => {
    const { controller, pids } = await startController();
    controller.kill('SIGTERM');
    expect(await exitOf(controller)).toBe('SIGTERM');
    for (const pid of pids) expect(await isPidAlive(pid)).toBe(false);
    expect(await readRegistry(`${stateDir}/children.json`)).toMatchObject({ versions: [], children: [] });
  });
});
