/**
 * The servers of the HTTP front-end fuzz suite (http-front-ends.fuzz.test.ts): the four
 * front ends under test as a user starts them (router, proxy admin API, control API, webhook
 * receiver), the backend that counts what reaches it, the plain Node server whose parse of
 * the same bytes is the reference, and the property an answer must hold.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AdminServer } from '../../src/api/admin-server.js';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { startTestReceiver } from '../../src/pipelines/webhook/test-support.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { startPipelinesControlServer } from '../support/pipelines-control-server.js';
import { statusCodesOf, type RawAnswer } from './http-raw-client.js';
import { SMUGGLED_PATH } from './http-request-arbitraries.js';

/** A plain Node server counting the requests llhttp finds on each connection. */
export interface Reference {
  readonly port: number;
  requestsOn(localPort: number): { total: number; smuggled: number };
  close(): Promise<void>;
}

export async function startReference(): Promise<Reference> {
  const counts = new Map<number, { total: number; smuggled: number }>();
  const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    const remotePort = req.socket.remotePort ?? 0;
    const count = counts.get(remotePort) ?? { total: 0, smuggled: 0 };
    count.total++;
    if (req.url === SMUGGLED_PATH) count.smuggled++;
    counts.set(remotePort, count);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await listen(server);
  return {
    port: (server.address() as AddressInfo).port,
    requestsOn: (localPort) => counts.get(localPort) ?? { total: 0, smuggled: 0 },
    close: () => closeServer(server),
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A front end under test: where it listens, a well-formed request it must still answer, and its teardown. */
export interface FrontEnd {
  readonly port: number;
  /** Path of a GET a working server answers... */
  readonly healthPath: string;
  /** ...with this status. */
  readonly healthStatus: number;
  close(): Promise<void>;
}

/** Backend behind the router: counts what reaches it and records any request framed both ways. */
export interface CountingBackend {
  readonly address: string;
  readonly counts: { total: number; smuggled: number; bothFramings: string[] };
  close(): Promise<void>;
}

export async function startCountingBackend(): Promise<CountingBackend> {
  const counts = { total: 0, smuggled: 0, bothFramings: [] as string[] };
  // A larger head limit than the router's, so the router's own forwarding fields never push a
  // fuzzed head over the backend's limit (a 431 there is a 502 at the router, and no finding).
  const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    counts.total++;
    if (req.url === SMUGGLED_PATH) counts.smuggled++;
    if (req.headers['content-length'] !== undefined && req.headers['transfer-encoding'] !== undefined)
      counts.bothFramings.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    req.resume();
    req.on('end', () => res.end('v1'));
  });
  await listen(server);
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () => closeServer(server),
  };
}

function proxyConfig(backend: string, limits: Record<string, number> = {}) {
  return proxyConfigSchema.parse({
    listeners: [{ port: 0 }],
    limits: { drainTimeout: 500, ...limits },
    services: [
      {
        name: 'shop',
        versions: [{ name: 'v1', endpoints: [backend] }],
        routes: [{ name: 'main', targets: [{ version: 'v1', weight: 1 }] }],
      },
    ],
  });
}

export async function startRouter(backend: string, limits?: Record<string, number>): Promise<FrontEnd> {
  const proxy = new ProxyServer(proxyConfig(backend, limits));
  await proxy.start();
  return { port: proxy.address().port, healthPath: '/', healthStatus: 200, close: () => proxy.close() };
}

async function startAdmin(backend: string): Promise<FrontEnd> {
  const proxy = new ProxyServer(proxyConfig(backend));
  await proxy.start();
  const admin = new AdminServer(proxy, { port: 0, token: 'admin-fuzz-token' });
  const { port } = await admin.start();
  return {
    port,
    healthPath: '/healthz',
    healthStatus: 200,
    close: async () => {
      await admin.close();
      await proxy.close();
    },
  };
}

async function startControl(): Promise<FrontEnd> {
  const control = await startPipelinesControlServer();
  return {
    port: Number(new URL(control.url).port),
    healthPath: '/api/v1/rollouts',
    healthStatus: 200,
    close: () => control.close(),
  };
}

async function startReceiver(): Promise<FrontEnd> {
  const receiver = await startTestReceiver();
  return {
    port: Number(new URL(receiver.url).port),
    healthPath: '/hooks/github',
    healthStatus: 405,
    close: () => receiver.dispose(),
  };
}

/** Runs `work` over `items`, `limit` at a time. */
export async function inPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

/** Heap in use after a full collection (V8's gc, exposed at run time when the process lacks --expose-gc). */
export function heapUsed(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Why `answer` breaks the front-end property, given what the reference made of the same bytes; undefined if it holds. */
export function violationOf(answer: RawAnswer, referenceRequests: number): string | undefined {
  const codes = statusCodesOf(answer.text);
  if (codes.some((code) => !Number.isInteger(code)))
    return `malformed answer ${JSON.stringify(answer.text.slice(0, 200))}`;
  if (codes.some((code) => code >= 500)) return `5xx answer ${JSON.stringify(answer.text.slice(0, 300))}`;
  if (referenceRequests === 0 && codes.some((code) => code < 400))
    return `answered ${codes.join(',')} to bytes that hold no request`;
  return undefined;
}

export const frontEnds: { name: string; start: (backend: string) => Promise<FrontEnd> }[] = [
  { name: 'router (proxy listener)', start: (backend) => startRouter(backend) },
  { name: 'proxy admin API', start: startAdmin },
  { name: 'control API', start: startControl },
  { name: 'webhook receiver', start: startReceiver },
];
