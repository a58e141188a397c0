/**
 * Ctrl-C always cleans up the demo: SIGINT, SIGTERM or SIGHUP at several points of the story
 * (while the apps start, during v2's analysis, during v3's) stops every process it started,
 * also when the signal reaches `npm start` rather than the demo itself, or npm is killed; and
 * a demo started after one that was SIGKILLed stops that one's leftovers before wiping the
 * state directory.
 * Processes are found by the process target's `AVIARY_INSTANCE` marker in /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRecordedProcessAlive, readInstanceRecord } from '../../src/router/proxy-instance.js';
import { cliEnv, ensureBuilt, REPO_ROOT, spawnCli, type CliProcess } from '../cli/cli-support.js';
import { killAll, markedProcesses, processesNaming, registryOf } from '../support/marked-processes.js';
import { pollFor } from '../support/poll.js';

/** The story in fast mode reaches v3 well within this on a loaded machine. */
const STORY_MS = 120_000;
const DEMO_ARGS = ['--fast', '--router-port', '0', '--api-port', '0', '--rate', '20'];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

async function stateDirForTest(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aviary-demo-signals-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Kills a demo and what it recorded if a test failed before stopping them. */
function cleanUpAfter(child: ChildProcess, stateDir: string): void {
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // The demo itself, when npm ran it and was killed first.
    killAll(await processesNaming(stateDir));
    const registry = await registryOf(join(stateDir, 'processes'));
    if (registry !== undefined) killAll(await markedProcesses('AVIARY_INSTANCE', registry.instance));
  });
}

function startDemo(stateDir: string): CliProcess {
  const demo = spawnCli(['demo', ...DEMO_ARGS, '--state-dir', stateDir], { env: { NO_COLOR: '1' } });
  cleanUpAfter(demo.child, stateDir);
  return demo;
}

/** The demo's instance id, once its process target has recorded at least one child. */
function demoInstance(stateDir: string, output: () => string): Promise<string> {
  return pollFor(
    'the demo to start its first app',
    async () => {
      const registry = await registryOf(join(stateDir, 'processes'));
      return registry !== undefined && registry.pids.length > 0 ? registry.instance : undefined;
    },
    output,
    STORY_MS,
  );
}

function storyReached(text: string, output: () => string): Promise<true> {
  return pollFor(
    `the story to print "${text}"`,
    () => output().includes(text) || undefined,
    output,
    STORY_MS,
  );
}

/** During an analysis: the release has begun and its canary took its first step. */
function analysing(version: string, output: () => string): Promise<true> {
  return pollFor(
    `catalogdetail ${version}'s analysis`,
    () => {
      const text = output();
      const release = text.indexOf(`Releasing catalogdetail ${version}`);
      return (release >= 0 && text.indexOf('WeightAdvanced', release) > release) || undefined;
    },
    output,
    STORY_MS,
  );
}

function exitOf(child: ChildProcess, what: string, output: () => string): Promise<true> {
  return pollFor(
    `${what} to exit`,
    () => child.exitCode !== null || child.signalCode !== null || undefined,
    output,
    60_000,
  );
}

