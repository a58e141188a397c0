/**
 * One HAProxy in master-worker mode (`haproxy -W -S <master socket> -f haproxy.cfg`), started
 * by Aviary as a child process (argv, never a shell). A new configuration is checked with
 * `haproxy -c` before it replaces the file, then loaded with the master CLI's `reload`: the
 * master starts a new worker that takes the listening sockets from the old one (`expose-fd
 * listeners`), and the old worker finishes its requests and leaves, so no connection is
 * refused. A configuration HAProxy refuses never replaces the one it serves.
 * https://docs.haproxy.org/2.6/management.html#4 (master-worker) and #9.4 (master CLI)
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AviaryError } from '../../errors.js';
import { cliCommand } from './haproxy-runtime-api.js';

/** Where Debian and source builds install HAProxy, searched after PATH. */
const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin'];

/** How long a start or a reload may take before it is reported as failed. */
const READY_TIMEOUT_MS = 15_000;

/**
 * The HAProxy executable `binary` names: a path, or a name looked up on PATH and in sbin.
 * @throws AviaryError `AVIARY_ROUTER_CONFIG` naming `router.binary` when there is none.
 */
export async function findHaproxy(binary: string, env = process.env): Promise<string> {
  const candidates = binary.includes('/')
    ? [binary]
    : [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS].map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  throw new AviaryError(
    'AVIARY_ROUTER_CONFIG',
    `router.binary: HAProxy executable "${binary}" not found${binary.includes('/') ? '' : ` on PATH or in ${SBIN_DIRS.join(', ')}`}; install HAProxy 2.6 or later (Debian: apt-get install haproxy) or set router.binary to its path`,
  );
}

/**
 * Checks a configuration with `haproxy -c`.
 * @throws AviaryError `AVIARY_ROUTER_CONFIG` with HAProxy's own messages when it refuses it.
 */
export function checkHaproxyConfig(binary: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-c', '-f', path], { timeout: READY_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (!err) return resolve();
      // Its ALERT lines say what is wrong; the NOTICE lines (version, path) do not.
      const said =
        `${stderr}${stdout}`
          .split('\n')
          .filter((line) => line.trim() !== '' && !line.includes('[NOTICE]'))
          .join('\n') || err.message;
      reject(
        new AviaryError(
          'AVIARY_ROUTER_CONFIG',
          `HAProxy refused the configuration Aviary rendered (${path}):\n${said}`,
        ),
      );
    });
  });
}

/** A worker of `show proc`: pid and how many reloads it has outlived (0: the current one). */
function currentWorker(showProc: string): number | undefined {
  const workers = showProc.split('# workers')[1]?.split('#')[0] ?? '';
  for (const line of workers.split('\n')) {
    const [pid, type, reloads] = line.trim().split(/\s+/);
    if (type === 'worker' && reloads === '0') return Number(pid);
  }
  return undefined;
}

/** The master's count of failed reloads (`[failed: N]` in `show proc`). */
const failedReloads = (showProc: string): number => Number(/\[failed: (\d+)\]/.exec(showProc)?.[1] ?? 0);

/** A running HAProxy master and its current worker. */
export class HaproxyProcess {
  #workerPid: number;
  readonly #output: string[] = [];
  #exited = false;
  #closing = false;
  #onUnexpectedExit: (() => void) | undefined;

  private constructor(
    private readonly binary: string,
    private readonly configPath: string,
    readonly masterSocket: string,
    private readonly child: ChildProcess,
    workerPid: number,
  ) {
    this.#workerPid = workerPid;
  }

  /** pid of the master. */
  get pid(): number {
    return this.child.pid!;
  }

  /** pid of the worker that serves now; Runtime API commands go to it. */
  get workerPid(): number {
    return this.#workerPid;
  }

  /** True while the master runs. */
  get running(): boolean {
    return !this.#exited;
  }

  /** HAProxy's recent messages, for errors. */
  get output(): string {
    return this.#output.join('\n');
  }

