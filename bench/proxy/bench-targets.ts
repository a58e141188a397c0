/**
 * Starts what the proxy bench loads: the static backends (on the load core, beside the
 * generator) and each proxy under test (alone on the proxy core) — the bare undici proxy,
 * Aviary as the real CLI with a generated config, and HAProxy with the same split.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startPinned, waitForPort, type PinnedProcess, type Placement } from './child-processes.js';
import { aviaryRouterYaml, haproxyBackendConfig, haproxyRouterConfig } from './target-configs.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_DIR = join(BENCH_DIR, '..', '..');
const START_TIMEOUT_MS = 15_000;

/** Something the bench can load: where it listens and the processes that serve it. */
export interface BenchTarget {
  readonly url: string;
  /** Process whose CPU time is the cost of the thing under test (undefined for backends). */
  readonly pid: number | undefined;
  /** More processes whose CPU time is part of that cost (HAProxy's worker beside Aviary's log reader). */
  readonly morePids?: readonly number[];
  readonly processes: readonly PinnedProcess[];
}

/** The two static versions. */
export interface Backends extends BenchTarget {
  readonly kind: 'haproxy' | 'node';
  /** `127.0.0.1:port` of v1 and v2. */
  readonly v1: string;
  readonly v2: string;
}

function tsxChild(
  name: string,
  placement: Placement,
  script: string,
  args: readonly string[],
): PinnedProcess {
  return startPinned(name, placement, process.execPath, [
    '--import',
    'tsx',
    join(BENCH_DIR, script),
    ...args,
  ]);
}

async function listeningPort(proc: PinnedProcess): Promise<number> {
  const [, port] = await proc.waitForLine(/^listening (\d+)$/, START_TIMEOUT_MS);
  return Number(port);
}

/** Starts the static backends: one HAProxy process, or two Node processes. */
export async function startBackends(
  kind: 'haproxy' | 'node',
  placement: Placement,
  dir: string,
): Promise<Backends> {
  if (kind === 'haproxy') {
    const ports = { v1: await freePort(), v2: await freePort() };
    const file = join(dir, 'backends.cfg');
    await writeFile(file, haproxyBackendConfig(ports));
    const proc = startPinned('haproxy backends', placement, 'haproxy', ['-f', file]);
    await Promise.all([waitForPort(ports.v1, START_TIMEOUT_MS), waitForPort(ports.v2, START_TIMEOUT_MS)]);
    const v1 = `127.0.0.1:${ports.v1}`;
    return { kind, v1, v2: `127.0.0.1:${ports.v2}`, url: `http://${v1}/`, pid: undefined, processes: [proc] };
  }
  const v1 = tsxChild('backend v1', placement, 'static-backend.ts', ['v1']);
  const v2 = tsxChild('backend v2', placement, 'static-backend.ts', ['v2']);
  const [p1, p2] = await Promise.all([listeningPort(v1), listeningPort(v2)]);
  return {
    kind,
    v1: `127.0.0.1:${p1}`,
    v2: `127.0.0.1:${p2}`,
    url: `http://127.0.0.1:${p1}/`,
    pid: undefined,
    processes: [v1, v2],
  };
}

/** The reference: bench/proxy/bare-proxy.ts. */
export async function startBareProxy(
  backends: Backends,
  placement: Placement,
  connections: number,
): Promise<BenchTarget> {
  const proc = tsxChild('bare undici proxy', placement, 'bare-proxy.ts', [
    `http://${backends.v1}`,
    `http://${backends.v2}`,
    String(connections),
  ]);
  const port = await listeningPort(proc);
  return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, processes: [proc] };
}

/** Aviary as users run it: `node bin/aviary.js proxy --config FILE --admin 127.0.0.1:0`. */
export async function startAviary(
  backends: Backends,
  placement: Placement,
  connections: number,
  dir: string,
  nodeArgs: readonly string[],
  cli = join(REPO_DIR, 'bin', 'aviary.js'),
  protocol: 'http1' | 'http2' = 'http1',
): Promise<BenchTarget> {
  if (!existsSync(join(REPO_DIR, 'dist', 'cli', 'main.js')) && cli === join(REPO_DIR, 'bin', 'aviary.js'))
    throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  const config = join(dir, protocol === 'http2' ? 'router-h2c.yaml' : 'router.yaml');
  let yaml = aviaryRouterYaml(backends.v1, backends.v2, connections);
  if (protocol === 'http2') {
    yaml = yaml.replace(/(\n {4}port: 0\n)/, '$1    protocol: http2\n');
    if (!yaml.includes('protocol: http2')) throw new Error('bench: could not set the listener protocol');
  }
  await writeFile(config, yaml);
  const proc = startPinned(
    protocol === 'http2' ? 'aviary h2c' : 'aviary',
    placement,
    process.execPath,
    [
      ...nodeArgs,
      cli,
      'proxy',
      '--config',
      config,
      '--admin',
      '127.0.0.1:0',
      '--token-file',
      join(dir, 'token'),
    ],
    { ...process.env, AVIARY_TOKEN: randomBytes(18).toString('base64url') },
  );
  const [, port] = await proc.waitForLine(/listener main on http:\/\/127\.0\.0\.1:(\d+)/, START_TIMEOUT_MS);
  return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, processes: [proc] };
}

/** HAProxy in the foreground with the same split. */
export async function startHaproxy(
  backends: Backends,
  placement: Placement,
  connections: number,
  dir: string,
): Promise<BenchTarget> {
  const port = await freePort();
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, haproxyRouterConfig(port, backends.v1, backends.v2, connections));
  const proc = startPinned('haproxy', placement, 'haproxy', ['-f', file]);
  await waitForPort(port, START_TIMEOUT_MS);
  return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, processes: [proc] };
}

/**
 * Aviary's HAProxy router: bench/proxy/aviary-haproxy.ts, which runs the product's `haproxy`
 * engine (HAProxy plus Aviary's request-log reader) on the proxy core. Its cost is both
 * processes' CPU time.
 */
export async function startAviaryHaproxy(backends: Backends, placement: Placement): Promise<BenchTarget> {
  const proc = tsxChild('aviary haproxy router', placement, 'aviary-haproxy.ts', [backends.v1, backends.v2]);
  const [, port, worker] = await proc.waitForLine(/^listening (\d+) worker (\d+)$/, START_TIMEOUT_MS);
  return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, morePids: [Number(worker)], processes: [proc] };
}
