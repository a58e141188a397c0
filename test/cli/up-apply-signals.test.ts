/**
 * Ctrl-C always cleans up `aviary up` and what `aviary apply` makes it start: a second,
 * separate Ctrl-C while an app ignores SIGTERM kills it instead of leaving it behind, and a
 * Ctrl-C to `apply` in the middle of a release, then to `up`, leaves no process of either.
 * The apps carry the file's leak marker (ProcessLeakCheck), found in /proc afterwards.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_APP, ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';
import { markedProcesses, registryOf } from '../support/marked-processes.js';
import { pollFor } from '../support/poll.js';
import { ensureBuilt, spawnCli, type CliProcess } from './cli-support.js';

const TOKEN = 'up-apply-signals-token';
const DEADLINE_MS = 60_000;
const leaks = new ProcessLeakCheck();
const [marker, run] = Object.entries(leaks.env)[0]!;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(await leaks.leftovers()).toEqual([]);
});

/** A state directory with an `aviary.yaml` running one app, `web`, of the test app with `env`. */
async function aviaryFile(env: Record<string, string>): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'aviary-up-signals-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'aviary.yaml');
  const yaml = {
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: 0 },
    api: { port: 0 },
    stateDir: join(dir, 'state'),
    apps: [
      {
        name: 'web',
        path: '/',
        process: {
          command: process.execPath,
          args: [HTTP_APP],
          env: { ...env, ...leaks.env },
          readinessProbe: { httpGet: { path: '/ping' }, interval: '200ms' },
        },
      },
    ],
  };
  // JSON is YAML.
  await writeFile(file, JSON.stringify(yaml));
  return { dir, file };
}

function startCli(args: string[]): CliProcess {
  const cli = spawnCli(args, { env: { AVIARY_TOKEN: TOKEN } });
  cleanups.push(async () => {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await cli.exited;
  });
  return cli;
}

function exitOf(cli: CliProcess, what: string): Promise<true> {
  return pollFor(
    `${what} to exit`,
    () => cli.child.exitCode !== null || cli.child.signalCode !== null || undefined,
    () => `${cli.stdout()}\n${cli.stderr()}`,
    DEADLINE_MS,
  );
}

/** The pids of `web`'s replicas once `count` are recorded in the registry. */
function recordedPids(dir: string, count: number, output: () => string): Promise<number[]> {
  return pollFor(
    `${count} recorded processes`,
    async () => {
      const registry = await registryOf(join(dir, 'state', 'processes'));
      return registry !== undefined && registry.pids.length >= count ? registry.pids : undefined;
    },
    output,
    DEADLINE_MS,
  );
}

describe('aviary up stopped by signals', () => {
  it('a second, separate SIGINT kills an app that ignores SIGTERM instead of leaving it', async () => {
    const { dir, file } = await aviaryFile({ IGNORE_SIGTERM: '1' });
    const up = startCli(['up', '-f', file]);
    await up.waitForStdout((text) => text.includes('control API and dashboard on'), 'aviary up');
    await recordedPids(dir, 1, () => up.stdout());
    expect(await markedProcesses(marker, run)).not.toEqual([]);

    up.child.kill('SIGINT');
    await up.waitForStdout((text) => text.includes('aviary: stopping'), 'the stop');
    // A repeat within a second counts as the same Ctrl-C (npm forwards the terminal's).
    await delay(1_200);
    up.child.kill('SIGINT');
    await exitOf(up, 'aviary up');
    expect(await markedProcesses(marker, run)).toEqual([]);
  });
});

describe('aviary up stopped while it starts', () => {
  it('SIGTERM while a restarted up adopts the apps of a SIGKILLed one stops them all', async () => {
    const readyFile = join(tmpdir(), `aviary-restart-ready-${run}`);
    await writeFile(readyFile, '');
    cleanups.push(() => rm(readyFile, { force: true }));
    const { dir, file } = await aviaryFile({ READY_FILE: readyFile });
    const first = startCli(['up', '-f', file]);
    const out = await first.waitForStdout(
      (text) => text.includes('control API and dashboard on'),
      'aviary up',
    );
    const api = /control API and dashboard on (http:\/\/[^ ]+)/.exec(out)?.[1];
    await pollFor(
      'web to be initialised (its status saved)',
      async () => {
        const answer = (await (await fetch(`${api}/api/v1/rollouts/web`)).json()) as {
          status?: { phase?: string };
        };
        return answer.status?.phase === 'Initialized' || undefined;
      },
      () => first.stdout(),
      DEADLINE_MS,
    );
    first.child.kill('SIGKILL');
    await exitOf(first, 'the SIGKILLed aviary up');
    expect(await markedProcesses(marker, run)).not.toEqual([]);

    // Unready now: the restarted up's start waits for the adopted version (restoreReadyTimeoutMs).
    await rm(readyFile);
    const second = startCli(['up', '-f', file]);
    await pollFor(
      'the second aviary up to take over the registry',
      async () =>
        (await registryOf(join(dir, 'state', 'processes')))?.owner === second.child.pid || undefined,
      () => second.stdout(),
      DEADLINE_MS,
    );
    expect(second.stdout()).not.toContain('control API and dashboard on');
    second.child.kill('SIGTERM');
    await exitOf(second, 'the second aviary up');
    expect(await markedProcesses(marker, run)).toEqual([]);
  });
});

describe('aviary apply stopped by a signal', () => {
  it('SIGINT to apply mid-release, then to up, leaves no process behind', async () => {
    const readyFile = join(tmpdir(), `aviary-ready-${run}`);
    await writeFile(readyFile, '');
    cleanups.push(() => rm(readyFile, { force: true }));
    const { dir, file } = await aviaryFile({ READY_FILE: readyFile });
    const up = startCli(['up', '-f', file]);
    const out = await up.waitForStdout((text) => text.includes('control API and dashboard on'), 'aviary up');
    const api = /control API and dashboard on (http:\/\/[^ ]+)/.exec(out)?.[1];
    await recordedPids(dir, 1, () => up.stdout());

    // New versions never become ready now, so the apply is still under way when it is stopped.
    await rm(readyFile);
    const release = join(dir, 'release.yaml');
    const versions = [
      { name: 'backend-v1', tag: 'v1.0.0', weight: 50 },
      { name: 'backend-v2', tag: 'v2.0.0', weight: 50 },
    ];
    await writeFile(release, JSON.stringify({ app: 'web', versions }));
    const apply = startCli(['apply', '-f', release, '--api', api!]);
    await recordedPids(dir, 3, () => `${apply.stdout()}${apply.stderr()}`);

    apply.child.kill('SIGINT');
    await exitOf(apply, 'aviary apply');
    // One line and the conventional status, no stack trace.
    expect(apply.child.exitCode).toBe(130);
    expect(apply.stderr()).toBe('aviary: apply stopped by SIGINT before the control API answered\n');
    up.child.kill('SIGINT');
    await exitOf(up, 'aviary up');
    expect(await markedProcesses(marker, run)).toEqual([]);
  });
});
