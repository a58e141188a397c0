/**
 * Shared fixtures of the rollout integration suites: an embedded runtime started on port 0
 * with a temporary state directory, the seed's catalogdetail app as the process, a bounded
 * keep-alive traffic generator, loopback webhook/alert receivers, polling with generous
 * deadlines, and a leak check proving every process a test started has exited.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { afterEach, expect } from 'vitest';
import {
  parseAviaryConfig,
  type AppSpecInput,
  type AviaryConfig,
  type AviaryConfigInput,
} from '../../src/config/app-schema.js';
import { formatIssues } from '../../src/config/config-error.js';
import type { RolloutEventRecord } from '../../src/rollout/action-executor.js';
import type { RolloutView } from '../../src/rollout/controller.js';
import type { RolloutPhase } from '../../src/rollout/rollout-status.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';
import { pollFor } from '../support/poll.js';

/** Absolute path of the seed's catalogdetail app (VERSION, FAIL_RATE, EXTRA_LATENCY_MS). */
export const CATALOGDETAIL = fileURLToPath(new URL('../../demo/apps/catalogdetail.js', import.meta.url));

/** The app every suite rolls out, exposed on the router under {@link APP_PATH}. */
export const APP = 'catalogdetail';
/** Path prefix of the app on the router. */
export const APP_PATH = '/catalogDetail';
/** Bearer token of the control API in every suite. */
export const TOKEN = 'test-token-0123456789';
/** Longest wait for any condition: the machine is shared, so this is generous on purpose. */
export const DEADLINE_MS = 60_000;
/** Timeout of one test: room for a few waits of {@link DEADLINE_MS}, so a failure names its wait. */
export const TEST_TIMEOUT_MS = 180_000;

/** Marks every process a test file starts, so leftovers can be found and killed. */
export const leaks = new ProcessLeakCheck();

const cleanups: (() => Promise<void> | void)[] = [];

/** Runs `fn` after the current test, most recent first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

afterEach(async () => {
  const errors: unknown[] = [];
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0] as Error;
  // Every process the test started must be gone once its runtime is closed.
  expect(await leaks.leftovers()).toEqual([]);
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(prefix = 'aviary-rollout-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

type ProcessInput = AppSpecInput['process'];
/** A canary block as a user writes it. */
export type CanaryInput = NonNullable<AppSpecInput['canary']>;

/** catalogdetail answering `{"version": version}`; `env` adds FAIL_RATE and the like. */
export function catalogProcess(version: string, env: Record<string, string> = {}): ProcessInput {
  return {
    command: process.execPath,
    args: [CATALOGDETAIL],
    env: { VERSION: version, ...env, ...leaks.env },
    readinessProbe: { httpGet: { path: '/ping' }, interval: '100ms', failureThreshold: 2 },
  };
}

/** A version that exits with code 1 as soon as it starts. */
export function crashingProcess(): ProcessInput {
  return { command: process.execPath, args: ['-e', 'process.exit(1)'], env: { ...leaks.env } };
}

/** The catalogdetail app with `process` and `canary`. */
export function catalogApp(process: ProcessInput, canary: CanaryInput): AppSpecInput {
  return { name: APP, path: APP_PATH, process, canary };
}

/**
 * A validated `aviary.yaml` with router and API on port 0, `stateDir`, and
 * `minAnalysisInterval: 200ms` so analyses run in seconds.
 */
export function testConfig(
  stateDir: string,
  apps: readonly AppSpecInput[],
  extra: Partial<AviaryConfigInput> = {},
): AviaryConfig {
  const result = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: 0 },
    api: { port: 0 },
    stateDir,
    minAnalysisInterval: '200ms',
    apps,
    ...extra,
  });
  if (!result.ok) throw new Error(`test config rejected:\n${formatIssues(result.issues)}`);
  return result.value;
}

