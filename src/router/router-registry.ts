/**
 * The router family: one factory per router kind of src/config/router-kinds.ts, each
 * building a started {@link RouterEngine}. An unknown kind is an error listing the known
 * ones — never a silent fall-back to another router.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { RouterKind, RouterSettings } from '../config/router-kinds.js';
import { proxyConfigSchema, type CertificateFiles } from '../config/proxy-schema.js';
import { AviaryError } from '../errors.js';
import { listenFor } from '../listen-failure.js';
import { AdminApiObserver } from '../metrics/admin-api-observer.js';
import { AdminApiTraffic, readAdminText } from '../metrics/admin-api-traffic.js';
import { EmbeddedObserver } from '../metrics/embedded-observer.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { Registry, type EngineFactory } from '../registry.js';
import { AdminApiRouter, type AdminEndpoint } from './admin-api-router.js';
import { EmbeddedRouter } from './embedded-router.js';
import { createHaproxyEngine } from './haproxy/haproxy-engine.js';
import { SupervisedProxy, type RouterListener } from './proxy-process.js';
import type { RouterEngine } from './router-engine.js';

/** What a router factory may need from the composition root. */
export interface RouterContext {
  /** Environment the admin tokens of `aviary-admin` are read from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative `tokenFile`s are resolved against; default the working directory. */
  readonly baseDir?: string;
  /** The runtime's state directory; `embedded` with `process: separate` keeps its proxy's state in `proxy/`. */
  readonly stateDir?: string;
  /** The control API's token, which a supervised proxy's admin API takes too. */
  readonly token?: string;
  /** argv that runs the `aviary` CLI (`[node, ...execArgv, script]`), for a supervised proxy. */
  readonly command?: readonly string[];
  /**
   * Where the built-in proxy runs, overriding `router.process`: `aviary up` and the demo pass
   * `separate` when the file leaves it unset and `in-process` for `--in-process-router`.
   * Unset here and in the file: in process.
   */
  readonly placement?: 'in-process' | 'separate';
}

type RouterFactory = EngineFactory<RouterSettings, RouterContext, Promise<RouterEngine>>;

function settingsOf<K extends RouterKind>(
  kind: K,
  settings: RouterSettings,
): Extract<RouterSettings, { kind: K }> {
  if (settings.kind !== kind) throw new Error(`router factory ${kind} handed settings of ${settings.kind}`);
  return settings as Extract<RouterSettings, { kind: K }>;
}

/**
 * The built-in proxy as its own supervised process, driven and observed through its admin
 * API as `aviary-admin` drives remote ones; adopted when a previous controller left it running.
 */
/** The proxy listener `router` of the embedded kind: its address, protocol and certificate files (resolved next to aviary.yaml). */
function routerListener(
  settings: {
    host: string;
    port: number;
    protocol?: 'http1' | 'http2' | undefined;
    tls?: CertificateFiles | undefined;
  },
  baseDir: string,
): RouterListener {
  const { host, port, protocol, tls } = settings;
  return {
    name: 'router',
    host,
    port,
    ...(protocol !== undefined && { protocol }),
    ...(tls !== undefined && {
      tls: { certFile: resolve(baseDir, tls.certFile), keyFile: resolve(baseDir, tls.keyFile) },
    }),
  };
}

async function separateProxy(listener: RouterListener, context: RouterContext): Promise<RouterEngine> {
  const { host, port } = listener;
  const { stateDir, token, command } = context;
  if (stateDir === undefined || token === undefined || command === undefined)
    throw new AviaryError(
      'AVIARY_ROUTER_CONFIG',
      'router.process: separate needs the state directory, the token and the aviary command; run it from aviary up',
    );
  const proxy = await SupervisedProxy.startOrAdopt({
    // A port someone else holds is named by its setting here, not found in the child's log.
    beforeStart: () => listenFor('router.port', () => probeBind(host, port)),
    dir: join(stateDir, 'proxy'),
    listener,
    token,
    command,
  });
  const urls = [proxy.adminUrl];
  return {
    router: new AdminApiRouter({ endpoints: [{ url: proxy.adminUrl, token }] }),
    observer: new AdminApiObserver({ urls }),
    traffic: new AdminApiTraffic({ urls }),
    get pid() {
      return proxy.pid;
    },
    address: proxy.routerUrl,
    // The proxy is this controller's own data plane, so its metrics are served with the controller's.
    metricsText: () =>
      readAdminText(proxy.adminUrl, '/metrics', {}, 'metrics').catch(
        (err: Error) => `# router metrics unavailable: ${err.message.replaceAll('\n', ' ')}\n`,
      ),
    close: () => proxy.close(),
  };
}

