import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { httpGet } from '../../../test/fixtures/apps/http-app-spec.js';
import { findFreePort } from './free-port.js';
import { useProcessTarget } from './process-target-test-support.js';

const fx = useProcessTarget();
const { app, open, spec, until } = fx;
const get = httpGet;

describe('ProcessTarget restarts', () => {
  it('restarts a crashing replica with doubling backoff and counts the restarts', async () => {
    await fx.target.ensureVersion(app, 'canary', spec({ CRASH_AFTER_MS: '50' }, 1));
    const crashed = await until((s) => s.restarts >= 4);
    expect(crashed.lastError).toMatch(/exited with code 2/);
    const delays = (await fx.target.logs(app, 'canary'))
      .map((line) => /restarting in (\d+) ms/.exec(line.text)?.[1])
      .filter((delay) => delay !== undefined)
      .map(Number);
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
  });

  it('takes a crashed replica out of the endpoints while it waits to restart', async () => {
    open({ restartBackoff: { initialMs: 60_000, maxMs: 60_000 } });
    await fx.target.ensureVersion(app, 'canary', spec({}, 2));
    const ready = await until((s) => s.readyReplicas === 2);
    const [victim, survivor] = ready.endpoints;
    await get(victim ?? '', '/crash');
    const crashed = await until((s) => s.restarts === 1);
    expect(crashed).toMatchObject({ readyReplicas: 1, readyPercent: 50, endpoints: [survivor] });
    expect(crashed.lastError).toMatch(/exited with code 3 .*restarting in 60000 ms/);
    expect(crashed.replicas.find((r) => r.phase === 'backoff')).toMatchObject({ pid: null, ready: false });
  });

  it('keeps a version that crashes at start unready while it keeps retrying', async () => {
    await fx.target.ensureVersion(app, 'canary', spec({ FAIL_START: '1' }, 2));
    const failing = await until((s) => s.restarts >= 4);
    expect(failing).toMatchObject({ readyReplicas: 0, endpoints: [] });
    expect(failing.lastError).toMatch(/exited with code 1/);
  });

  it('reports a command that cannot be started, without a shell to interpret it', async () => {
    await fx.target.ensureVersion(app, 'canary', {
      command: 'aviary-no-such-program',
      args: ['$(touch pwned)'],
      env: {},
      replicas: 1,
    });
    const failing = await until((s) => s.restarts >= 2);
    expect(failing).toMatchObject({ readyReplicas: 0, endpoints: [] });
    expect(failing.lastError).toMatch(/failed to start: spawn aviary-no-such-program ENOENT/);
  });

  it('restarts a replica whose liveness probe keeps failing', async () => {
    const livenessProbe = {
      path: '/healthz',
      intervalMs: 50,
      timeoutMs: 500,
      successThreshold: 1,
      failureThreshold: 2,
      initialDelayMs: 0,
    };
    await fx.target.ensureVersion(
      app,
      'canary',
      spec({ LIVENESS_FAIL_AFTER_MS: '200' }, 1, { livenessProbe }),
    );
    const restarted = await until((s) => s.restarts >= 1);
    expect(restarted.lastError).toMatch(/liveness probe failed 2 times/);
  });

  it('takes a hung replica (SIGSTOP: it still accepts connections) out of the endpoints, then restarts it on liveness', async () => {
    const probe = { intervalMs: 50, timeoutMs: 300, successThreshold: 1, initialDelayMs: 0 };
    const readinessProbe = { ...probe, path: '/ping', failureThreshold: 2 };
    const livenessProbe = { ...probe, path: '/healthz', failureThreshold: 10 };
    open({ stopGraceMs: 500 });
    await fx.target.ensureVersion(app, 'canary', spec({}, 2, { readinessProbe, livenessProbe }));
    const ready = await until((s) => s.readyReplicas === 2);
    const hung = ready.replicas[0]!;
    process.kill(hung.pid!, 'SIGSTOP');
    try {
      // Readiness gives up first (2 timeouts), liveness later (10): out of routing while still hung.
      const out = await until((s) => s.readyReplicas === 1);
      expect(out.endpoints).toEqual([ready.replicas[1]!.endpoint]);
      expect(out.replicas[0]).toMatchObject({ pid: hung.pid, restarts: 0 });
      // SIGTERM waits behind the stop; SIGKILL after the grace period ends it.
      const restarted = await until((s) => s.restarts === 1 && s.readyReplicas === 2);
      expect(restarted.lastError).toMatch(/liveness probe failed 10 times/);
      expect(restarted.replicas[0]!.pid).not.toBe(hung.pid);
    } finally {
      try {
        process.kill(hung.pid!, 'SIGCONT');
      } catch {
        // restarted: the hung process is gone
      }
    }
  });

  it('retries on a fresh port when another process took the port first', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    let calls = 0;
    open({ allocatePort: (exclude) => (calls++ === 0 ? Promise.resolve(taken) : findFreePort(exclude)) });
    try {
      await fx.target.ensureVersion(app, 'canary', spec({}, 1));
      const ready = await until((s) => s.readyReplicas === 1);
      expect(ready.restarts).toBe(0);
      expect(ready.endpoints[0]).not.toBe(`127.0.0.1:${taken}`);
      const lines = await fx.target.logs(app, 'canary');
      expect(lines.some((line) => line.text.includes(`port ${taken} was taken`))).toBe(true);
    } finally {
      squatter.close();
    }
  });
});
