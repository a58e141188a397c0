/**
 * Release entries run from published artifacts (`releases.artifacts: true`,
 * docs/adr/0023-git-pipelines.md): a real artifact store in a temporary state directory holds
 * the demo's catalogdetail server per tag, the release manager starts each entry with the
 * real process target from its artifact directory, and the built-in proxy routes between
 * them. A tag with no artifact is refused naming the entry, and nothing that runs changes.
 */
import { copyFile, mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { releaseSettingsSchema } from '../../src/config/release-schema.js';
import { artifactStoreRoot, ArtifactStore } from '../../src/pipelines/artifacts/index.js';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { EmbeddedRouter } from '../../src/router/embedded-router.js';
import { ReleaseManager } from '../../src/rollout/releases/release-manager.js';
import { readProcessEnvironment } from '../../src/target/process/process-group.js';
import { ProcessTarget } from '../../src/target/process/process-target.js';
import { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';
import { appSpec } from '../support/rollout-scenario.js';
import { CATALOGDETAIL } from './support.js';

const APP = 'catalogdetail';
const leaks = new ProcessLeakCheck();

let dir: string;
let stateDir: string;
let store: ArtifactStore;
let proxy: ProxyServer;
let target: ProcessTarget;
let manager: ReleaseManager;

/** Publishes a build output holding the demo server (and the tag, so each digest differs). */
async function publish(tag: string, commit: string): Promise<string> {
  const output = join(dir, `build-${tag}`);
  await mkdir(output, { recursive: true });
  await copyFile(CATALOGDETAIL, join(output, 'catalogdetail.js'));
  await writeFile(join(output, 'TAG'), `${tag}\n`);
  const published = await store.publish({ app: APP, tag, commit, buildKey: 'test', fromDir: output });
  return published.dir;
}

/** The pid of the one replica of an entry. */
async function pidOf(entry: string): Promise<number> {
  const pid = (await target.status(`${APP}-${entry}`, 'primary'))?.replicas[0]?.pid;
  if (typeof pid !== 'number') throw new Error(`entry ${entry} has no running replica`);
  return pid;
}

/** Versions that answered `count` requests through the proxy. */
async function versionsAnswering(count: number): Promise<Set<string>> {
  const { port } = proxy.address();
  const seen = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const res = await fetch(`http://127.0.0.1:${port}/catalogDetail`);
    expect(res.status).toBe(200);
    seen.add(((await res.json()) as { version: string }).version);
  }
  return seen;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aviary-release-artifacts-'));
  stateDir = join(dir, 'state');
  store = await ArtifactStore.open(artifactStoreRoot(stateDir));
  proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ name: 'router', port: 0 }] }));
  await proxy.start();
  target = new ProcessTarget({ stateDir: join(stateDir, 'target'), stopGraceMs: 2000 });
  const app = appSpec({
    name: APP,
    path: '/catalogDetail',
    process: {
      command: process.execPath,
      // Relative on purpose: it only resolves in the artifact directory.
      args: ['catalogdetail.js'],
      env: leaks.env,
      readinessProbe: { httpGet: { path: '/ping' }, interval: '100ms' },
    },
    releases: { artifacts: true, env: { VERSION: '${major}', ARTIFACT_DIR: '${artifact}' } },
  });
  manager = new ReleaseManager({
    stateDir,
    target,
    router: new EmbeddedRouter(proxy),
    guard: { claim: () => undefined },
    apps: () => [app],
    resolveArtifact: (app, tag) => store.resolve(app, tag),
    drainMs: 10,
    syncMs: 60_000,
  });
});

afterEach(async () => {
  await manager.close();
  await target.close();
  await proxy.close();
  await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  expect(await leaks.leftovers()).toEqual([]);
});

