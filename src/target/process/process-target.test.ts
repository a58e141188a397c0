import { existsSync } from 'node:fs';
import { readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpGet } from '../../../test/fixtures/apps/http-app-spec.js';
import { readRegistry } from './child-registry.js';
import { pollUntil } from '../../../test/support/poll.js';
import { isPidAlive } from './process-group.js';
import { ProcessTarget } from './process-target.js';
import { useProcessTarget } from './process-target-test-support.js';
import { revisionOf, type ProcessSpec } from './version-spec.js';

const fx = useProcessTarget();
const { app, open, spec, until } = fx;
const get = httpGet;

describe('ProcessTarget replicas', () => {
  it('hands each replica its own port and identity through the environment', async () => {
    await fx.target.ensureVersion(app, 'canary', spec({ APP_VERSION: 'v1' }, 2));
    const ready = await until((s) => s.readyReplicas === 2);
    const answers = await Promise.all(
      ready.endpoints.map(
        async (endpoint) => JSON.parse((await get(endpoint, '/whoami')).body) as Record<string, unknown>,
      ),
    );
    expect(answers.map((a) => a.replica).sort()).toEqual(['0', '1']);
    expect(answers.every((a) => a.role === 'canary' && a.version === 'v1')).toBe(true);
    expect(answers.map((a) => `127.0.0.1:${String(a.port)}`).sort()).toEqual([...ready.endpoints].sort());
    expect(answers.map((a) => a.pid).sort()).toEqual(ready.replicas.map((r) => r.pid).sort());
  });

  it('does not pass the controller environment to replicas beyond the allow-list', async () => {
    process.env.AVIARY_CONTROLLER_SECRET_FOR_TEST = 'hunter2';
    try {
      await fx.target.ensureVersion(app, 'canary', spec({ GREETING: 'hello' }, 1));
      const [endpoint] = (await until((s) => s.readyReplicas === 1)).endpoints;
      expect(await get(endpoint ?? '', '/env/GREETING')).toEqual({ status: 200, body: 'hello' });
      expect((await get(endpoint ?? '', '/env/AVIARY_CONTROLLER_SECRET_FOR_TEST')).status).toBe(404);
      expect((await get(endpoint ?? '', '/env/PATH')).status).toBe(200);
    } finally {
      delete process.env.AVIARY_CONTROLLER_SECRET_FOR_TEST;
    }
  });

  it('routes traffic only to replicas whose readiness probe passes', async () => {
    const readyFile = join(fx.stateDir, 'ready');
    await fx.target.ensureVersion(app, 'canary', spec({ READY_FILE: readyFile }, 1));
    const running = await until(
      (s) => s.replicas[0]?.endpoint !== null && s.replicas[0]?.endpoint !== undefined,
    );
    const endpoint = running.replicas[0]?.endpoint ?? '';
    await pollUntil(async () =>
      (await get(endpoint, '/ping').catch(() => undefined))?.status === 503 ? true : undefined,
    );
    const gated = await fx.target.status(app, 'canary');
    expect(gated).toMatchObject({ readyReplicas: 0, readyPercent: 0, endpoints: [] });

    await writeFile(readyFile, '');
    const ready = await until((s) => s.readyReplicas === 1);
    expect(ready.endpoints).toEqual([endpoint]);

    await rm(readyFile);
    const unready = await until((s) => s.readyReplicas === 0);
    expect(unready.endpoints).toEqual([]);
    expect(unready.replicas[0]).toMatchObject({ pid: ready.replicas[0]?.pid, restarts: 0, phase: 'running' });
  });

  it('stops the processes of replicas removed by a scale-down', async () => {
    await fx.target.ensureVersion(app, 'canary', spec({}, 3));
    const three = await until((s) => s.readyReplicas === 3);
    await fx.target.scale(app, 'canary', 1);
    const one = await until((s) => s.replicas.length === 1 && s.readyReplicas === 1);
    const removed = three.replicas.map((r) => r.pid).filter((pid) => pid !== one.replicas[0]?.pid);
    expect(removed).toHaveLength(2);
    await pollUntil(async () =>
      (await Promise.all(removed.map((pid) => isPidAlive(pid ?? 0)))).includes(true) ? undefined : true,
    );
    expect(one.replicas[0]?.replica).toBe(0);
  });
});

