/**
 * The product under soak: the built CLI (`node bin/aviary.js up -f aviary.yaml`) as a child
 * process, as a user runs it, with its output in a file (a pipe would kill it with EPIPE if
 * the soak died first). Under coreutils `timeout`, when installed, so even a soak killed
 * with SIGKILL leaves a controller that stops itself, and its apps and proxy, at the hard
 * deadline. Stopping is SIGTERM (the controller stops its apps and its supervised proxy),
 * then SIGKILL after a grace; then whatever the state directory still records as running is
 * stopped through the product's own leftover clean-up, as `aviary demo` does at its start.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SupervisedProxy } from '../src/router/proxy-process.js';
import { ProcessTarget } from '../src/target/process/process-target.js';
import { aviaryProcesses, isAlive } from './aviary-processes.js';

/** The CLI's entry point, as `npm start` runs it. */
export const AVIARY_BIN = fileURLToPath(new URL('../bin/aviary.js', import.meta.url));

/** A running `aviary up`. */
export interface RunningAviary {
  /** The controller's pid (the `aviary up` process). */
  readonly pid: number;
  readonly controlUrl: string;
  /** Its output so far (the file's tail), for error messages. */
  output(): Promise<string>;
  /** Stops it and everything it started; safe to call more than once. */
  stop(): Promise<void>;
}

/** Options of {@link startAviaryUp}. */
export interface AviaryUpOptions {
  readonly file: string;
  readonly stateDir: string;
  readonly apiPort: number;
  /** Where its output goes. */
  readonly logFile: string;
  /** After this, `timeout` sends SIGTERM to the controller whatever the soak is doing, s. */
  readonly hardLimitSeconds: number;
}

const STOP_GRACE_MS = 30_000;

function hasTimeoutCommand(): boolean {
  return spawnSync('timeout', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Polls `probe` every 200 ms until it returns true; throws `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`soak: ${what} within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** Starts `aviary up -f options.file` and resolves once its control API answers. */
export async function startAviaryUp(options: AviaryUpOptions): Promise<RunningAviary> {
  const out = openSync(options.logFile, 'a');
  const command = [process.execPath, AVIARY_BIN, 'up', '-f', options.file];
  const guarded = hasTimeoutCommand()
    ? ['timeout', '--kill-after=30', String(Math.ceil(options.hardLimitSeconds)), ...command]
    : command;
  const child = spawn(guarded[0]!, guarded.slice(1), {
    stdio: ['ignore', out, out],
    shell: false,
    // Its own group: a Ctrl-C of the soak's terminal reaches the soak, which stops it in order.
    detached: true,
  });
  closeSync(out);
  const wrapper = child.pid;
  if (wrapper === undefined) throw new Error(`soak: could not start ${command.join(' ')}`);
  let exited = false;
  child.once('exit', () => (exited = true));
  const output = async (): Promise<string> =>
    (await readFile(options.logFile, 'utf8').catch(() => '')).slice(-8000);
  const controlUrl = `http://127.0.0.1:${options.apiPort}`;
  let pid = wrapper;
  const stop = async (): Promise<void> => {
    const controller = pid;
    if (await isAlive(controller)) process.kill(controller, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while ((await isAlive(controller)) && Date.now() < deadline) await sleep(100);
    if (await isAlive(controller)) process.kill(controller, 'SIGKILL');
    if (!exited && wrapper !== controller) child.kill('SIGKILL');
    // What a killed controller could not stop, found as its state directory records it.
    await ProcessTarget.stopLeftovers(join(options.stateDir, 'processes')).catch(() => []);
    await SupervisedProxy.stopLeftover(join(options.stateDir, 'proxy')).catch(() => undefined);
  };
  try {
    await until('aviary up did not start', 60_000, async () => {
      if (exited) throw new Error(`soak: aviary up exited at start:\n${await output()}`);
      const up = (await aviaryProcesses(wrapper, AVIARY_BIN)).find((p) => p.role === 'up');
      if (up === undefined) return false;
      pid = up.pid;
      return (await fetch(`${controlUrl}/healthz`).catch(() => undefined))?.ok === true;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid, controlUrl, output, stop };
}
