/**
 * Builds the `haproxy` router engine: finds the executable, starts the request-log receiver,
 * starts HAProxy in master-worker mode on an empty configuration (every request answered 404
 * until an app is reconciled), starts it again on the router's current configuration if it
 * dies, and bundles the router with its traffic windows, observer and
 * metrics. Files and sockets live in `<state dir>/haproxy`, mode 0700/0600.
 */
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { RouterSettings } from '../../config/router-kinds.js';
import { listenFor } from '../../listen-failure.js';
import { WindowsObserver } from '../../metrics/windows-observer.js';
import type { RouterEngine } from '../router-engine.js';
import { renderHaproxyConfig, type HaproxyRuntimeSettings } from './haproxy-config.js';
import { findHaproxy, HaproxyProcess } from './haproxy-process.js';
import { HaproxyRequestLog } from './haproxy-request-log.js';
import { HaproxyRouter, type HaproxyControl } from './haproxy-router.js';

type HaproxySettings = Extract<RouterSettings, { kind: 'haproxy' }>;

/** A running `haproxy` engine; `router` is the {@link HaproxyRouter} itself. */
export interface HaproxyEngine extends RouterEngine {
  readonly router: HaproxyRouter;
  readonly haproxy: HaproxyProcess;
  readonly requestLog: HaproxyRequestLog;
}

/** Binds `host:port` and lets go: port 0 gives a free port (HAProxy cannot bind port 0 itself). */
function freePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/** Starts HAProxy and returns the engine; `stateDir` unset: a fresh temporary directory. */
export async function createHaproxyEngine(
  settings: HaproxySettings,
  stateDir?: string,
): Promise<HaproxyEngine> {
  const binary = await findHaproxy(settings.binary);
  const dir =
    stateDir !== undefined ? join(stateDir, 'haproxy') : await mkdtemp(join(tmpdir(), 'aviary-haproxy-'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const port = await listenFor('router.port', () => freePort(settings.host, settings.port));
  // The log receiver starts before HAProxy (which connects to it), the router after.
  const routing: { router?: HaproxyRouter } = {};
  const requestLog = await HaproxyRequestLog.start(join(dir, 'requests.sock'), (backend, server) =>
    routing.router?.resolveSlot(backend, server),
  );
  const runtime: HaproxyRuntimeSettings = {
    host: settings.host,
    port,
    threads: settings.threads,
    maxConnections: settings.maxConnections,
    statsSocket: join(dir, 'stats.sock'),
    metricsSocket: join(dir, 'metrics.sock'),
    logSocket: requestLog.socketPath,
  };
  let haproxy = await HaproxyProcess.start(binary, dir, renderHaproxyConfig(runtime, [])).catch(
    async (err: unknown) => {
      await requestLog.close();
      throw err;
    },
  );
  let closed = false;
  const control: HaproxyControl = {
    get workerPid() {
      return haproxy.workerPid;
    },
    get masterSocket() {
      return haproxy.masterSocket;
    },
    reload: (config, signal) => haproxy.reload(config, signal),
  };
  const router = new HaproxyRouter(control, runtime, settings.slotsPerVersion);
  routing.router = router;
  // A master that dies (crash, kill) is started again on what the router holds, backing off
  // while its orphaned worker still holds the port.
  const restart = async (): Promise<void> => {
    for (let delay = 100; !closed; delay = Math.min(delay * 2, 5000)) {
      await sleep(delay);
      if (closed) return;
      const next = await HaproxyProcess.start(binary, dir, router.currentConfig()).catch(() => undefined);
      if (!next) continue;
      if (closed) return void (await next.close());
      haproxy = next;
      next.onUnexpectedExit(() => void restart());
      return;
    }
  };
  haproxy.onUnexpectedExit(() => void restart());
  const traffic = requestLog.trafficWindows();
  const metricsAgent = new Agent({ connect: { socketPath: runtime.metricsSocket } });
  return {
    router,
    get haproxy() {
      return haproxy;
    },
    requestLog,
    observer: new WindowsObserver(traffic),
    traffic,
    get pid() {
      return haproxy.pid;
    },
    address: `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`,
    metricsText: async () => {
      try {
        const res = await request('http://haproxy/metrics', { dispatcher: metricsAgent });
        return (await res.body.text()) + requestLog.metricsText();
      } catch (err) {
        const reason = (err as Error).message.replaceAll('\n', ' ');
        return `# haproxy metrics unavailable: ${reason}\n${requestLog.metricsText()}`;
      }
    },
    close: async () => {
      closed = true;
      await haproxy.close();
      await requestLog.close();
      await metricsAgent.close();
    },
  };
}