describe('a release whose app runs from artifacts', () => {
  it('starts each entry from the artifact directory of its tag, and routes to both', async () => {
    const v1Dir = await publish('v1.0.0', 'a'.repeat(40));
    const v2Dir = await publish('v2.0.0', 'b'.repeat(40));
    expect(v1Dir).not.toBe(v2Dir);
    await manager.apply(APP, {
      versions: [
        { name: 'v1', tag: 'v1.0.0', weight: 50 },
        { name: 'v2', tag: 'v2.0.0', weight: 50 },
      ],
    });
    for (const [entry, artifactDir] of [
      ['v1', v1Dir],
      ['v2', v2Dir],
    ] as const) {
      const pid = await pidOf(entry);
      expect(await readlink(`/proc/${pid}/cwd`)).toBe(artifactDir);
      expect((await readProcessEnvironment(pid))?.get('ARTIFACT_DIR')).toBe(artifactDir);
    }
    expect(await versionsAnswering(40)).toEqual(new Set(['1', '2']));
  });

  it('refuses a tag with no artifact, naming the entry, and keeps what runs', async () => {
    await publish('v1.0.0', 'a'.repeat(40));
    await publish('v2.0.0', 'b'.repeat(40));
    await manager.apply(APP, {
      versions: [
        { name: 'v1', tag: 'v1.0.0', weight: 50 },
        { name: 'v2', tag: 'v2.0.0', weight: 50 },
      ],
    });
    const pids = [await pidOf('v1'), await pidOf('v2')];
    const routes = await new EmbeddedRouter(proxy).getRoutes(APP);

    const edit = manager.apply(APP, {
      versions: [
        { name: 'v1', tag: 'v1.0.0', weight: 50 },
        { name: 'v2', tag: 'v3.0.0', weight: 25 },
        { name: 'v4', version: 'v4.0.0', weight: 25 },
      ],
    });
    await expect(edit).rejects.toMatchObject({
      code: 'AVIARY_CONFIG_INVALID',
      issues: [
        {
          path: 'versions[1].tag',
          message: expect.stringContaining(
            'entry "v2": no artifact published for catalogdetail v3.0.0; publish it with a tag push',
          ),
        },
        { path: 'versions[2].version', message: expect.stringContaining('catalogdetail v4.0.0') },
      ],
    });
    expect([await pidOf('v1'), await pidOf('v2')]).toEqual(pids);
    expect(await target.status(`${APP}-v4`, 'primary')).toBeUndefined();
    expect(await new EmbeddedRouter(proxy).getRoutes(APP)).toEqual(routes);
    expect(manager.events(APP).at(-1)).toMatchObject({ reason: 'ReleaseRejected' });
    expect((await manager.view(APP)).versions.map((v) => v.tag)).toEqual(['v1.0.0', 'v2.0.0']);
  });

  it('reports a duplicate name, a negative weight and a tag with no artifact in one file at once', async () => {
    await publish('v1.0.0', 'a'.repeat(40));
    const edit = manager.apply(APP, {
      versions: [
        { name: 'v1', tag: 'v1.0.0', weight: 50 },
        { name: 'v1', tag: 'v1.0.0', weight: -5 },
        { name: 'v9', tag: 'v9.0.0', weight: 50 },
      ],
    });
    await expect(edit).rejects.toMatchObject({
      code: 'AVIARY_CONFIG_INVALID',
      issues: [
        { path: 'versions[1].name', message: expect.stringContaining('duplicate name (also versions[0])') },
        { path: 'versions[1].weight', message: expect.stringContaining('entry "v1"') },
        {
          path: 'versions[2].tag',
          message: expect.stringContaining('no artifact published for catalogdetail v9.0.0'),
        },
      ],
    });
    expect(await manager.view(APP).catch(() => undefined)).toBeUndefined();
  });

  it('refuses every entry when no artifact store is wired in', async () => {
    const unwired = new ReleaseManager({
      stateDir: join(dir, 'unwired'),
      target,
      router: new EmbeddedRouter(proxy),
      guard: { claim: () => undefined },
      apps: () => [appSpec({ name: APP, releases: { artifacts: true } })],
      syncMs: 60_000,
    });
    try {
      await expect(
        unwired.apply(APP, { canaryConfig: [{ name: 'v1', tag: 'v1.0.0', weight: 1 }] }),
      ).rejects.toMatchObject({
        issues: [{ path: 'canaryConfig[0].tag', message: expect.stringContaining('no artifact store') }],
      });
    } finally {
      await unwired.close();
    }
  });
});

describe('releases.artifacts in aviary.yaml', () => {
  it('is off by default, and ${artifact} without it names the template', () => {
    expect(releaseSettingsSchema.parse({}).artifacts).toBe(false);
    const result = releaseSettingsSchema.safeParse({
      args: ['${artifact}/server.js'],
      env: { A: '${artifact}' },
    });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['env.A', 'args.0']);
    expect(
      releaseSettingsSchema.safeParse({ artifacts: true, args: ['${artifact}/server.js'] }).success,
    ).toBe(true);
  });
});
