/**
 * `aviary up` (and `aviary proxy`) as real child processes for the restart suites: started
 * from the sources in their own process group, so a test can SIGKILL them as a crash does,
 * with their output collected; the catalogdetail aviary.yaml those suites rewrite; and reads
 * of the rollout as the API and the state journal hold it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
import type { PersistedRollout } from '../../src/rollout/controller/app-record.js';
import { StateJournal } from '../../src/rollout/state/state-journal.js';
import { CATALOGDETAIL } from './catalog-config.js';
import { waitFor } from './deadline-waits.js';
import { leaks, onCleanup } from './test-cleanup.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A CLI process in its own process group, its stdout and stderr collected. */
export interface GroupProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly output: () => string;
}

/**
 * Runs `aviary ...args` from the sources in a new process group with `AVIARY_TOKEN` set to
 * `token`; the group is SIGKILLed after the test if it is still running.
 */
export function spawnInGroup(args: readonly string[], token: string): GroupProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AVIARY_TOKEN: token, ...leaks.env },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
    await exited;
  });
  return { child, exited, output: () => output };
}

/** `aviary up` as a child process in its own process group, with the addresses it printed. */
export interface Controller extends GroupProcess {
  readonly routerUrl: string;
  readonly controlUrl: string;
}

/** Starts `aviary up -f file` and waits for it to print its router and API addresses. */
export async function startController(file: string, token: string): Promise<Controller> {
  const up = spawnInGroup(['up', '-f', file], token);
  const urls = await waitFor(
    'aviary up to print its addresses',
    () => {
      if (up.child.exitCode !== null) throw new Error(`aviary up exited:\n${up.output()}`);
      const router = /router on (http:\/\/\S+)/.exec(up.output())?.[1];
      const control = /control API and dashboard on (http:\/\/\S+)/.exec(up.output())?.[1];
      return router && control ? { router, control } : undefined;
    },
    up.output,
  );
  return { ...up, routerUrl: urls.router, controlUrl: urls.control };
}

/** The catalogdetail rollout as the control API answers it. */
export async function rollout(controller: Controller): Promise<any> {
  const response = await fetch(`${controller.controlUrl}/api/v1/rollouts/catalogdetail`);
  return response.json();
}

/** Waits for the controller's rollout of catalogdetail to succeed, then answers its events. */
export async function eventsOnceSucceeded(controller: Controller): Promise<RolloutEventRecord[]> {
  await waitFor(
    'the resumed rollout to succeed',
    async () => ((await rollout(controller)).status?.phase === 'Succeeded' ? true : undefined),
    controller.output,
  );
  const response = await fetch(`${controller.controlUrl}/api/v1/rollouts/catalogdetail/events`);
  return (await response.json()) as RolloutEventRecord[];
}

/** The state the controller last made durable, read as a restart reads it (without writing). */
export async function persisted(stateDir: string): Promise<PersistedRollout> {
  const saved = await new StateJournal<PersistedRollout, RolloutEventRecord>(join(stateDir, 'rollouts')).load(
    'catalogdetail',
  );
  if (!saved) throw new Error('no saved state for catalogdetail');
  return saved.state;
}

/** What the restart suites vary in their aviary.yaml. */
export interface RestartYamlOptions {
  /** The `router` block, as YAML flow text; default `{port: 0}`. */
  readonly router?: string;
  readonly stepWeight?: number;
  readonly progressDeadlineSeconds?: number;
}

/** The catalogdetail aviary.yaml of the restart suites, running `version`, analysed on success rate. */
export function restartYaml(stateDir: string, version: string, options: RestartYamlOptions = {}): string {
  return `apiVersion: aviary.dev/v1alpha1
kind: Aviary
router: ${options.router ?? '{port: 0}'}
api: {port: 0}
stateDir: ${JSON.stringify(stateDir)}
minAnalysisInterval: 200ms
apps:
  - name: catalogdetail
    path: /catalogDetail
    process:
      command: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(CATALOGDETAIL)}]
      env: {VERSION: "${version}", AVIARY_TEST_RUN: "${leaks.env.AVIARY_TEST_RUN}"}
      readinessProbe: {httpGet: {path: /ping}, interval: 100ms}
    canary:
      progressDeadlineSeconds: ${options.progressDeadlineSeconds ?? 60}
      analysis:
        interval: 500ms
        threshold: 2
        stepWeight: ${options.stepWeight ?? 10}
        maxWeight: 50
        judge: false
        metrics:
          - {name: request-success-rate, interval: 30s, thresholdRange: {min: 99}}
`;
}
