/**
 * Every app is visible, whoever runs it: after a release file takes `catalogdetail` over from
 * the rollout controller, the control API's rollout list, `aviary status`, `aviary get
 * events`, the event stream and the dashboard (in Chromium, when installed) show it with its
 * versions and weights, its drain and stop events, and the history it had before.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';
import { ensureBuilt, runCli } from '../cli/cli-support.js';
import { pollUntil, postRelease, startCatalogRuntime, stopRuntime, type ReleaseRuntime } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const leaks = new ProcessLeakCheck();
let started: ReleaseRuntime | undefined;

const v1 = { name: 'backend-v1', tag: 'v1.0.0', weight: 50 };
const v2 = { name: 'backend-v2', tag: 'v2.0.0', weight: 50 };

function controlUrl(): string {
  if (!started) throw new Error('runtime not started');
  return started.runtime.controlUrl;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${controlUrl()}${path}`);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

interface ListedApp {
  app: string;
  kind?: string;
  phase?: string;
  release?: { versions: { name: string; weight: number }[] };
}

/** Reads the control API's event stream until `done` holds for the text read so far. */
async function readStream(done: (text: string) => boolean, until: Promise<unknown>): Promise<string> {
  const stop = new AbortController();
  const res = await fetch(`${controlUrl()}/api/v1/events/stream`, { signal: stop.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    await until;
    while (!done(text)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      text += value;
    }
  } finally {
    stop.abort();
  }
  return text;
}

beforeAll(async () => {
  await ensureBuilt();
  started = await startCatalogRuntime(leaks);
}, 240_000);

afterAll(async () => {
  await stopRuntime(started);
  expect(await leaks.leftovers()).toEqual([]);
});

describe('apps run from a release file', () => {
  it('are listed, with their versions, weights and history, by the API, status, get events and the stream', async () => {
    const earlier = await pollUntil(async () => {
      const events = await getJson<{ app: string; reason: string }[]>('/api/v1/events');
      return events.length > 0 ? events : undefined;
    });
    expect((await postRelease(started!.runtime, 'catalogdetail', { versions: [v1, v2] })).status).toBe(200);

    const listed = await getJson<ListedApp[]>('/api/v1/rollouts');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ app: 'catalogdetail', kind: 'release', phase: 'Released' });
    expect(listed[0]!.release!.versions.map((v) => [v.name, v.weight])).toEqual([
      ['backend-v1', 50],
      ['backend-v2', 50],
    ]);
    expect(await getJson<ListedApp>('/api/v1/rollouts/catalogdetail')).toMatchObject({ kind: 'release' });

    const status = await runCli(['status', '--api', controlUrl()]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/catalogdetail\s+Released\s+backend-v1 50% · backend-v2 50%/);
    expect(status.stdout).toContain('backend-v1 v1.0.0, backend-v2 v2.0.0');

    // Removing v2 drains it and stops it; the stream carries both events and the new status.
    const removal = postRelease(started!.runtime, 'catalogdetail', { versions: [{ ...v1, weight: 100 }] });
    const stream = await readStream(
      (text) => text.includes('VersionsStopped') && /"kind":"release"/.test(text),
      removal,
    );
    expect((await removal).status).toBe(200);
    expect(stream).toMatch(/event: event\ndata: .*"reason":"Draining"/);
    expect(stream).toMatch(/event: status\ndata: .*"kind":"release"/);

    const events = await runCli(['get', 'events', 'catalogdetail', '--api', controlUrl()]);
    expect(events.code).toBe(0);
    for (const reason of [
      'ReleaseApplied',
      'HandedOver',
      'Draining',
      'RemovedFromRouting',
      'VersionsStopped',
    ])
      expect(events.stdout).toContain(reason);
    // The history from before the release file took the app over is still there.
    expect(events.stdout).toContain(earlier[0]!.reason);
    const all = await runCli(['get', 'events', '--api', controlUrl()]);
    expect(all.stdout).toContain('VersionsStopped');
    expect(all.stdout).toContain(earlier[0]!.reason);

    const watch = await runCli(['watch', '--once', '--api', controlUrl()]);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(/catalogdetail\s+Released[\s\S]*backend-v1 100%/);
  });

  it.skipIf(!existsSync(CHROMIUM))('are drawn on the dashboard with their versions', async () => {
    const profile = await mkdtemp(join(tmpdir(), 'aviary-chromium-release-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    try {
      const page = await context.newPage();
      await page.goto(`${controlUrl()}/`);
      const card = page.locator('article[data-app="catalogdetail"]');
      await card.locator('[data-role="phase"]', { hasText: 'Released' }).waitFor();
      expect(await card.locator('.bar-labels').innerText()).toContain('backend-v1 v1.0.0 100');
      expect(await page.locator('#apps > .empty').count()).toBe(0);
      await page.locator('#events', { hasText: 'VersionsStopped' }).waitFor();
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