/** Binds `host:port` and lets go at once: fails as listening there would (port 0 always binds). */
function probeBind(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** The built-in proxy, listening where `router.host`/`router.port` say: in this process, or supervised. */
const embedded: RouterFactory = async (settings, context) => {
  const embeddedSettings = settingsOf('embedded', settings);
  const { process: configured } = embeddedSettings;
  const listener = routerListener(embeddedSettings, context.baseDir ?? '.');
  if ((context.placement ?? configured) === 'separate') return separateProxy(listener, context);
  const proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [listener] }));
  await listenFor('router.port', () => proxy.start());
  const bound = proxy.address();
  const scheme = listener.tls === undefined ? 'http' : 'https';
  return {
    router: new EmbeddedRouter(proxy),
    proxy,
    observer: new EmbeddedObserver(proxy.metrics),
    traffic: proxy.metrics.trafficWindows(),
    address: `${scheme}://${bound.host}:${bound.port}`,
    metricsText: () => Promise.resolve(proxy.metrics.render()),
    close: () => proxy.close(),
  };
};

/** Reads one instance's admin token. Security: from a file or the environment, never the config. */
async function tokenOf(
  instance: { url: string; tokenFile?: string | undefined; tokenEnv?: string | undefined },
  index: number,
  context: RouterContext,
): Promise<string> {
  const field = `router.instances[${index}]`;
  if (instance.tokenEnv !== undefined) {
    const token = (context.env ?? process.env)[instance.tokenEnv]?.trim();
    if (!token)
      throw new AviaryError(
        'AVIARY_ROUTER_CONFIG',
        `${field}.tokenEnv: environment variable ${instance.tokenEnv} is empty or unset`,
      );
    return token;
  }
  const path = resolve(context.baseDir ?? '.', instance.tokenFile ?? '');
  const token = await readFile(path, 'utf8').then(
    (text) => text.trim(),
    (err: Error) => {
      throw new AviaryError(
        'AVIARY_ROUTER_CONFIG',
        `${field}.tokenFile: cannot read ${path}: ${err.message}`,
      );
    },
  );
  if (!token) throw new AviaryError('AVIARY_ROUTER_CONFIG', `${field}.tokenFile: ${path} is empty`);
  return token;
}

/** `aviary proxy` instances elsewhere, driven through their admin APIs as one data plane. */
const aviaryAdmin: RouterFactory = async (settings, context) => {
  const { instances } = settingsOf('aviary-admin', settings);
  const endpoints: AdminEndpoint[] = await Promise.all(
    instances.map(async (instance, i) => ({ url: instance.url, token: await tokenOf(instance, i, context) })),
  );
  const urls = endpoints.map((e) => e.url);
  return {
    router: new AdminApiRouter({ endpoints }),
    observer: new AdminApiObserver({ urls }),
    traffic: new AdminApiTraffic({ urls }),
    address: urls.join(', '),
    metricsText: () => Promise.resolve(''),
    close: () => Promise.resolve(),
  };
};

/** A real HAProxy on this machine, run by Aviary in its state directory (src/router/haproxy). */
const haproxy: RouterFactory = (settings, context) =>
  createHaproxyEngine(settingsOf('haproxy', settings), context.stateDir);

const FACTORIES: Record<RouterKind, RouterFactory> = {
  embedded,
  'aviary-admin': aviaryAdmin,
  haproxy,
};

/** The router family. */
export const routerRegistry = new Registry('router', 'router.kind', 'AVIARY_ROUTER_UNKNOWN', FACTORIES);

/** Builds and starts the router `settings` name. */
export function createRouterEngine(
  settings: RouterSettings,
  context: RouterContext = {},
): Promise<RouterEngine> {
  return routerRegistry.create(settings.kind, settings, context);
}
