/**
 * Standalone routers for integration tests: `aviary proxy` started through the real CLI with
 * no service, and reads of what each one routes, so tests can wait until several instances
 * agree.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProxyConfig } from '../../src/config/proxy-schema.js';
import { routeStateOf } from '../../src/router/service-config.js';
import { spawnCli, type CliProcess } from '../cli/cli-support.js';
import { APP, APP_PATH } from './catalog-config.js';
import { waitFor } from './deadline-waits.js';
import { onCleanup } from './test-cleanup.js';

/** The admin token every test proxy is started with. */
export const ADMIN_TOKEN = 'remote-routers-token';

/** A running `aviary proxy` and where it answers. */
export interface RunningProxy {
  readonly cli: CliProcess;
  readonly adminPort: number;
  readonly listenerPort: number;
  readonly adminUrl: string;
  readonly routerUrl: string;
}

/** Starts `aviary proxy` with no service at all; port 0 picks free ports. */
export async function startProxy(
  dir: string,
  name: string,
  ports = { listener: 0, admin: 0 },
): Promise<RunningProxy> {
  const configFile = join(dir, `${name}.json`);
  await writeFile(configFile, JSON.stringify({ listeners: [{ port: ports.listener }] }));
  const args = ['proxy', '--config', configFile, '--admin', `127.0.0.1:${ports.admin}`];
  const cli = spawnCli([...args, '--token-file', join(dir, 'token')], { env: { AVIARY_TOKEN: ADMIN_TOKEN } });
  onCleanup(async () => {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
  const out = await cli.waitForStdout((text) => text.includes('admin API on'), `${name} admin API address`);
  const listenerPort = Number(/listener default on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  const adminPort = Number(/admin API on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  return {
    cli,
    adminPort,
    listenerPort,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    routerUrl: `http://127.0.0.1:${listenerPort}`,
  };
}

/** The configuration a router answers `GET /config` with. */
export async function configOf(proxy: RunningProxy): Promise<ProxyConfig> {
  const res = await fetch(`${proxy.adminUrl}/config`);
  return ((await res.json()) as { config: ProxyConfig }).config;
}

/** The app's service on a router, JSON-encoded for comparison; undefined when it has none. */
export async function serviceOf(proxy: RunningProxy, app = APP): Promise<string | undefined> {
  const service = (await configOf(proxy)).services.find((s) => s.name === app);
  return service === undefined ? undefined : JSON.stringify(service);
}

/** Polls until both routers hold the same service for the app, routing `weights`. */
export async function waitForBoth(
  proxies: readonly RunningProxy[],
  weights: Record<string, number>,
  app = APP,
): Promise<void> {
  const describe = async () =>
    (
      await Promise.all(
        proxies.map(async (p) => `${p.adminUrl}: ${(await serviceOf(p, app)) ?? 'no routes'}`),
      )
    ).join('\n');
  let last = '';
  await waitFor(
    `both routers to route ${JSON.stringify(weights)} with the same service`,
    async () => {
      last = await describe();
      const [first, ...others] = await Promise.all(proxies.map((p) => serviceOf(p, app)));
      if (first === undefined || others.some((s) => s !== first)) return undefined;
      const routed = routeStateOf(await configOf(proxies[0]!), app).weights;
      return JSON.stringify(routed) === JSON.stringify(weights) ? true : undefined;
    },
    () => last,
  );
}

/** Versions that answered `count` requests sent through one router. */
export async function versionsThrough(
  proxy: RunningProxy,
  count: number,
  path = APP_PATH,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${proxy.routerUrl}${path}`);
    const version = res.ok ? ((await res.json()) as { version: string }).version : `status ${res.status}`;
    counts[version] = (counts[version] ?? 0) + 1;
  }
  return counts;
}