/** A runtime under test and shortcuts into its rollout of {@link APP}. */
export interface TestRuntime {
  readonly runtime: Runtime;
  readonly stateDir: string;
  /** Applies `process` (and optionally a new canary block) as a new configuration. */
  deploy(process: ProcessInput, canary?: CanaryInput): void;
  /** Phase at the end of the last completed tick. */
  phase(): RolloutPhase | undefined;
  events(reason?: string): RolloutEventRecord[];
  /** Polls until the rollout is in `phase`; fails with the last events when it never gets there. */
  waitForPhase(phase: RolloutPhase): Promise<void>;
  /** Pids of a role's replicas as the target reports them now. */
  pids(role: 'primary' | 'canary'): Promise<number[]>;
}

/** Starts the embedded runtime for catalogdetail running `version` with `canary`; closed after the test. */
export async function startTestRuntime(
  version: ProcessInput,
  canary: CanaryInput,
  extra: Partial<AviaryConfigInput> = {},
): Promise<TestRuntime> {
  const stateDir = await tempDir();
  let config = testConfig(stateDir, [catalogApp(version, canary)], extra);
  const runtime = await startRuntime(config, { token: TOKEN, drainMs: 200, maxTickMs: 250 });
  onCleanup(() => runtime.close());
  const settledPhase = watchSettledPhase(runtime);
  let lastCanary = canary;
  const test: TestRuntime = {
    runtime,
    stateDir,
    deploy(next, nextCanary = lastCanary) {
      lastCanary = nextCanary;
      config = testConfig(stateDir, [catalogApp(next, nextCanary)], extra);
      runtime.update(config);
    },
    phase: settledPhase,
    events: (reason) =>
      runtime.controller.events(APP).filter((e) => reason === undefined || e.reason === reason),
    async waitForPhase(phase) {
      await waitFor(
        `rollout in phase ${phase}`,
        () => (test.phase() === phase ? true : undefined),
        () => describeRollout(test),
      );
    },
    async pids(role) {
      const status = await runtime.target.status(APP, role);
      return (status?.replicas ?? []).flatMap((replica) => (replica.pid === null ? [] : [replica.pid]));
    },
  };
  return test;
}

/**
 * The phase of {@link APP} as of the end of the last tick, when its actions have run and its
 * events are recorded (controller.view() shows a tick's new phase while its actions still run).
 */
export function watchSettledPhase(runtime: Runtime): () => RolloutPhase | undefined {
  let settled: RolloutView | undefined;
  runtime.controller.on('status', (view: RolloutView) => {
    if (view.app === APP) settled = view;
  });
  return () => settled?.status?.phase;
}

/** Phase, weight and the last events, for failure messages. */
export function describeRollout(test: Pick<TestRuntime, 'phase' | 'events'>): string {
  const recent = test
    .events()
    .slice(-8)
    .map((e) => `  ${e.reason} [${e.phase} ${e.canaryWeight}%]: ${e.message}`);
  return `phase ${String(test.phase())}; last events:\n${recent.join('\n')}`;
}

/** {@link pollFor} with the rollout tests' deadline. */
export function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  describe?: () => string,
  timeoutMs = DEADLINE_MS,
): Promise<T> {
  return pollFor(what, probe, describe, timeoutMs);
}

/** True once `pid` no longer exists (`kill(pid, 0)` throws ESRCH). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Waits until every pid in `pids` is gone. */
export function waitUntilGone(pids: readonly number[]): Promise<true> {
  return waitFor(
    `processes ${pids.join(', ')} to exit`,
    () => (pids.every(isGone) ? true : undefined),
    () => `still alive: ${pids.filter((pid) => !isGone(pid)).join(', ')}`,
  );
}

/** One request of the traffic generator. */
export interface Sample {
  /** Which client sent it (see {@link TrafficClient.tag}). */
  readonly tag: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** HTTP status, 0 when the request failed without an answer. */
  readonly status: number;
  /** `version` of the JSON answer, null when there was none. */
  readonly version: string | null;
  readonly error?: string;
}

