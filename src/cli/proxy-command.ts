/**
 * `aviary proxy --config FILE`: runs the built-in proxy (the data plane) standalone, with its
 * admin API. SIGHUP (or an edit of the file with --watch) reloads the file; a rejected reload
 * keeps the running configuration. SIGINT/SIGTERM drain requests in flight, then exit.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, formatIssues } from '../config/config-error.js';
import { readDocumentFile } from '../config/document.js';
import { proxyConfigSchema, type ProxyConfig } from '../config/proxy-schema.js';
import { parseOrThrow } from '../config/schema-issues.js';
import { listenFor } from '../listen-failure.js';
import {
  loadPersistedConfig,
  persistConfig,
  PERSISTED_CONFIG_FILE,
  writeFileAtomically,
} from '../proxy/persisted-config.js';
import { INSTANCE_FILE, processStartTicks, type ProxyInstanceRecord } from '../router/proxy-instance.js';
import { resolveToken } from './admin-token.js';
import { watchFile } from './file-watch.js';

interface ProxyOptions {
  config: string;
  admin: string;
  tokenFile: string;
  watch?: boolean;
  state?: string;
}

function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d+)$/.exec(value);
  if (!match)
    throw new ConfigError('--admin', [
      { path: 'admin', message: `expected "host:port" or "port", got "${value}"` },
    ]);
  return { host: match[1] ?? '127.0.0.1', port: Number(match[2]) };
}

/**
 * The configuration to start with: with `--state`, the one last persisted there (a restarted
 * proxy serves its last routes from its first connection), else `--config`.
 */
async function startingConfig(options: ProxyOptions): Promise<{ config: ProxyConfig; from: string }> {
  if (options.state !== undefined) {
    const persisted = await loadPersistedConfig(options.state);
    const from = join(options.state, PERSISTED_CONFIG_FILE);
    if (persisted !== undefined) return { config: parseOrThrow(proxyConfigSchema, persisted, from), from };
  }
  const document = await readDocumentFile(options.config);
  return { config: parseOrThrow(proxyConfigSchema, document, options.config), from: options.config };
}

/** Runs the proxy until a signal stops it. */
export async function runProxy(options: ProxyOptions): Promise<void> {
  const { config, from } = await startingConfig(options);
  // Loaded on use, so other commands start fast.
  const [{ ProxyServer }, { AdminServer }] = await Promise.all([
    import('../proxy/proxy-server.js'),
    import('../api/admin-server.js'),
  ]);
  const { token, source } = await resolveToken(options.tokenFile);
  const stateDir = options.state;
  const persist =
    stateDir === undefined
      ? undefined
      : (applied: ProxyConfig): Promise<void> =>
          persistConfig(stateDir, applied, (listener) => proxy.address(listener).port);
  // A change is in force once applied: a state directory that is full or read-only costs
  // only its durability (a restart would start from the last configuration persisted, and
  // the controller applies its routes again), so it is logged, not answered as a refusal.
  // The next change persists the whole configuration again (docs/adr/0031-state-write-failures.md).
  const persistOrWarn =
    persist === undefined || stateDir === undefined
      ? undefined
      : (applied: ProxyConfig): Promise<void> =>
          persist(applied).catch((err: unknown) =>
            console.error(
              `aviary proxy: configuration in force but not persisted in ${join(stateDir, PERSISTED_CONFIG_FILE)}: ${(err as Error).message}`,
            ),
          );
  const proxy = new ProxyServer(config, persistOrWarn ? { onApplied: persistOrWarn } : {});
  const admin = new AdminServer(proxy, { ...parseHostPort(options.admin), token });
  const listenerSetting = (port: number): string => {
    const index = config.listeners.findIndex((listener) => listener.port === port);
    const listener = config.listeners[index];
    return listener ? `listeners[${index}].port (listener ${listener.name})` : 'a listener port';
  };
  let adminAddress: { host: string; port: number };
  try {
    await listenFor(listenerSetting, () => proxy.start());
    adminAddress = await listenFor('--admin', () => admin.start());
  } catch (err) {
    // Listeners that did open are closed: a half-started proxy must not hold its ports.
    await proxy.close();
    throw err;
  }
  const listeners: Record<string, string> = {};
  for (const listener of config.listeners) {
    const { host, port } = proxy.address(listener.name);
    const scheme = listener.tls === undefined ? 'http' : 'https';
    listeners[listener.name] = `${scheme}://${host}:${port}`;
    const h2 =
      listener.protocol === 'http2'
        ? listener.tls === undefined
          ? ' (h2c)'
          : ' (h2 and http/1.1 by ALPN)'
        : '';
    console.log(`aviary proxy: listener ${listener.name} on ${scheme}://${host}:${port}${h2}`);
  }
  const adminUrl = `http://${adminAddress.host}:${adminAddress.port}`;
  console.log(`aviary proxy: admin API on ${adminUrl} (token from ${source}; configuration from ${from})`);
  if (stateDir !== undefined && persist !== undefined) {
    // Bound ports are pinned first, so a restart reopens the ports clients already use.
    await persist(proxy.config);
    const record: ProxyInstanceRecord = {
      pid: process.pid,
      startTicks: await processStartTicks(process.pid),
      admin: adminUrl,
      listeners,
    };
    await writeFileAtomically(join(stateDir, INSTANCE_FILE), `${JSON.stringify(record)}\n`);
  }

  const reload = async (): Promise<void> => {
    try {
      const result = await proxy.applyConfig(await readDocumentFile(options.config));
      if (result.ok) console.log(`aviary proxy: reloaded ${options.config}, generation ${result.generation}`);
      else
        console.error(
          `aviary proxy: ${options.config} rejected; still serving generation ${proxy.generation}:\n${formatIssues(result.issues)}`,
        );
    } catch (err) {
      console.error(
        `aviary proxy: reload failed; still serving generation ${proxy.generation}: ${(err as Error).message}`,
      );
    }
  };
  process.on('SIGHUP', () => void reload());
  const stopWatching = new AbortController();
  const watching = options.watch
    ? watchFile(options.config, reload, stopWatching.signal, { callAtStart: false })
    : Promise.resolve();
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      console.log('aviary proxy: draining requests in flight');
      stopWatching.abort();
      void Promise.all([proxy.close(), admin.close(), watching]).then(() => resolve());
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Registers `aviary proxy`. */
export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('run the built-in HTTP proxy (the data plane) standalone, with its admin API')
    .requiredOption('-c, --config <file>', 'proxy configuration (YAML or JSON)')
    .option('--admin <host:port>', 'admin API address', '127.0.0.1:9901')
    .option(
      '--token-file <file>',
      'file holding the admin token (created if missing; AVIARY_TOKEN overrides)',
      '.aviary/token',
    )
    .option('-w, --watch', 'reload the configuration file whenever it is saved')
    .option(
      '--state <dir>',
      'persist each accepted configuration in DIR and start from it (before listening) when present',
    )
    .addHelpText(
      'after',
      `
Examples:
  aviary proxy --config examples/router.yaml
  aviary proxy -c router.yaml --admin 127.0.0.1:9901 --watch
  curl -X PUT -H "Authorization: Bearer $(cat .aviary/token)" \\
       -d '{"weights":{"v1":90,"v2":10}}' http://127.0.0.1:9901/services/catalogdetail/routes/main/weights`,
    )
    .action(async (options: ProxyOptions) => {
      await runProxy(options);
    });
}
