/**
 * The release manager's decisions, observed through seams it is given: the in-memory target
 * (readiness chosen per tag), a router that records every call, and a controller stand-in.
 * The order of router and target calls is the contract: traffic leaves before processes stop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppSpec } from '../../src/config/app-schema.js';
import { ConfigError } from '../../src/config/config-error.js';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { releaseSettingsSchema } from '../../src/config/release-schema.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { EmbeddedRouter } from '../../src/router/embedded-router.js';
import type { AppRouteSpec, RouteState, TrafficRouter } from '../../src/router/traffic-router.js';
import { ReleaseManager, type ReleaseControllerPort } from '../../src/rollout/releases/release-manager.js';
import { ReleaseRouterGuard } from '../../src/rollout/releases/release-router-guard.js';
import { appSpec } from '../support/rollout-scenario.js';
import { InMemoryTarget } from '../fakes/in-memory-target.js';
import type { VersionRole } from '../../src/target/target.js';
import type { ProcessSpec } from '../../src/target/process/version-spec.js';

class RecordingRouter implements TrafficRouter {
  readonly kind = 'recording';
  readonly routes = new Map<string, RouteState>();
  constructor(private readonly log: string[]) {}

  reconcile(spec: AppRouteSpec): Promise<void> {
    this.log.push(`reconcile ${spec.app} [${spec.versions.map((v) => v.name).join(',')}]`);
    return Promise.resolve();
  }

  setRoutes(app: string, state: RouteState): Promise<void> {
    this.log.push(`routes ${app} ${JSON.stringify(state.weights)}`);
    this.routes.set(app, state);
    return Promise.resolve();
  }

  getRoutes(app: string): Promise<RouteState> {
    const state = this.routes.get(app);
    return state ? Promise.resolve(state) : Promise.reject(new Error(`no routes for ${app}`));
  }

  finalize(app: string): Promise<void> {
    this.log.push(`finalize ${app}`);
    return Promise.resolve();
  }
}

class RecordingTarget extends InMemoryTarget {
  constructor(private readonly log: string[]) {
    // Tag v9.x never becomes ready: the stand-in for a build that crashes at start.
    super({
      initialReadiness: (_app, _role, spec) => (spec.env.AVIARY_TAG?.startsWith('v9') ? 'failing' : 'ready'),
    });
  }

  override ensureVersion(app: string, role: VersionRole, spec: ProcessSpec) {
    this.log.push(`start ${app} ${spec.env.AVIARY_TAG ?? ''}`);
    return super.ensureVersion(app, role, spec);
  }

  override stop(app: string, role: VersionRole) {
    this.log.push(`stop ${app}`);
    return super.stop(app, role);
  }
}

const web: AppSpec = appSpec({ name: 'web', path: '/' });
const v1 = { name: 'v1', tag: 'v1.0.0', weight: 50 };
const v2 = { name: 'v2', tag: 'v2.0.0', weight: 50 };

let stateDir: string;
let log: string[];
let managers: ReleaseManager[];

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'aviary-release-'));
  log = [];
  managers = [];
});

afterEach(async () => {
  await Promise.all(managers.map((m) => m.close()));
  await rm(stateDir, { recursive: true, force: true });
});

function setup(controller?: ReleaseControllerPort, target = new RecordingTarget(log)) {
  const router = new RecordingRouter(log);
  const guard = new ReleaseRouterGuard(new RecordingRouter(log));
  const manager = new ReleaseManager({
    stateDir,
    target,
    router,
    guard,
    ...(controller ? { controller } : {}),
    apps: () => [web, appSpec({ name: 'web-taken', path: '/taken' })],
    settingsFor: () => releaseSettingsSchema.parse({ readyTimeout: '300ms' }),
    drainMs: 10,
    syncMs: 60_000,
  });
  managers.push(manager);
  return { manager, router, guard, target };
}

describe('release manager', () => {
  it("reads an app's releases block from aviary.yaml when no settings are given", async () => {
    const releases = releaseSettingsSchema.parse({ allowedTags: ['stable'], readyTimeout: '300ms' });
    const manager = new ReleaseManager({
      stateDir,
      target: new RecordingTarget(log),
      router: new RecordingRouter(log),
      guard: new ReleaseRouterGuard(new RecordingRouter(log)),
      apps: () => [{ ...web, releases }],
      drainMs: 10,
      syncMs: 60_000,
    });
    managers.push(manager);
    await manager.apply('web', { versions: [{ name: 'v1', tag: 'stable', weight: 100 }] });
    expect(log).toContain('start web-v1 stable');
  });

  it('drains a removed version: weight 0, then out of routing, then stopped', async () => {
    const { manager } = setup();
    await manager.apply('web', { versions: [v1, v2] });
    log.length = 0;
    const result = await manager.apply('web', { versions: [{ ...v1, weight: 100 }] });
    expect(result.removed).toEqual(['v2']);
    expect(log).toEqual([
      'reconcile web [v1,v2]',
      'routes web {"v1":100,"v2":0}',
      'reconcile web [v1]',
      'routes web {"v1":100}',
      'stop web-v2',
    ]);
    expect(manager.events('web').map((e) => e.reason)).toEqual([
      'ReleaseApplied',
      'ReleaseApplied',
      'Draining',
      'RemovedFromRouting',
      'VersionsStopped',
    ]);
  });

  it('undoes an edit whose new version never becomes ready, naming the entry, and keeps the split', async () => {
    const { manager, router, target } = setup();
    await manager.apply('web', { versions: [v1, v2] });
    const edit = manager.apply('web', {
      versions: [v1, { ...v2, tag: 'v9.0.0' }, { name: 'v3', tag: 'v9.1.0', weight: 1 }],
    });
    await expect(edit).rejects.toMatchObject({
      code: 'AVIARY_RELEASE_NOT_READY',
      message: expect.stringContaining('versions[1] (entry "v2", tag v9.0.0) is not ready after 300ms'),
    });
    expect(router.routes.get('web')?.weights).toEqual({ v1: 50, v2: 50 });
    expect((await target.status('web-v2', 'primary'))?.revision).toBe(
      (await manager.view('web')).versions[1]?.revision,
    );
    expect((await target.status('web-v2', 'primary'))?.readyReplicas).toBe(1);
    expect(await target.status('web-v3', 'primary')).toBeUndefined();
    expect((await manager.view('web')).versions.map((v) => v.tag)).toEqual(['v1.0.0', 'v2.0.0']);
  });

  it('rejects an invalid document without touching routes or processes', async () => {
    const { manager } = setup();
    await manager.apply('web', { versions: [v1, v2] });
    log.length = 0;
    const edit = manager.apply('web', { versions: [v1, { ...v2, weight: -1 }] });
    await expect(edit).rejects.toBeInstanceOf(ConfigError);
    await expect(edit).rejects.toMatchObject({
      issues: [{ path: 'versions[1].weight', message: 'entry "v2": expected a number >= 0, got -1' }],
    });
    expect(log).toEqual([]);
  });

  it('refuses apps outside aviary.yaml and entries that would run as another app', async () => {
    const { manager } = setup();
    await expect(manager.apply('shop', { versions: [v1] })).rejects.toMatchObject({
      code: 'AVIARY_NOT_FOUND',
    });
    await expect(
      manager.apply('web', { versions: [{ name: 'taken', tag: 'v1.0.0', weight: 1 }] }),
    ).rejects.toMatchObject({
      issues: [
        {
          path: 'versions[0].name',
          message: expect.stringContaining('already app web-taken of aviary.yaml'),
        },
      ],
    });
  });

  it('takes an app over from the controller only when its rollout is settled', async () => {
    let phase = 'Progressing';
    const controller: ReleaseControllerPort = {
      apps: () => (log.includes('controller remove web') ? [] : ['web']),
      view: () => ({ status: { phase, canaryWeight: 20 } }),
      events: (app) => [
        { at: 1, app, reason: 'Succeeded', message: 'Promotion completed!', severity: 'info' },
      ],
      remove: (app) => {
        log.push(`controller remove ${app}`);
        return Promise.resolve();
      },
    };
    const { manager, guard } = setup(controller);
    await expect(manager.apply('web', { versions: [v1] })).rejects.toMatchObject({
      code: 'AVIARY_RELEASE_CONFLICT',
      message: expect.stringContaining('phase Progressing'),
    });
    expect(log).toEqual([]);
    phase = 'Succeeded';
    const result = await manager.apply('web', { versions: [v1] });
    expect(result.handedOver).toBe(true);
    expect(log).toEqual([
      'start web-v1 v1.0.0',
      'reconcile web [v1]',
      'routes web {"v1":50}',
      'controller remove web',
    ]);
    expect(manager.events('web')[0]).toMatchObject({ reason: 'Succeeded', message: 'Promotion completed!' });
    expect(manager.events('web').map((e) => e.reason)).toContain('HandedOver');
    log.length = 0;
    await guard.setRoutes('web', { weights: { primary: 100 } });
    await guard.finalize('web');
    expect(log).toEqual([]);
  });

  it('brings a release back after a restart and claims its app before the controller starts', async () => {
    const target = new RecordingTarget(log);
    const first = setup(undefined, target).manager;
    await first.apply('web', { versions: [v1, { ...v2, weight: 25 }] });
    await first.close();
    log.length = 0;
    const { manager, router, guard } = setup(undefined, target);
    await manager.load();
    expect(manager.owns('web')).toBe(true);
    expect(guard.isClaimed('web')).toBe(true);
    await manager.start();
    expect(router.routes.get('web')?.weights).toEqual({ v1: 50, v2: 25 });
    expect((await manager.view('web')).versions.map((v) => v.share)).toEqual([66.7, 33.3]);
  });
});

describe('release manager on the built-in router', () => {
  it('takes a crashed version out of the split and routes it again once it is back', async () => {
    const proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ name: 'router', port: 0 }] }));
    const target = new InMemoryTarget();
    const manager = new ReleaseManager({
      stateDir,
      target,
      router: new EmbeddedRouter(proxy),
      guard: { claim: () => undefined },
      apps: () => [web],
      drainMs: 10,
      syncMs: 60_000,
    });
    managers.push(manager);
    await manager.apply('web', { versions: [v1, { ...v2, weight: 25 }] });
    const router = new EmbeddedRouter(proxy);
    expect((await router.getRoutes('web')).weights).toEqual({ v1: 50, v2: 25 });
    target.crash('web-v2', 'primary');
    await manager.resync('web-v2');
    expect((await router.getRoutes('web')).weights).toEqual({ v1: 50 });
    expect(manager.events('web').filter((e) => e.severity === 'warning')).toEqual([]);
    target.setReady('web-v2', 'primary', 1);
    await manager.resync('web-v2');
    expect((await router.getRoutes('web')).weights).toEqual({ v1: 50, v2: 25 });
  });
});
