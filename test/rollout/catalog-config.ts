/**
 * What the rollout integration suites deploy: the demo's catalogdetail app as the process
 * (or a version that crashes at once), and a validated `aviary.yaml` around it with router
 * and control API on port 0.
 */
import { fileURLToPath } from 'node:url';
import {
  parseAviaryConfig,
  type AppSpecInput,
  type AviaryConfig,
  type AviaryConfigInput,
} from '../../src/config/app-schema.js';
import { formatIssues } from '../../src/config/config-error.js';
import { leaks } from './test-cleanup.js';

/** Absolute path of the demo's catalogdetail app (VERSION, FAIL_RATE, EXTRA_LATENCY_MS, COLD_REQUESTS). */
export const CATALOGDETAIL = fileURLToPath(new URL('../../demo/apps/catalogdetail.js', import.meta.url));

/** The app every suite rolls out, exposed on the router under {@link APP_PATH}. */
export const APP = 'catalogdetail';
/** Path prefix of the app on the router. */
export const APP_PATH = '/catalogDetail';
/** Bearer token of the control API in every suite. */
export const TOKEN = 'test-token-0123456789';

/** A process block as a user writes it. */
export type ProcessInput = AppSpecInput['process'];
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

/** An `analysis` block as a user writes it. */
export type AnalysisInput = NonNullable<CanaryInput['analysis']>;

/** The built-in success-rate check of the suites: at least 99 % over 30 s. */
export const SUCCESS_RATE_CHECK = {
  name: 'request-success-rate',
  interval: '30s',
  thresholdRange: { min: 99 },
} as const;

/**
 * A canary block that runs in seconds: analysed every 500 ms, rolled back at 2 failed checks
 * and after 60 s without progress. `analysis` adds the strategy and checks (and may override
 * the threshold).
 */
export function quickCanary(analysis: AnalysisInput, progressDeadlineSeconds = 60): CanaryInput {
  // The judge off unless asked for: these rollouts test the checks they list on little traffic.
  return {
    progressDeadlineSeconds,
    analysis: { interval: '500ms', threshold: 2, judge: false, ...analysis },
  };
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
