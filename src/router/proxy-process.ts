/**
 * The built-in proxy run as its own supervised process (`router: {kind: embedded, process:
 * separate}`): a data plane that keeps serving the last routes it was given while the
 * controller is down, as Envoy keeps serving without its control plane. The controller
 * starts `aviary proxy --state <stateDir>/proxy` detached in its own process group, with
 * its output in files (never a pipe it would lose on EPIPE once the controller is gone,
 * ADR 0013), or adopts the one a previous controller left when its recorded pid, start
 * time and admin API (answering our token) all check out. While the controller runs, a
 * proxy that exits is started again on the same admin and listener ports, from its
 * persisted configuration. See docs/adr/0014-supervised-proxy-process.md.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CertificateFiles } from '../config/proxy-schema.js';
import { AviaryError } from '../errors.js';
import { PERSISTED_CONFIG_FILE } from '../proxy/persisted-config.js';
import {
  INSTANCE_FILE,
  isRecordedProcessAlive,
  readInstanceRecord,
  type ProxyInstanceRecord,
} from './proxy-instance.js';

/** The proxy's listener `router`, as `router.kind: embedded` configures it. */
export interface RouterListener {
  readonly name: 'router';
  readonly host: string;
  readonly port: number;
  readonly protocol?: 'http1' | 'http2';
  readonly tls?: CertificateFiles;
}

/** Options of {@link SupervisedProxy.startOrAdopt}. */
export interface SupervisedProxyOptions {
  /** The proxy's own state directory (`<stateDir>/proxy`): persisted config, record, output. */
  readonly dir: string;
  /** Where and how the proxy takes client traffic (`router.host`/`port`/`protocol`/`tls`), as listener `router`. */
  readonly listener: RouterListener;
  /** Admin token. Security: handed to the child in its environment, never on its command line. */
  readonly token: string;
  /** argv that runs the `aviary` CLI: `[node, ...execArgv, script]`. */
  readonly command: readonly string[];
  /** Runs before a fresh start (not an adoption or a restart), e.g. to check the port is free. */
  readonly beforeStart?: () => Promise<void>;
  /** Longest wait for a proxy to start listening. Default 15 s. */
  readonly startTimeoutMs?: number;
}

const POLL_MS = 50;
const SUPERVISE_MS = 250;
const STOP_GRACE_MS = 10_000;

/** True when the admin API at `url` answers `GET /config` with our token. */
async function adminAnswers(url: string, token: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/config`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

function hostPortOf(url: string): string {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port}`;
}

/** One supervised `aviary proxy`; see the module header. */
export class SupervisedProxy {
  #record: ProxyInstanceRecord;
  #closing = false;
  #restarting: Promise<void> | undefined;
  readonly #timer: NodeJS.Timeout;

  private constructor(
    private readonly options: SupervisedProxyOptions,
    record: ProxyInstanceRecord,
    /** True when a previous controller's proxy was adopted rather than started. */
    readonly adopted: boolean,
  ) {
    this.#record = record;
    this.#timer = setInterval(() => void this.#superviseOnce(), SUPERVISE_MS);
    this.#timer.unref();
  }

  /** Adopts the proxy a previous controller left running, or starts one. */
  static async startOrAdopt(options: SupervisedProxyOptions): Promise<SupervisedProxy> {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const previous = await readInstanceRecord(options.dir);
    if (previous !== undefined && (await isRecordedProcessAlive(previous))) {
      if (await adminAnswers(previous.admin, options.token))
        return new SupervisedProxy(options, previous, true);
      // Ours by pid and start time but deaf to our token: not a proxy we can drive.
      throw new AviaryError(
        'AVIARY_ROUTER_CONFIG',
        `the proxy recorded in ${join(options.dir, INSTANCE_FILE)} (pid ${previous.pid}) runs but its admin API ${previous.admin} does not answer this token; stop it or use another state directory`,
      );
    }
    await options.beforeStart?.();
    const record = await startProxy(options, previous);
    return new SupervisedProxy(options, record, false);
  }

  /** `http://host:port` of the proxy's admin API. */
  get adminUrl(): string {
    return this.#record.admin;
  }