  /**
   * Checks `config`, writes it to `<dir>/haproxy.cfg` and starts HAProxy on it; resolves once
   * a worker serves. A master left by a previous run of Aviary in `dir` is stopped first.
   */
  static async start(binary: string, dir: string, config: string): Promise<HaproxyProcess> {
    const configPath = join(dir, 'haproxy.cfg');
    const masterSocket = join(dir, 'master.sock');
    await stopLeftover(join(dir, 'haproxy.pid'), configPath);
    await writeChecked(binary, configPath, config);
    const child = spawn(binary, ['-W', '-S', `${masterSocket},mode,600`, '-f', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(...chunk.toString('utf8').trimEnd().split('\n'));
      output.splice(0, Math.max(0, output.length - 40));
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', resolve);
    });
    if (spawned)
      throw new AviaryError('AVIARY_ROUTER_UNAVAILABLE', `cannot start ${binary}: ${spawned.message}`);
    await writeFile(join(dir, 'haproxy.pid'), `${child.pid}\n`, { mode: 0o600 });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const answer = await cliCommand(masterSocket, 'show proc').catch(() => '');
      const worker = currentWorker(answer);
      if (worker !== undefined) {
        const haproxy = new HaproxyProcess(binary, configPath, masterSocket, child, worker);
        haproxy.#output.push(...output);
        child.stdout.off('data', keep).on('data', (c: Buffer) => haproxy.#keep(c));
        child.stderr.off('data', keep).on('data', (c: Buffer) => haproxy.#keep(c));
        child.once('exit', () => {
          haproxy.#exited = true;
          if (!haproxy.#closing) haproxy.#onUnexpectedExit?.();
        });
        return haproxy;
      }
      if (exited || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new AviaryError(
          'AVIARY_ROUTER_UNAVAILABLE',
          `HAProxy did not start on ${configPath}${exited ? ` (exit code ${child.exitCode})` : ' within 15 s'}:\n${output.join('\n')}`,
        );
      }
      await sleep(20);
    }
  }

  #keep(chunk: Buffer): void {
    this.#output.push(...chunk.toString('utf8').trimEnd().split('\n'));
    this.#output.splice(0, Math.max(0, this.#output.length - 40));
  }

  /**
   * Replaces the configuration: checked first, then reloaded seamlessly. Resolves once the
   * new worker serves. On any refusal the file is put back and the running worker, with the
   * last good configuration, keeps serving.
   */
  async reload(config: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#exited)
      throw new AviaryError(
        'AVIARY_ROUTER_UNAVAILABLE',
        `HAProxy (pid ${this.pid}) is not running:\n${this.output}`,
      );
    const previous = await readFile(this.configPath, 'utf8');
    await writeChecked(this.binary, this.configPath, config);
    const before = await cliCommand(this.masterSocket, 'show proc', signal);
    await cliCommand(this.masterSocket, 'reload', signal);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const answer = await cliCommand(this.masterSocket, 'show proc', signal).catch(() => '');
      const worker = currentWorker(answer);
      if (worker !== undefined && worker !== this.#workerPid) {
        this.#workerPid = worker;
        return;
      }
      if (failedReloads(answer) > failedReloads(before) || Date.now() > deadline) {
        await writeFile(this.configPath, previous, { mode: 0o600 });
        throw new AviaryError(
          'AVIARY_ROUTER_UNAVAILABLE',
          `HAProxy did not load the new configuration; the previous one keeps serving:\n${this.output}`,
        );
      }
      await sleep(10);
    }
  }

  /** Calls `listener` when the master exits without {@link close} (a crash, a kill). */
  onUnexpectedExit(listener: () => void): void {
    this.#onUnexpectedExit = listener;
  }

  /** Stops HAProxy (master and workers); idempotent. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Writes `config` beside `path`, checks it, and moves it over `path` only when HAProxy accepts it. */
async function writeChecked(binary: string, path: string, config: string): Promise<void> {
  const candidate = `${path}.next`;
  await writeFile(candidate, config, { mode: 0o600 });
  try {
    await checkHaproxyConfig(binary, candidate);
  } catch (err) {
    await rm(candidate, { force: true });
    throw err;
  }
  await rename(candidate, path);
}

/** Stops a master a previous run left in this directory: its pid file names a live HAProxy on this config. */
async function stopLeftover(pidFile: string, configPath: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!(pid > 0)) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.split('\0').includes(configPath)) return;
  process.kill(pid, 'SIGTERM');
  for (
    let i = 0;
    i < 250 &&
    (await access(`/proc/${pid}`).then(
      () => true,
      () => false,
    ));
    i++
  )
    await sleep(20);
}
