/**
 * Issue 11, section 5: a busy port at start is one line naming the port and its setting,
 * exit code 2 and no stack trace, and whatever had started is stopped, so the command
 * exits by itself. Each port of `aviary up`, `aviary demo` and `aviary proxy` is taken by a
 * real listening socket first; the ports the command opened before failing must refuse
 * connections afterwards. Until this test, `up` and `demo --exit-after-story` hung with the
 * router port open when only the API port was taken.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runCli, type CliResult } from './cli-support.js';

/** Never started: every start here fails before the controller starts an app. */
const HTTP_APP = join(REPO_ROOT, 'test/fixtures/apps/http-app.js');

let dir: string;
const servers: Server[] = [];

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'aviary-start-failures-'));
}, 240_000);

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A port held by a real listening socket on 127.0.0.1 for the rest of the test. */
async function busyPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return (server.address() as AddressInfo).port;
}

/** A port free now (bound and released), for a listener the command must open. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

/** True when nothing accepts connections on the loopback port. */
function refuses(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      answer(false);
    });
    socket.once('error', () => answer(true));
  });
}

/** The command exited by itself (runCli rejects when it must be killed) with one clean line. */
function expectOneLine(result: CliResult, line: RegExp): void {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(2);
}

function inUse(setting: string, port: number): RegExp {
  const escaped = setting.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return new RegExp(
    `^aviary: ${escaped} ${port} on 127\\.0\\.0\\.1 is in use \\(EADDRINUSE\\); choose another port or stop what listens there$`,
  );
}

async function aviaryYaml(name: string, routerPort: number, apiPort: number): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    `apiVersion: aviary.dev/v1alpha1
kind: Aviary
router: {port: ${routerPort}}
api: {port: ${apiPort}}
stateDir: ${JSON.stringify(join(dir, `${name}-state`))}
apps:
  - name: catalogdetail
    path: /catalogDetail
    process: {command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(HTTP_APP)}]}
`,
  );
  return file;
}

const TOKEN_ENV = { AVIARY_TOKEN: 'start-failures-token' };

describe('aviary up with a busy port', () => {
  it('router.port taken: one line, exit 2, the API port never opened', async () => {
    const [busy, api] = [await busyPort(), await freePort()];
    const result = await runCli(['up', '-f', await aviaryYaml('up-router', busy, api)], { env: TOKEN_ENV });
    expectOneLine(result, inUse('router.port', busy));
    expect(await refuses(api)).toBe(true);
  });

  it('api.port taken: one line, exit 2, the router port it opened is closed', async () => {
    const [router, busy] = [await freePort(), await busyPort()];
    const result = await runCli(['up', '-f', await aviaryYaml('up-api', router, busy)], { env: TOKEN_ENV });
    expectOneLine(result, inUse('api.port', busy));
    expect(await refuses(router)).toBe(true);
  });
});

describe('aviary demo --exit-after-story with a busy port', () => {
  const demo = (name: string, routerPort: number, apiPort: number): Promise<CliResult> =>
    runCli([
      'demo',
      '--fast',
      '--exit-after-story',
      '--router-port',
      String(routerPort),
      '--api-port',
      String(apiPort),
      '--state-dir',
      join(dir, name),
    ]);

  it('router port taken: one line, exit 2, the API port never opened', async () => {
    const [busy, api] = [await busyPort(), await freePort()];
    expectOneLine(await demo('demo-router', busy, api), inUse('--router-port', busy));
    expect(await refuses(api)).toBe(true);
  });

  it('API port taken: one line, exit 2, the router port it opened is closed', async () => {
    const [router, busy] = [await freePort(), await busyPort()];
    expectOneLine(await demo('demo-api', router, busy), inUse('--api-port', busy));
    expect(await refuses(router)).toBe(true);
  });
});

describe('aviary proxy with a busy port', () => {
  const proxy = async (name: string, listenerPorts: number[], adminPort: number): Promise<CliResult> => {
    const config = join(dir, `${name}.json`);
    const listeners = listenerPorts.map((port, i) => ({ name: `l${i}`, host: '127.0.0.1', port }));
    await writeFile(config, JSON.stringify({ listeners }));
    return runCli(
      ['proxy', '--config', config, '--admin', `127.0.0.1:${adminPort}`, '--token-file', join(dir, 'token')],
      { env: TOKEN_ENV },
    );
  };

  it('a listener port taken: one line naming the listener, exit 2, the listener before it closed', async () => {
    const [first, busy, admin] = [await freePort(), await busyPort(), await freePort()];
    expectOneLine(
      await proxy('proxy-listener', [first, busy], admin),
      inUse('listeners[1].port (listener l1)', busy),
    );
    expect(await refuses(first)).toBe(true);
    expect(await refuses(admin)).toBe(true);
  });

  it('the admin port taken: one line naming --admin, exit 2, the listener closed', async () => {
    const [listener, busy] = [await freePort(), await busyPort()];
    expectOneLine(await proxy('proxy-admin', [listener], busy), inUse('--admin', busy));
    expect(await refuses(listener)).toBe(true);
  });
});