  /** `http://host:port` where clients send traffic. */
  get routerUrl(): string {
    return this.#record.listeners.router ?? Object.values(this.#record.listeners)[0] ?? '';
  }

  /** pid of the running proxy. */
  get pid(): number {
    return this.#record.pid;
  }

  async #superviseOnce(): Promise<void> {
    if (this.#closing || this.#restarting) return;
    if (await isRecordedProcessAlive(this.#record)) return;
    this.#restarting = startProxy(this.options, this.#record)
      .then((record) => {
        this.#record = record;
      })
      .catch((err: unknown) => {
        console.error(`aviary: restarting the proxy failed: ${(err as Error).message}`);
      })
      .finally(() => {
        this.#restarting = undefined;
      });
    await this.#restarting;
  }

  /**
   * Stops the proxy (SIGTERM: it drains requests in flight), then forgets its state: the
   * controller stops every replica too, so its routes would lead nowhere. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#timer);
    await this.#restarting;
    await stopRecorded(this.options.dir, this.#record);
  }

  /**
   * Stops the proxy a controller that is gone left in `dir` (checked as its own by pid and
   * start time), and forgets its state. Resolves with its pid, or undefined when none ran.
   */
  static async stopLeftover(dir: string): Promise<number | undefined> {
    const record = await readInstanceRecord(dir);
    if (record === undefined || !(await isRecordedProcessAlive(record))) return undefined;
    await stopRecorded(dir, record);
    return record.pid;
  }
}

/** SIGTERM to the recorded proxy's group (it drains), SIGKILL after the grace; then its files go. */
async function stopRecorded(dir: string, record: ProxyInstanceRecord): Promise<void> {
  if (await isRecordedProcessAlive(record)) {
    signalGroup(record.pid, 'SIGTERM');
    const ends = Date.now() + STOP_GRACE_MS;
    while (Date.now() < ends && (await isRecordedProcessAlive(record))) await sleep(POLL_MS);
    if (await isRecordedProcessAlive(record)) signalGroup(record.pid, 'SIGKILL');
  }
  await rm(join(dir, INSTANCE_FILE), { force: true });
  await rm(join(dir, PERSISTED_CONFIG_FILE), { force: true });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone already
  }
}

/**
 * Starts `aviary proxy` detached, its output appended to `proxy.log`, and waits for the
 * record it writes once listening. A restart (`previous` given) keeps the admin port; the
 * listener ports come back from the persisted configuration.
 */
async function startProxy(
  options: SupervisedProxyOptions,
  previous: ProxyInstanceRecord | undefined,
): Promise<ProxyInstanceRecord> {
  const { dir } = options;
  const bootstrap = join(dir, 'bootstrap.json');
  await writeFile(bootstrap, JSON.stringify({ listeners: [options.listener] }), { mode: 0o600 });
  await rm(join(dir, INSTANCE_FILE), { force: true });
  const [executable, ...prefix] = options.command;
  if (executable === undefined) throw new Error('SupervisedProxy: empty command');
  const args = [
    ...prefix,
    'proxy',
    '--config',
    bootstrap,
    '--admin',
    previous ? hostPortOf(previous.admin) : '127.0.0.1:0',
    '--token-file',
    join(dir, 'token'),
    '--state',
    dir,
  ];
  const log = openSync(join(dir, 'proxy.log'), 'a', 0o600);
  let exited = false;
  const child = (() => {
    try {
      return spawn(executable, args, {
        detached: true,
        stdio: ['ignore', log, log],
        env: { ...process.env, AVIARY_TOKEN: options.token },
      });
    } finally {
      closeSync(log);
    }
  })();
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  child.unref();
  const ends = Date.now() + (options.startTimeoutMs ?? 15_000);
  while (Date.now() < ends && !exited) {
    const record = await readInstanceRecord(dir);
    if (record !== undefined && record.pid === child.pid) return record;
    await sleep(POLL_MS);
  }
  if (!exited && child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  throw new AviaryError(
    'AVIARY_ROUTER_UNAVAILABLE',
    `the proxy process did not start listening${exited ? ' (it exited)' : ''}; see ${join(dir, 'proxy.log')}`,
  );
}
