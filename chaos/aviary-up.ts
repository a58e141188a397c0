/**
 * The shipped product as the chaos scenarios drive it: the built `bin/aviary.js up` as a
 * child process of the run (crashed with SIGKILL, stopped with SIGTERM), its control API,
 * and its state directory read as a restart reads it. Nothing here re-implements Aviary.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RolloutEventRecord } from '../src/rollout/controller/action-executor.js';
import type { PersistedRollout } from '../src/rollout/controller/app-record.js';
import { StateJournal, type StoredState } from '../src/rollout/state/state-journal.js';
import type { ChaosProcess, RunScope } from './run-scope.js';
import type { RunContext } from './scenario.js';
import { waitUntil } from './waiting.js';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../', import.meta.url));
/** The built CLI (`npm run build`). */
export const AVIARY_BIN = join(REPO, 'bin', 'aviary.js');
/** The demo's catalogdetail app: answers `{"version": VERSION}` on /catalogDetail. */
export const CATALOGDETAIL = join(REPO, 'demo', 'apps', 'catalogdetail.js');
/** Bearer token of the control API in every scenario. */
export const TOKEN = 'chaos-token-0123456789abcdef';

/** A running `aviary up` with the addresses it printed. */
export interface UpProcess extends ChaosProcess {
  readonly routerUrl: string;
  readonly controlUrl: string;
}

/**
 * Starts `aviary up -f file` in `scope` (with `env` added to its environment, which its
 * supervised proxy inherits) and waits until it prints its router and control API addresses.
 */
export async function startUp(
  scope: RunScope,
  file: string,
  signal: AbortSignal,
  env: Record<string, string> = {},
): Promise<UpProcess> {
  const up = scope.spawn(process.execPath, [AVIARY_BIN, 'up', '-f', file], { ...env, AVIARY_TOKEN: TOKEN });
  const urls = await waitUntil(
    'aviary up to print its addresses',
    () => {
      if (up.hasExited()) throw new Error(`aviary up exited:\n${up.output()}`);
      const router = /router on (http:\/\/\S+)/.exec(up.output())?.[1];
      const control = /control API and dashboard on (http:\/\/\S+)/.exec(up.output())?.[1];
      return router && control ? { router, control } : undefined;
    },
    signal,
    up.output,
  );
  return { ...up, routerUrl: urls.router, controlUrl: urls.control };
}

/** SIGKILL of the controller process alone, as a crash: its proxy and replicas live on. */
export async function crash(up: ChaosProcess): Promise<void> {
  try {
    process.kill(up.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await up.exited;
}

/** SIGTERM, as an operator stops it; answers the exit code (null when killed by a signal). */
export async function stopGracefully(up: ChaosProcess): Promise<number | null> {
  if (!up.hasExited()) process.kill(up.pid, 'SIGTERM');
  await up.exited;
  return up.child.exitCode;
}

/** Checks, within 15 s, that every process of the run has exited. */
export async function checkNothingLeftBehind(context: RunContext, signal: AbortSignal): Promise<void> {
  const { scope } = context;
  const gone = await waitUntil(
    'every process of the run to exit',
    async () => ((await scope.alive()).length === 0 ? true : undefined),
    signal,
    undefined,
    15_000,
  ).catch(() => false);
  context.check('a graceful stop leaves nothing behind', gone, `alive: ${(await scope.alive()).join(', ')}`);
}

/** Stops `up` as an operator does (SIGTERM), checks it exits 0, then {@link checkNothingLeftBehind}. */
export async function checkGracefulStop(
  context: RunContext,
  up: ChaosProcess,
  signal: AbortSignal,
): Promise<void> {
  const exitCode = await stopGracefully(up);
  context.check('aviary up stops with exit code 0', exitCode === 0, `exit code ${exitCode}`);
  await checkNothingLeftBehind(context, signal);
}

/** GET of a control API path as JSON; undefined when it does not answer 200. */
export async function getJson(up: UpProcess, path: string, signal?: AbortSignal): Promise<any> {
  const response = await fetch(`${up.controlUrl}${path}`, signal ? { signal } : {});
  if (response.status !== 200) {
    await response.body?.cancel();
    return undefined;
  }
  return response.json();
}

/** POST of a JSON body with the token; answers status and body. */
export async function postJson(
  up: UpProcess,
  path: string,
  body: unknown,
  signal?: AbortSignal,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${up.controlUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, body: parsed };
}

/** The rollout of `app` as the control API answers it. */
export function rolloutOf(up: UpProcess, app: string, signal?: AbortSignal): Promise<any> {
  return getJson(up, `/api/v1/rollouts/${app}`, signal);
}

/**
 * Waits until the rollout of `app` is in one of `phases` and answers it: `['Initialized']`
 * after a first start, `['Succeeded', 'Failed']` for the end of a rollout.
 */
export function rolloutInPhase(
  up: UpProcess,
  app: string,
  phases: readonly string[],
  signal: AbortSignal,
  timeoutMs?: number,
): Promise<any> {
  return waitUntil(
    `${app} to be ${phases.join(' or ')}`,
    async () => {
      const r = await rolloutOf(up, app, signal);
      return phases.includes(r?.status?.phase) ? r : undefined;
    },
    signal,
    up.output,
    timeoutMs,
  );
}

/** Waits until the canary of `app` takes at least `weight` % of the traffic. */
export function canaryWeightAtLeast(
  up: UpProcess,
  app: string,
  weight: number,
  signal: AbortSignal,
): Promise<true> {
  return waitUntil(
    `canary weight ${weight}`,
    async () => ((await rolloutOf(up, app, signal))?.status?.canaryWeight >= weight ? true : undefined),
    signal,
    up.output,
  );
}

/** The events of `app` as the control API answers them. */
export async function eventsOf(
  up: UpProcess,
  app: string,
  signal?: AbortSignal,
): Promise<RolloutEventRecord[]> {
  return ((await getJson(up, `/api/v1/rollouts/${app}/events`, signal)) ?? []) as RolloutEventRecord[];
}

/** The rollout state of `app` in `stateDir` as a restart reads it (the product's journal reader; never writes). */
export function readPersisted(
  stateDir: string,
  app: string,
): Promise<StoredState<PersistedRollout, RolloutEventRecord> | undefined> {
  return new StateJournal<PersistedRollout, RolloutEventRecord>(join(stateDir, 'rollouts')).load(app);
}
