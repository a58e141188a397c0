/**
 * The demo story, scripted: `frontend` calls `catalogdetail` through Aviary's built-in proxy;
 * catalogdetail v2 is released through an analysed canary and promoted; a faulty v3 (some
 * 500s, slower) is caught and rolled back. Everything runs as local processes.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseOrThrow } from '../config/schema-issues.js';
import { aviaryConfigSchema, type AviaryConfig, type AviaryConfigInput } from '../config/app-schema.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import type { RolloutPhase } from '../rollout/step/rollout-status.js';
import type { Runtime } from '../runtime.js';
import { SupervisedProxy } from '../router/proxy-process.js';
import { ProcessTarget } from '../target/process/process-target.js';
import { TargetError } from '../target/target-error.js';

/** Where the demo apps live, from `src/cli` or `dist/cli`. */
const DEMO_APPS = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo', 'apps');

/** Settings of one demo run. */
export interface DemoSettings {
  readonly stateDir: string;
  readonly routerPort: number;
  readonly apiPort: number;
  /** Short intervals for CI: the whole story in well under a minute. */
  readonly fast: boolean;
}

/** A release of catalogdetail: the env its processes get. */
export type CatalogRelease = Readonly<Record<string, string>>;

/**
 * The demo's judge: decides on tens of canary requests instead of thousands, by accepting
 * more harm before promotion (+5 pp of errors, +100% or +100 ms at p50 and p90) than the
 * defaults do. A regression is still rolled back at the first look that proves it.
 */
const DEMO_JUDGE = {
  minCanaryRequests: 20,
  quantiles: [0.5, 0.9],
  maxHarm: { errorRate: { absolute: 0.05, relative: 10 }, latency: { relative: 1, absoluteMs: 100 } },
};

/** The demo's `aviary.yaml` for one catalogdetail release. */
export function demoConfigInput(settings: DemoSettings, release: CatalogRelease): AviaryConfigInput {
  const interval = settings.fast ? 1000 : 4000;
  const metricInterval = settings.fast ? '3s' : '12s';
  const probe = { httpGet: { path: '/ping' }, interval: '500ms', failureThreshold: 3 };
  return {
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: settings.routerPort },
    api: { port: settings.apiPort },
    stateDir: settings.stateDir,
    minAnalysisInterval: interval,
    apps: [
      {
        name: 'catalogdetail',
        path: '/catalogDetail',
        process: {
          command: process.execPath,
          args: [join(DEMO_APPS, 'catalogdetail.js')],
          env: release,
          readinessProbe: probe,
        },
        canary: {
          // Room for the judge to gather evidence on a loaded machine (a CI runner shares its cores).
          progressDeadlineSeconds: settings.fast ? 90 : 180,
          service: {
            timeout: '15s',
            retries: { attempts: 3, perTryTimeout: '5s', retryOn: 'gateway-error,connect-failure' },
          },
          analysis: {
            interval,
            // Flagger's count of failed checks; the judge usually rolls a bad version back first.
            threshold: 5,
            maxWeight: 50,
            stepWeight: 10,
            // The judge, on by default, tuned for a story told in about a minute on ~4 canary
            // requests a second: its defaults bound the canary's harm to +0.5 pp of errors
            // before promotion, which takes thousands of canary requests (docs/adr/0015).
            judge: DEMO_JUDGE,
            metrics: [
              {
                name: 'request-success-rate',
                interval: metricInterval,
                thresholdRange: { min: 99 },
                minRequests: 10,
              },
              {
                name: 'request-duration',
                interval: metricInterval,
                thresholdRange: { max: 500 },
                minRequests: 10,
              },
            ],
          },
        },
      },
      {
        name: 'frontend',
        path: '/',
        process: {
          command: process.execPath,
          args: [join(DEMO_APPS, 'frontend.js')],
          env: { BASE_URL: `http://127.0.0.1:${settings.routerPort}/catalogDetail/` },
          readinessProbe: probe,
        },
        canary: { skipAnalysis: true },
      },
    ],
  };
}

/** Validates the demo config (it is code, but it goes through the same schema as a user's file). */
export function demoConfig(settings: DemoSettings, release: CatalogRelease): AviaryConfig {
  return parseOrThrow(aviaryConfigSchema, demoConfigInput(settings, release), 'demo configuration');
}

