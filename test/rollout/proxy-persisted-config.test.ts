/**
 * Issue 11, 1b: `aviary proxy --state DIR` persists each configuration it accepts and, on
 * start, loads it before listening. A proxy killed with SIGKILL and started again answers
 * its routes (not `404 no route`) from the first connection it accepts, on the ports it had.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFile } from 'node:fs/promises';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { readInstanceRecord, type ProxyInstanceRecord } from '../../src/router/proxy-instance.js';
import { SupervisedProxy } from '../../src/router/proxy-process.js';
import { onCleanup, tempDir, TEST_TIMEOUT_MS, waitFor, waitUntilGone } from './support.js';
import { spawnInGroup, type GroupProcess } from './up-process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'persisted-config-token';

/** `aviary proxy --state dir` in its own process group; killed after the test. */
function startProxy(dir: string, admin: string): GroupProcess {
  const args = ['proxy', '--config', join(dir, 'bootstrap.json'), '--admin', admin];
  args.push('--token-file', join(dir, 'token'), '--state', join(dir, 'state'));
  return spawnInGroup(args, TOKEN);
}

/** The record a started proxy writes once it listens. */
function recordOf(dir: string, pid: number, output: () => string): Promise<ProxyInstanceRecord> {
  return waitFor(
    'the proxy to record its addresses',
    async () => {
      const record = await readInstanceRecord(join(dir, 'state'));
      return record?.pid === pid ? record : undefined;
    },
    output,
  );
}

/** A loopback upstream answering `{"version":"1"}`; closed after the test. */
async function startBackend(): Promise<number> {
  const backend = createServer((_req, res) => res.end(JSON.stringify({ version: '1' })));
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => backend.close(() => resolve())));
  return (backend.address() as AddressInfo).port;
}

/** Replaces the proxy's services with one routing every path to the backend. */
async function routeToBackend(admin: string, backendPort: number): Promise<void> {
  const current = (await (await fetch(`${admin}/config`)).json()) as { config: object };
  const service = {
    name: 'catalogdetail',
    versions: [{ name: 'v1', endpoints: [`127.0.0.1:${backendPort}`] }],
    routes: [{ name: 'main', match: { path: { prefix: '/' } }, targets: [{ version: 'v1', weight: 100 }] }],
  };
  const put = await fetch(`${admin}/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...current.config, services: [service] }),
  });
  expect(put.status).toBe(200);
}

describe('aviary proxy --state', { timeout: TEST_TIMEOUT_MS }, () => {
  it('answers the persisted routes from its first accepted connection after a SIGKILL', async () => {
    const backendPort = await startBackend();
    const dir = await tempDir();
    await writeFile(
      join(dir, 'bootstrap.json'),
      JSON.stringify({ listeners: [{ name: 'router', port: 0 }] }),
    );

    const first = startProxy(dir, '127.0.0.1:0');
    const record = await recordOf(dir, first.child.pid!, first.output);
    await routeToBackend(record.admin, backendPort);
    const routerUrl = record.listeners.router!;
    expect((await request(`${routerUrl}/catalogDetail`)).statusCode).toBe(200);

    process.kill(-first.child.pid!, 'SIGKILL');
    await new Promise<void>((resolve) => first.child.once('exit', () => resolve()));
    const second = startProxy(dir, new URL(record.admin).host);
    // Knock until a connection is accepted: the first answer must already be the route's.
    const firstAnswer = await waitFor(
      'the restarted proxy to accept a connection',
      async () => {
        try {
          const response = await request(`${routerUrl}/catalogDetail`, { reset: true });
          return { status: response.statusCode, body: await response.body.text() };
        } catch (err) {
          if ((err as { code?: string }).code === 'ECONNREFUSED') return undefined;
          throw err;
        }
      },
      second.output,
    );
    expect(firstAnswer).toEqual({ status: 200, body: JSON.stringify({ version: '1' }) });
    const restarted = await recordOf(dir, second.child.pid!, second.output);
    expect(restarted.listeners.router).toBe(routerUrl);
    expect(second.output()).toContain(`configuration from ${join(dir, 'state', 'config.json')}`);
  });

  it('is started again by its supervisor on the same ports, with its routes, when it dies', async () => {
    const backendPort = await startBackend();
    const dir = join(await tempDir(), 'proxy');
    const command = [process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts')];
    const proxy = await SupervisedProxy.startOrAdopt({
      dir,
      listener: { name: 'router', host: '127.0.0.1', port: 0 },
      token: TOKEN,
      command,
    });
    onCleanup(() => proxy.close());
    expect(proxy.adopted).toBe(false);
    const { adminUrl, routerUrl, pid } = proxy;
    await routeToBackend(adminUrl, backendPort);

    process.kill(-pid, 'SIGKILL');
    await waitUntilGone([pid]);
    await waitFor('the supervisor to start the proxy again', () => (proxy.pid !== pid ? true : undefined));
    expect(proxy.adminUrl).toBe(adminUrl);
    expect(proxy.routerUrl).toBe(routerUrl);
    const answer = await request(`${routerUrl}/catalogDetail`);
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.text()).toBe(JSON.stringify({ version: '1' }));

    const restartedPid = proxy.pid;
    await proxy.close();
    await waitUntilGone([restartedPid]);
    expect(await readInstanceRecord(dir)).toBeUndefined();
  });
});
