/**
 * The two demo apps (demo/apps/) on a real embedded runtime for the dashboard tests: `frontend`
 * (path /) calling `catalogdetail` (path /catalogDetail) through the proxy, a traffic loop
 * on the frontend, and an analysed canary for catalogdetail that holds for lack of data, so
 * a release stays Progressing long enough to be watched and aborted. Options replace
 * catalogdetail's analysis and give a version faults (demo/apps/catalogdetail.js's FAIL_RATE,
 * EXTRA_LATENCY_MS).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAviaryConfig, type AppSpecInput, type AviaryConfig } from '../../src/config/app-schema.js';
import { formatIssues } from '../../src/config/config-error.js';
import type { RolloutView } from '../../src/rollout/controller/controller.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { findFreePort } from '../../src/target/process/free-port.js';
import { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';

const CATALOGDETAIL = fileURLToPath(new URL('../../demo/apps/catalogdetail.js', import.meta.url));
const FRONTEND = fileURLToPath(new URL('../../demo/apps/frontend.js', import.meta.url));

/** Bearer token of the control API under test. */
export const TOKEN = 'dashboard-test-token';
/** `minRequests` of catalogdetail's request-duration check: more than a test ever sends. */
export const INSUFFICIENT_MIN_REQUESTS = 1_000_000;
/** Longest wait for any condition; generous because the machine is shared. */
export const DEADLINE_MS = 30_000;

/** A running demo and what the test needs from it. */
export interface DemoRuntime {
  readonly runtime: Runtime;
  readonly leaks: ProcessLeakCheck;
  /** Releases catalogdetail `version` (a changed process spec: a new revision, an analysed canary). */
  release(version: string): void;
  view(app: string): RolloutView;
  /** Stops traffic, closes the runtime, removes the state directory. */
  close(): Promise<void>;
}

/** What a test changes in the demo. */
export interface DemoOptions {
  /** catalogdetail's `canary.analysis`; default: the threshold checks described below. */
  readonly analysis?: NonNullable<AppSpecInput['canary']>['analysis'];
  /** Extra environment of catalogdetail at `version`, e.g. `{ FAIL_RATE: '0.5' }`. */
  readonly env?: (version: string) => Readonly<Record<string, string>>;
}

function config(
  stateDir: string,
  routerPort: number,
  version: string,
  leaks: ProcessLeakCheck,
  options: DemoOptions,
): AviaryConfig {
  const probe = { httpGet: { path: '/ping' }, interval: '100ms' };
  const apps: AppSpecInput[] = [
    {
      name: 'frontend',
      path: '/',
      process: {
        command: process.execPath,
        args: [FRONTEND],
        env: { BASE_URL: `http://127.0.0.1:${routerPort}/catalogDetail/`, ...leaks.env },
        readinessProbe: probe,
      },
    },
    {
      name: 'catalogdetail',
      path: '/catalogDetail',
      process: {
        command: process.execPath,
        args: [CATALOGDETAIL],
        env: { VERSION: version, ...options.env?.(version), ...leaks.env },
        readinessProbe: probe,
      },
      canary: {
        // The duration check asks for more requests than the test sends, so it never has enough
        // data: the canary holds at its first step (InsufficientData events, with evidence) and
        // stays Progressing until aborted.
        analysis: options.analysis ?? {
          interval: '3s',
          threshold: 5,
          maxWeight: 50,
          stepWeight: 5,
          metrics: [
            { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '10s' },
            {
              name: 'request-duration',
              thresholdRange: { max: 500 },
              interval: '10s',
              minRequests: INSUFFICIENT_MIN_REQUESTS,
            },
          ],
        },
      },
    },
  ];
  const result = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: routerPort },
    api: { port: 0 },
    stateDir,
    minAnalysisInterval: '200ms',
    apps,
  });
  if (!result.ok) throw new Error(`demo config rejected:\n${formatIssues(result.issues)}`);
  return result.value;
}

/** Keeps two requests in flight to the frontend until `signal` aborts. */
async function trafficLoop(url: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    // One signal per request: fetch's listener on a signal goes only when its Request is
    // collected, so thousands of fast requests on one shared signal would pile them up.
    const request = new AbortController();
    const stop = () => request.abort();
    signal.addEventListener('abort', stop);
    try {
      const response = await fetch(url, { signal: request.signal });
      await response.arrayBuffer();
    } catch {
      // Refused while starting, or aborted at the end: keep going or stop below.
    } finally {
      signal.removeEventListener('abort', stop);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Polls `probe` every 100 ms until it returns a value; throws naming `what` after the deadline. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  describe: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts the demo with catalogdetail v1 and traffic; resolves once both apps are Initialized. */
export async function startDemoRuntime(options: DemoOptions = {}): Promise<DemoRuntime> {
  const leaks = new ProcessLeakCheck();
  const stateDir = await mkdtemp(join(tmpdir(), 'aviary-dashboard-'));
  const routerPort = await findFreePort();
  const runtime = await startRuntime(config(stateDir, routerPort, '1', leaks, options), {
    token: TOKEN,
    drainMs: 200,
    maxTickMs: 250,
  });
  const traffic = new AbortController();
  const loops = [0, 1].map(() => trafficLoop(`${runtime.routerUrl}/`, traffic.signal));
  const demo: DemoRuntime = {
    runtime,
    leaks,
    release: (version) => runtime.update(config(stateDir, routerPort, version, leaks, options)),
    view: (app) => runtime.controller.view(app),
    async close() {
      traffic.abort();
      await Promise.all(loops);
      await runtime.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  try {
    for (const app of ['frontend', 'catalogdetail']) {
      await waitFor(`${app} Initialized`, () =>
        demo.view(app).status?.phase === 'Initialized' ? true : undefined,
      );
    }
  } catch (error) {
    await demo.close();
    throw error;
  }
  return demo;
}
