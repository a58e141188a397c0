/**
 * Binding (docs/security.md): every listener defaults to 127.0.0.1, read from the schemas and
 * command options that set it and checked on real servers started without a host; a JSON API
 * bound beyond loopback warns that its token would cross the network in clear.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdminServer } from '../../src/api/admin-server.js';
import { ControlServer } from '../../src/api/control-server.js';
import { exposureWarning, isLoopbackHost, listenJson, closeServer } from '../../src/api/http-json.js';
import { registerOperatorCommand } from '../../src/cli/operator-command.js';
import { registerProxyCommand } from '../../src/cli/proxy-command.js';
import { demoConfig } from '../../src/cli/demo-story.js';
import { aviaryConfigSchema } from '../../src/config/app-schema.js';
import { pipelinesSchema } from '../../src/config/pipelines-schema.js';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { operatorControlServer } from '../../src/operator/operator-control.js';
import { startWebhookReceiver } from '../../src/pipelines/webhook/receiver.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RolloutController } from '../../src/rollout/controller/controller.js';
import { GateStore } from '../../src/rollout/webhooks/gates.js';
import { WebhookClient } from '../../src/rollout/webhooks/webhook-client.js';
import type { MetricObservation, MetricObserver } from '../../src/metrics/metric-observer.js';
import { InMemoryRouter } from '../fakes/in-memory-router.js';
import { InMemoryTarget } from '../fakes/in-memory-target.js';

const TOKEN = 'binding-test-token';
let dir: string;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aviary-security-binding-'));
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await rm(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

/** The controller here runs no analysis; an observer is still required. */
class NoMetricsObserver implements MetricObserver {
  readonly kind = 'none';
  observe(): Promise<MetricObservation> {
    return Promise.reject(new Error('this test measures no metric'));
  }
}

/** A controller with no apps: the APIs under test only need one to answer. */
function controller(): RolloutController {
  const gates = new GateStore();
  const webhooks = new WebhookClient({ gates });
  return new RolloutController({
    stateDir: join(dir, 'state'),
    executor: {
      target: new InMemoryTarget(),
      router: new InMemoryRouter(),
      webhooks,
      alerts: () => undefined,
      namespace: 'default',
    },
    checks: { webhooks, observer: new NoMetricsObserver() },
    gates,
  });
}

function optionDefault(register: (program: Command) => void, command: string, flag: string): unknown {
  const program = new Command();
  register(program);
  const sub = program.commands.find((c) => c.name() === command);
  return sub?.options.find((o) => o.long === flag)?.defaultValue;
}

describe('defaults read from the schemas and command options', () => {
  it('aviary.yaml: the router and the control API default to 127.0.0.1', () => {
    const config = aviaryConfigSchema.parse({
      apiVersion: 'aviary.dev/v1alpha1',
      kind: 'Aviary',
      apps: [{ name: 'web', path: '/web', process: { command: 'node', args: ['server.js'] } }],
    });
    expect(config.api.host).toBe('127.0.0.1');
    expect((config.router as { host?: string }).host).toBe('127.0.0.1');
  });

  it('pipelines.webhooks: the receiver defaults to 127.0.0.1', () => {
    expect(pipelinesSchema.parse({ webhooks: {} }).webhooks?.host).toBe('127.0.0.1');
  });

  it('aviary proxy: its listeners and its admin API default to 127.0.0.1', () => {
    const config = proxyConfigSchema.parse({ listeners: [{ port: 0 }], services: [] });
    expect(config.listeners[0]?.host).toBe('127.0.0.1');
    expect(optionDefault(registerProxyCommand, 'proxy', '--admin')).toBe('127.0.0.1:9901');
  });

  it('aviary operator: its control API defaults to 127.0.0.1', () => {
    expect(optionDefault(registerOperatorCommand, 'operator', '--api-host')).toBe('127.0.0.1');
  });

  it('aviary demo (and demo --gitops, which sets no host either): router and API on 127.0.0.1', async () => {
    const config = demoConfig({ stateDir: dir, routerPort: 0, apiPort: 0, fast: true }, {});
    expect(config.api.host).toBe('127.0.0.1');
    expect((config.router as { host?: string }).host).toBe('127.0.0.1');
    const { readFile } = await import('node:fs/promises');
    const gitops = await readFile(new URL('../../src/cli/gitops-story.ts', import.meta.url), 'utf8');
    expect(gitops).not.toMatch(/\bhost\s*:/);
  });
});

describe('servers started without a host', () => {
  it('the control API binds 127.0.0.1', async () => {
    const server = new ControlServer(controller(), { port: 0, token: TOKEN });
    closers.push(() => server.close());
    expect((await server.start()).host).toBe('127.0.0.1');
  });

  it("the operator's control API binds 127.0.0.1", async () => {
    const server = operatorControlServer({ port: 0, token: TOKEN }, {
      controller: controller(),
      target: { status: () => Promise.resolve(undefined) },
      router: { getRoutes: () => Promise.resolve(undefined) },
      traffic: {} as never,
      api: { metricsText: () => '' },
    } as unknown as Parameters<typeof operatorControlServer>[1]);
    closers.push(() => server.close());
    expect((await server.start()).host).toBe('127.0.0.1');
  });

  it("the proxy's admin API binds 127.0.0.1", async () => {
    const proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ port: 0 }], services: [] }));
    await proxy.start();
    closers.push(() => proxy.close());
    const admin = new AdminServer(proxy, { port: 0, token: TOKEN });
    closers.push(() => admin.close());
    expect((await admin.start()).host).toBe('127.0.0.1');
    expect(proxy.address().host).toBe('127.0.0.1');
  });

  it('the webhook receiver binds 127.0.0.1', async () => {
    const receiver = await startWebhookReceiver({
      sources: [{ name: 'app', forge: 'github', repository: 'acme/app', secret: 'hook-secret' }],
      port: 0,
      dedupeFile: join(dir, 'dedupe.jsonl'),
      onPush: () => Promise.resolve({ ignored: 'test' }),
    });
    closers.push(() => receiver.close());
    expect(new URL(receiver.url).hostname).toBe('127.0.0.1');
  });
});

describe('a JSON API bound beyond loopback', () => {
  it('names loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', '::ffff:10.0.0.1', '128.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('warns once, naming the address, when listening on 0.0.0.0; stays quiet on loopback', async () => {
    const lines: string[] = [];
    const quiet = await listenJson(
      () => Promise.resolve(),
      0,
      '127.0.0.1',
      'control',
      (l) => lines.push(l),
    );
    closers.push(() => closeServer(quiet.server));
    expect(lines).toEqual([]);
    const open = await listenJson(
      () => Promise.resolve(),
      0,
      '0.0.0.0',
      'admin',
      (l) => lines.push(l),
    );
    closers.push(() => closeServer(open.server));
    expect(lines).toEqual([exposureWarning('admin', '0.0.0.0', (open.server.address() as AddressInfo).port)]);
    expect(lines[0]).toMatch(
      /the admin API listens on 0\.0\.0\.0:\d+, beyond loopback, over plain HTTP without TLS/,
    );
  });

  it('the control API started on 0.0.0.0 writes the warning to stderr (console.warn)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const server = new ControlServer(controller(), { host: '0.0.0.0', port: 0, token: TOKEN });
    closers.push(() => server.close());
    await server.start();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('the control API listens on 0.0.0.0:'));
    expect(JSON.stringify(warn.mock.calls)).not.toContain(TOKEN);
  });
});