/**
 * The least time the story can take, in whole seconds, read off the demo's configuration:
 * one analysis interval for each of v2's steps to maxWeight, its promotion and its
 * finalising, and one for v3's first step. The judge's evidence and the processes' start
 * add to it; the demo says so when it starts and prints how long the story took.
 */
export function storyMinimumSeconds(settings: DemoSettings): number {
  const catalog = demoConfig(settings, {}).apps.find((app) => app.name === 'catalogdetail');
  if (catalog === undefined) throw new Error('the demo configuration has no catalogdetail');
  const { interval, stepWeight, maxWeight } = catalog.canary.analysis;
  const steps = Math.ceil(maxWeight / (stepWeight ?? maxWeight));
  return Math.round(((steps + 2 + 1) * interval) / 1000);
}

/**
 * Writes the demo's config where the user can read and edit it, starting from a clean state
 * dir. The processes an earlier demo left running (it was killed before it could stop them)
 * are stopped first: once their registry is deleted, nothing could find them again.
 */
export async function prepareDemoDir(settings: DemoSettings, release: CatalogRelease): Promise<string> {
  await stopEarlierDemo(settings.stateDir);
  await rm(settings.stateDir, { recursive: true, force: true });
  await mkdir(settings.stateDir, { recursive: true, mode: 0o700 });
  const file = join(settings.stateDir, 'aviary.yaml');
  await writeDemoConfig(file, settings, release);
  return file;
}

/**
 * Writes the demo's config for `release` to `file`: the file always shows what runs, so an
 * edit the user saves starts from it (the demo applies saves once its story is told).
 */
export async function writeDemoConfig(
  file: string,
  settings: DemoSettings,
  release: CatalogRelease,
): Promise<void> {
  await writeFile(
    file,
    `# Written by \`aviary demo\`; saves are applied while it runs. Run it yourself with \`aviary up -f ${file}\`.\n${stringify(demoConfigInput(settings, release))}`,
  );
}

/**
 * Stops what an earlier demo on `stateDir` left running, after checking each process is
 * its own (process-recovery.ts). Refuses, through `AVIARY_TARGET_STATE_DIR_IN_USE`, while
 * that demo still runs: wiping its directory would orphan its processes.
 */
async function stopEarlierDemo(stateDir: string): Promise<void> {
  try {
    // The process target's directory, as runtime.ts names it.
    const stopped = await ProcessTarget.stopLeftovers(join(stateDir, 'processes'));
    if (stopped.length > 0)
      console.log(`aviary demo: stopped ${stopped.length} processes an earlier demo left running`);
    // The router's own process, as router-registry.ts places it.
    const proxy = await SupervisedProxy.stopLeftover(join(stateDir, 'proxy'));
    if (proxy !== undefined)
      console.log(`aviary demo: stopped the router process ${proxy} an earlier demo left running`);
  } catch (error) {
    if (!(error instanceof TargetError) || error.code !== 'AVIARY_TARGET_STATE_CORRUPT') throw error;
    console.error(`aviary demo: ${error.message}`);
  }
}

/** Resolves when `app` reaches one of `phases`; rejects after `timeoutMs`, or when `signal` aborts. */
export function waitForPhase(
  runtime: Runtime,
  app: string,
  phases: readonly RolloutPhase[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RolloutPhase> {
  return new Promise((resolvePhase, reject) => {
    const onAbort = (): void => {
      cleanup();
      reject(new Error(`stopped before ${app} reached ${phases.join(' or ')}`));
    };
    const check = (): boolean => {
      const phase = runtime.controller.view(app).status?.phase;
      if (phase !== undefined && phases.includes(phase)) {
        cleanup();
        resolvePhase(phase);
        return true;
      }
      return false;
    };
    const onStatus = (): void => void check();
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${app} did not reach ${phases.join(' or ')} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      runtime.controller.off('status', onStatus);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted === true) return onAbort();
    runtime.controller.on('status', onStatus);
    signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** One line per rollout event: time, app, weight bar, reason and message. */
export function formatEvent(event: RolloutEventRecord, color: boolean): string {
  const time = new Date(event.at).toISOString().slice(11, 19);
  const filled = Math.round(event.canaryWeight / 10);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(10 - filled)}`;
  const reason = color && event.severity === 'warning' ? `\u001b[33m${event.reason}\u001b[0m` : event.reason;
  return `${time}  ${event.app.padEnd(13)} ${bar} ${String(event.canaryWeight).padStart(3)}%  ${reason}: ${event.message}`;
}
