/**
 * Shared fixtures of the router's integration suites: loopback backends on port 0 that
 * record what reaches them, a router started from a config document, keep-alive clients,
 * a reader of the Prometheus text, and cleanup after every test.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { Agent, request, type Dispatcher } from 'undici';
import { proxyConfigSchema, type ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';

/** A route as a user writes it. */
export type RouteInput = NonNullable<ProxyConfigInput['services']>[number]['routes'][number];
/** A version as a user writes it. */
export type VersionInput = NonNullable<ProxyConfigInput['services']>[number]['versions'][number];

/** One request as a backend saw it, body included. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Answers a request once its body has been read. */
export type BackendHandler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void;

/** A loopback HTTP server standing in for one endpoint of a version. */
export interface Backend {
  readonly name: string;
  /** `127.0.0.1:port`, as a version's endpoint list wants it. */
  readonly address: string;
  /** Requests whose body was read completely, in arrival order. */
  readonly seen: SeenRequest[];
  /** Requests whose head arrived (counted before the body is read). */
  readonly received: () => number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** A started router and where to reach it. */
export interface StartedProxy {
  readonly proxy: ProxyServer;
  /** `http://127.0.0.1:port` of the first listener. */
  readonly origin: string;
  readonly port: number;
}

/** A compact answer: status, lower-case headers and the body as text. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Answers with the backend's name as the body and in `x-backend`. */
function answerWithName(name: string): BackendHandler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
    res.end(name);
  };
}

/** Starts a backend; by default it answers 200 with its own name. */
export async function startBackend(
  name: string,
  handler: BackendHandler = answerWithName(name),
): Promise<Backend> {
  const seen: SeenRequest[] = [];
  let received = 0;
  let connections = 0;
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    received++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(request);
      handler(req, res, request);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    address: `127.0.0.1:${port}`,
    seen,
    received: () => received,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An address where nothing listens (a port bound once, then released). */
export async function closedAddress(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** Parses `input` with the router schema and starts a router on it. */
export async function startProxy(input: ProxyConfigInput): Promise<StartedProxy> {
  const proxy = new ProxyServer(proxyConfigSchema.parse(input));
  await proxy.start();
  const { port } = proxy.address();
  return { proxy, origin: `http://127.0.0.1:${port}`, port };
}

/**
 * One service, `shop`, with `versions` and `routes` on one listener on port 0. The drain is
 * 2 s unless `limits` sets it, so a test that leaves a stalled exchange behind does not hold
 * cleanup for 30 s.
 */
export function shopConfig(
  versions: VersionInput[],
  routes: RouteInput[],
  limits: ProxyConfigInput['limits'] = {},
): ProxyConfigInput {
  return {
    listeners: [{ port: 0 }],
    limits: { drainTimeout: 2_000, ...limits },
    services: [{ name: 'shop', versions, routes }],
  };
}

/** A one-service, one-route config on one listener on port 0. */
export function routeConfig(
  versions: Readonly<Record<string, readonly string[]>>,
  route: Partial<RouteInput> & Pick<RouteInput, 'targets'>,
  versionExtras: Partial<VersionInput> = {},
): ProxyConfigInput {
  return shopConfig(
    Object.entries(versions).map(([name, endpoints]) => ({
      ...versionExtras,
      name,
      endpoints: [...endpoints],
    })),
    [{ name: 'main', ...route }],
  );
}

/** Weighted targets from a `{version: weight}` record. */
export function targets(weights: Readonly<Record<string, number>>): RouteInput['targets'] {
  return Object.entries(weights).map(([version, weight]) => ({ version, weight }));
}

/** Sends one request and reads the whole answer. */
export async function send(
  url: string,
  options: {
    method?: Dispatcher.HttpMethod;
    headers?: Record<string, string | string[]>;
    body?: string | Buffer | NodeJS.ReadableStream;
    dispatcher?: Dispatcher;
  } = {},
): Promise<Answer> {
  const res = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    body: (options.body ?? null) as Buffer | null,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** Runs `task(0..total-1)` with at most `concurrency` calls in flight. */
export async function inParallel(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

/** Counts the values of `items`. */
export function tally(items: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

/**
 * Polls `condition` until it holds. The deadline is generous on purpose: it bounds a hung
 * test, it is not a performance assertion.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  deadlineMs = 10_000,
): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Everything a test opened, closed after it in reverse order. */
export interface Fixtures {
  backend(name: string, handler?: BackendHandler): Promise<Backend>;
  proxy(input: ProxyConfigInput): Promise<StartedProxy>;
  /** A keep-alive client with up to `connections` sockets per origin. */
  client(connections?: number): Agent;
  /** Runs `cleanup` after the test. */
  defer(cleanup: () => unknown): void;
}

/** Registers an `afterEach` that closes whatever the test opened through the returned fixtures. */
export function useFixtures(): Fixtures {
  let cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    for (const cleanup of pending) await cleanup();
  });
  return {
    async backend(name, handler) {
      const backend = await startBackend(name, handler);
      cleanups.push(() => backend.close());
      return backend;
    },
    async proxy(input) {
      const started = await startProxy(input);
      cleanups.push(() => started.proxy.close());
      return started;
    },
    client(connections = 32) {
      const agent = new Agent({ connections, keepAliveTimeout: 10_000 });
      cleanups.push(() => agent.destroy());
      return agent;
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
  };
}

/**
 * Sum of the samples of `metric` in a Prometheus text exposition whose labels include
 * every pair of `labels` (0 when none match).
 */
export function sampleSum(
  exposition: string,
  metric: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== metric) continue;
    const found = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      found.set(pair[1]!, pair[2]!);
    }
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) sum += Number(match[3]);
  }
  return sum;
}
