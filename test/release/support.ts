/**
 * Fixtures of the release-file suites: the embedded runtime on port 0 running the demo's
 * catalogdetail app, calls to the release endpoints, counting which version answers over a
 * few hundred requests through the router, and polling with a generous deadline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { aviaryConfigSchema } from '../../src/config/app-schema.js';
import { isPidAlive } from '../../src/target/process/process-group.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import type { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';
import { pollFor } from '../support/poll.js';

/** Absolute path of the demo's catalogdetail app. */
export const CATALOGDETAIL = fileURLToPath(new URL('../../demo/apps/catalogdetail.js', import.meta.url));
/** Bearer token of the control API in these suites. */
export const TOKEN = 'release-test-token';
/** Longest wait for any condition; the machine is shared, so this is generous on purpose. */
const DEADLINE_MS = 30_000;

/** A runtime with its state directory, closed by {@link stopRuntime}. */
export interface ReleaseRuntime {
  readonly runtime: Runtime;
  readonly stateDir: string;
  readonly pool: Pool;
}

/** Starts Aviary with one app, `catalogdetail` v1 under the controller, and waits until it answers. */
export async function startCatalogRuntime(leaks: ProcessLeakCheck): Promise<ReleaseRuntime> {
  const stateDir = await mkdtemp(join(tmpdir(), 'aviary-release-e2e-'));
  const config = aviaryConfigSchema.parse({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: 0 },
    api: { port: 0 },
    stateDir,
    apps: [
      {
        name: 'catalogdetail',
        path: '/catalogDetail',
        process: {
          command: process.execPath,
          args: [CATALOGDETAIL],
          env: { VERSION: '1', ...leaks.env },
          readinessProbe: { httpGet: { path: '/ping' }, interval: '100ms' },
        },
      },
    ],
  });
  const runtime = await startRuntime(config, { token: TOKEN, drainMs: 300, maxTickMs: 200 });
  const pool = new Pool(runtime.routerUrl, { connections: 8 });
  await pollUntil(async () => ((await versionsOf(pool, 1)).get('1') === 1 ? true : undefined));
  return { runtime, stateDir, pool };
}

/** Closes the runtime and removes its state directory. */
export async function stopRuntime(started: ReleaseRuntime | undefined): Promise<void> {
  if (!started) return;
  await started.pool.close();
  await started.runtime.close();
  await rm(started.stateDir, { recursive: true, force: true });
}

/** Polls `probe` every 50 ms until it returns a value. */
export function pollUntil<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  return pollFor('a condition', probe, undefined, DEADLINE_MS);
}

/** One request to `/catalogDetail` through the router: the status and the version that answered. */
export async function askVersion(pool: Pool): Promise<{ status: number; version: string | undefined }> {
  const res = await pool.request({ path: '/catalogDetail', method: 'GET' });
  const text = await res.body.text();
  let version: string | undefined;
  try {
    version = (JSON.parse(text) as { version?: string }).version;
  } catch {
    version = undefined;
  }
  return { status: res.statusCode, version };
}

/** Sends `count` requests (8 at a time) and counts answers per version; errors count under `error`. */
export async function versionsOf(pool: Pool, count: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const { status, version } = await askVersion(pool);
      const key = status === 200 && version !== undefined ? version : 'error';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return counts;
}

/** POSTs a release document to the control API. */
export async function postRelease(
  runtime: Runtime,
  app: string,
  document: unknown,
  token = TOKEN,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${runtime.controlUrl}/api/v1/apps/${app}/release`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(document),
  });
  return { status: res.status, body: await res.json() };
}

/** GETs the running release of an app. */
export async function getRelease(runtime: Runtime, app: string): Promise<any> {
  const res = await fetch(`${runtime.controlUrl}/api/v1/apps/${app}/release`);
  return res.json();
}

/** Resolves once `pid` has exited. */
export function waitForExit(pid: number): Promise<true> {
  return pollUntil(async () => ((await isPidAlive(pid)) ? undefined : true));
}