describe('ProcessTarget stop', () => {
  it('kills the whole process group, grandchildren included', async () => {
    await fx.target.ensureVersion(app, 'canary', spec({ SPAWN_GRANDCHILD: '1' }, 1));
    const [endpoint] = (await until((s) => s.readyReplicas === 1)).endpoints;
    const who = JSON.parse((await get(endpoint ?? '', '/whoami')).body) as {
      pid: number;
      grandchildPid: number;
    };
    expect(await isPidAlive(who.grandchildPid)).toBe(true);
    await fx.target.stop(app, 'canary');
    expect(await isPidAlive(who.pid)).toBe(false);
    expect(await isPidAlive(who.grandchildPid)).toBe(false);
  });

  it('escalates to SIGKILL when a replica ignores SIGTERM', async () => {
    open({ stopGraceMs: 200 });
    await fx.target.ensureVersion(app, 'canary', spec({ IGNORE_SIGTERM: '1' }, 1));
    const pid = (await until((s) => s.readyReplicas === 1)).replicas[0]?.pid ?? 0;
    await fx.target.stop(app, 'canary');
    expect(await isPidAlive(pid)).toBe(false);
  });

  it('a close called during another joins it: it resolves once the processes are gone, and its abort skips the grace', async () => {
    open({ stopGraceMs: 60_000 });
    await fx.target.ensureVersion(app, 'canary', spec({ IGNORE_SIGTERM: '1' }, 1));
    const pid = (await until((s) => s.readyReplicas === 1)).replicas[0]?.pid ?? 0;
    const first = fx.target.close();
    await fx.target.close(AbortSignal.abort());
    expect(await isPidAlive(pid)).toBe(false);
    await first;
  });

  it('stops what a target left running on its state directory, without adopting it', async () => {
    await fx.target.ensureVersion(app, 'canary', spec({}, 2));
    const pids = (await until((s) => s.readyReplicas === 2)).replicas.map((r) => r.pid ?? 0);
    // As a controller killed with kill -9 would: the processes run on, recorded.
    await fx.target.release();
    expect(await Promise.all(pids.map(isPidAlive))).toEqual([true, true]);

    const stopped = await ProcessTarget.stopLeftovers(fx.stateDir);
    expect([...stopped].sort()).toEqual([...pids].sort());
    expect(await Promise.all(pids.map(isPidAlive))).toEqual([false, false]);
  });

  it('records children in the registry and leaves nothing to recover after close', async () => {
    await fx.target.ensureVersion(app, 'canary', spec({}, 2));
    const ready = await until((s) => s.readyReplicas === 2);
    const recorded = await readRegistry(fx.target.registryPath);
    expect(recorded?.children.map((c) => c.pid).sort()).toEqual(ready.replicas.map((r) => r.pid).sort());
    expect(recorded?.versions).toMatchObject([{ app, role: 'canary', spec: { replicas: 2 } }]);
    await fx.target.close();
    expect(await readRegistry(fx.target.registryPath)).toMatchObject({ versions: [], children: [] });
  });
});

describe('ProcessTarget logs', () => {
  it("closes an old revision's file once its last replica has stopped, so revisions do not pile up descriptors", async () => {
    const openFiles = async (): Promise<string[]> =>
      Promise.all(
        (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
      );
    const fileOf = (version: ProcessSpec): string =>
      join(fx.target.logDir, `${app}-canary-${revisionOf(version)}.log`);
    const first = spec({ APP_VERSION: 'v1' }, 1);
    await fx.target.ensureVersion(app, 'canary', first);
    await until((s) => s.readyReplicas === 1);
    expect(await openFiles()).toContain(fileOf(first));
    // A new revision replaces the replica, as a promotion does to the primary.
    const second = spec({ APP_VERSION: 'v2' }, 1);
    await fx.target.ensureVersion(app, 'canary', second);
    await until((s) => s.revision === revisionOf(second) && s.replicas.length === 1 && s.readyReplicas === 1);
    await pollUntil(async () => ((await openFiles()).includes(fileOf(first)) ? undefined : true));
    expect(await openFiles()).toContain(fileOf(second));
    expect(await readFile(fileOf(first), 'utf8')).toMatch(/aviary stopped pid \d+/);
  });

  it('keeps the last lines in memory and every line in a per-revision file', async () => {
    open({ logLines: 4 });
    const version = spec({}, 2);
    await fx.target.ensureVersion(app, 'canary', version);
    await until((s) => s.readyReplicas === 2);
    const kept = await pollUntil(async () => {
      const lines = await fx.target.logs(app, 'canary');
      return lines.length === 4 ? lines : undefined;
    });
    expect(kept.every((line) => line.revision === revisionOf(version))).toBe(true);

    const file = join(fx.target.logDir, `${app}-canary-${revisionOf(version)}.log`);
    const text = await pollUntil(async () => {
      const content = existsSync(file) ? await readFile(file, 'utf8') : '';
      return /r1 stderr replica 1 stderr check/.test(content) && /r0 stdout listening on/.test(content)
        ? content
        : undefined;
    });
    expect(text).toMatch(/^\S+Z r\d aviary started pid \d+ on port \d+$/m);
    expect(text.split('\n').length - 1).toBeGreaterThan(4);
  });
});