/** One concurrent client of a {@link TrafficLoop}. */
export interface TrafficClient {
  readonly tag: string;
  readonly headers?: Record<string, string>;
}

/**
 * A bounded traffic generator: each client sends GET requests one after another over a
 * keep-alive connection, pausing `pauseMs` between them, until `stop()` or `maxMs`.
 */
export class TrafficLoop {
  readonly samples: Sample[] = [];
  readonly #pool: Pool;
  readonly #done: Promise<void>;
  #stopped = false;
  #closed: Promise<void> | undefined;

  private constructor(
    origin: string,
    path: string,
    clients: readonly TrafficClient[],
    pauseMs: number,
    maxMs: number,
  ) {
    this.#pool = new Pool(origin, { connections: clients.length, keepAliveTimeout: 30_000 });
    const until = Date.now() + maxMs;
    this.#done = Promise.all(clients.map((client) => this.#run(path, client, pauseMs, until))).then(
      () => undefined,
    );
  }

  /** Starts the loop against `origin` (e.g. `runtime.routerUrl`); stopped after the test at the latest. */
  static start(
    origin: string,
    options: { path?: string; clients?: readonly TrafficClient[]; pauseMs?: number; maxMs?: number } = {},
  ): TrafficLoop {
    const loop = new TrafficLoop(
      origin,
      options.path ?? APP_PATH,
      options.clients ?? [{ tag: 'plain' }, { tag: 'plain' }],
      options.pauseMs ?? 5,
      options.maxMs ?? 100_000,
    );
    onCleanup(() => loop.stop());
    return loop;
  }

  async #run(path: string, client: TrafficClient, pauseMs: number, until: number): Promise<void> {
    while (!this.#stopped && Date.now() < until) {
      const startedAt = Date.now();
      try {
        const response = await this.#pool.request({
          path,
          method: 'GET',
          ...(client.headers ? { headers: client.headers } : {}),
        });
        const text = await response.body.text();
        this.samples.push({
          tag: client.tag,
          startedAt,
          endedAt: Date.now(),
          status: response.statusCode,
          version: versionOf(text),
        });
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        this.samples.push({
          tag: client.tag,
          startedAt,
          endedAt: Date.now(),
          status: 0,
          version: null,
          error: code,
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /** Samples that started at or after `from` (ms) and before `to`. */
  between(from: number, to = Infinity, tag?: string): Sample[] {
    return this.samples.filter(
      (s) => s.startedAt >= from && s.startedAt < to && (tag === undefined || s.tag === tag),
    );
  }

  /** Waits until at least `count` more samples than now have arrived. */
  async more(count: number): Promise<void> {
    const target = this.samples.length + count;
    await waitFor(`${count} more requests`, () => (this.samples.length >= target ? true : undefined));
  }

  /** Stops sending and waits for requests in flight. Idempotent. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#closed ??= this.#done.then(() => this.#pool.close());
    return this.#closed;
  }
}

function versionOf(text: string): string | null {
  try {
    const body = JSON.parse(text) as { version?: unknown };
    return typeof body.version === 'string' ? body.version : null;
  } catch {
    return null;
  }
}

/** Counts samples by version, e.g. `{"1": 120, "2": 14}`. */
export function countByVersion(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[String(s.version)] = (counts[String(s.version)] ?? 0) + 1;
  return counts;
}

/** Samples that were not a 2xx answer. */
export function failures(samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => s.status < 200 || s.status >= 300);
}

/** A loopback HTTP receiver of webhooks or alerts, recording JSON bodies. */
export interface Receiver {
  readonly url: string;
  readonly bodies: unknown[];
}

/** Starts a receiver answering `status` (or what `answer` returns); closed after the test. */
export async function startReceiver(answer: number | ((body: unknown) => number) = 200): Promise<Receiver> {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      bodies.push(body);
      const status = typeof answer === 'number' ? answer : answer(body);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'receiver says no' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, bodies };
}