describe('aviary demo stopped by a signal', () => {
  const points = [
    { name: 'while the apps start', signal: 'SIGINT', reach: () => Promise.resolve() },
    {
      name: "during v2's analysis",
      signal: 'SIGTERM',
      reach: (output: () => string) => analysing('v2', output),
    },
    {
      name: "during v3's analysis",
      signal: 'SIGINT',
      reach: (output: () => string) => analysing('v3', output),
    },
    {
      name: "(a closed terminal) during v2's analysis",
      signal: 'SIGHUP',
      reach: (output: () => string) => analysing('v2', output),
    },
  ] as const;

  for (const point of points) {
    it(`${point.signal} ${point.name} leaves no process behind`, async () => {
      const stateDir = await stateDirForTest();
      const demo = startDemo(stateDir);
      const instance = await demoInstance(stateDir, () => demo.stdout());
      await point.reach(() => demo.stdout());
      expect(await markedProcesses('AVIARY_INSTANCE', instance)).not.toEqual([]);

      demo.child.kill(point.signal);
      await exitOf(demo.child, 'the demo', () => demo.stdout());
      expect(await markedProcesses('AVIARY_INSTANCE', instance)).toEqual([]);
    });
  }

  it('a demo started after a SIGKILLed one stops its leftovers before wiping the state directory', async () => {
    const stateDir = await stateDirForTest();
    const first = startDemo(stateDir);
    const killed = await demoInstance(stateDir, () => first.stdout());
    await storyReached('Releasing catalogdetail v2', () => first.stdout());
    first.child.kill('SIGKILL');
    await exitOf(first.child, 'the SIGKILLed demo', () => first.stdout());
    const leftovers = await markedProcesses('AVIARY_INSTANCE', killed);
    expect(leftovers).not.toEqual([]);
    // The router runs as its own process and outlives the SIGKILLed demo too.
    const router = await readInstanceRecord(join(stateDir, 'proxy'));
    expect(router !== undefined && (await isRecordedProcessAlive(router))).toBe(true);

    const second = startDemo(stateDir);
    await pollFor(
      "the second demo's own registry",
      async () => {
        const registry = await registryOf(join(stateDir, 'processes'));
        return registry !== undefined && registry.instance !== killed ? true : undefined;
      },
      () => second.stdout(),
      STORY_MS,
    );
    expect(await markedProcesses('AVIARY_INSTANCE', killed)).toEqual([]);
    expect(second.stdout()).toMatch(/stopped \d+ processes an earlier demo left running/);
    expect(second.stdout()).toContain(
      `stopped the router process ${router!.pid} an earlier demo left running`,
    );
    expect(await isRecordedProcessAlive(router!)).toBe(false);

    const instance = await demoInstance(stateDir, () => second.stdout());
    second.child.kill('SIGINT');
    await exitOf(second.child, 'the second demo', () => second.stdout());
    expect(await markedProcesses('AVIARY_INSTANCE', instance)).toEqual([]);
  });
});

/**
 * Runs package.json's own start script with npm, in a package whose bin/ is this one's;
 * only its build step is left out (the suite built dist/ already).
 */
async function startNpmDemo(): Promise<{ npm: ChildProcess; output: () => string; instance: string }> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const build = 'npm run build && ';
  expect(manifest.scripts.start.startsWith(build)).toBe(true);
  const packageDir = await stateDirForTest();
  await symlink(join(REPO_ROOT, 'bin'), join(packageDir, 'bin'));
  const scripts = { start: manifest.scripts.start.slice(build.length) };
  await writeFile(
    join(packageDir, 'package.json'),
    JSON.stringify({ name: 'npm-start', private: true, scripts }),
  );
  const stateDir = join(packageDir, 'state');

  const npm = spawn('npm', ['start', '--', ...DEMO_ARGS, '--state-dir', stateDir], {
    cwd: packageDir,
    env: cliEnv({ NO_COLOR: '1', npm_config_update_notifier: 'false' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const output = (): string => out;
  cleanUpAfter(npm, stateDir);
  const instance = await demoInstance(stateDir, output);
  await analysing('v2', output);
  expect(await markedProcesses('AVIARY_INSTANCE', instance)).not.toEqual([]);
  return { npm, output, instance };
}

function noProcessLeft(instance: string, output: () => string): Promise<true> {
  return pollFor(
    'every demo process to exit',
    async () => ((await markedProcesses('AVIARY_INSTANCE', instance)).length === 0 ? true : undefined),
    output,
    30_000,
  );
}

describe('npm start stopped through npm', () => {
  it('SIGINT to the npm process reaches the demo, which stops every process', async () => {
    const { npm, output, instance } = await startNpmDemo();
    npm.kill('SIGINT');
    await exitOf(npm, 'npm start', output);
    await noProcessLeft(instance, output);
  });

  it('SIGKILL to the npm process: the demo sees its parent gone and stops every process', async () => {
    const { npm, output, instance } = await startNpmDemo();
    npm.kill('SIGKILL');
    await noProcessLeft(instance, output);
  });
});
