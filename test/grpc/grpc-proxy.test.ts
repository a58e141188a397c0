/**
 * gRPC through the built-in router, with a real @grpc/grpc-js server and client on
 * loopback: every call shape over h2c, weights, retries on gRPC statuses, per-version
 * error counts by gRPC status, `grpc-timeout`, and failures answered as gRPC statuses.
 */
import { connect } from 'node:http2';
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { binomialBounds } from '../proxy/goodness-of-fit.js';
import { closedAddress, sampleSum, useFixtures, waitFor, type RouteInput } from '../proxy/support.js';
import {
  callUnary,
  echoClient,
  grpc,
  startEchoServer,
  type EchoServer,
  type Note,
  type UnaryScript,
} from './grpc-support.js';

const fixtures = useFixtures();

async function echoServer(name: string, unary?: UnaryScript): Promise<EchoServer> {
  const server = await startEchoServer(name, unary);
  fixtures.defer(() => server.close());
  return server;
}

/** One gRPC service on one h2c listener; versions speak HTTP/2 (h2c) to their endpoints. */
function grpcConfig(
  versions: Readonly<Record<string, readonly string[]>>,
  route: Partial<RouteInput> = {},
): ProxyConfigInput {
  return {
    listeners: [{ port: 0, protocol: 'http2' }],
    limits: { drainTimeout: 2_000 },
    services: [
      {
        name: 'echo',
        versions: Object.entries(versions).map(([name, endpoints]) => ({
          name,
          endpoints: [...endpoints],
          protocol: 'http2' as const,
        })),
        routes: [
          {
            name: 'all',
            targets: Object.keys(versions).map((version, i) => ({ version, weight: i === 0 ? 100 : 0 })),
            ...route,
          },
        ],
      },
    ],
  };
}

async function routerClient(config: ProxyConfigInput) {
  const started = await fixtures.proxy(config);
  const client = echoClient(`127.0.0.1:${started.port}`);
  fixtures.defer(() => client.close());
  return { ...started, client };
}

function serverStream(client: grpc.Client, count: number): Promise<Note[]> {
  const call = (client as unknown as { ServerStream(r: Note): grpc.ClientReadableStream<Note> }).ServerStream(
    {
      text: String(count),
      version: '',
    },
  );
  const notes: Note[] = [];
  call.on('data', (note: Note) => notes.push(note));
  return new Promise((resolve, reject) => {
    call.on('end', () => resolve(notes));
    call.on('error', reject);
  });
}

function clientStream(client: grpc.Client, texts: readonly string[]): Promise<Note> {
  return new Promise((resolve, reject) => {
    const call = (
      client as unknown as {
        ClientStream(cb: (e: grpc.ServiceError | null, n?: Note) => void): grpc.ClientWritableStream<Note>;
      }
    ).ClientStream((err, note) => (err ? reject(err) : resolve(note!)));
    for (const text of texts) call.write({ text, version: '' });
    call.end();
  });
}

/** Ping-pong on a bidi stream: each note is sent only after the answer to the previous one arrived. */
async function bidiPingPong(client: grpc.Client, texts: readonly string[]): Promise<Note[]> {
  const call = (client as unknown as { Bidi(): grpc.ClientDuplexStream<Note, Note> }).Bidi();
  const answers: Note[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    call.on('end', resolve);
    call.on('error', reject);
  });
  for (const text of texts) {
    const answered = new Promise<Note>((resolve) => call.once('data', resolve));
    call.write({ text, version: '' });
    answers.push(await answered);
  }
  call.end();
  await ended;
  return answers;
}

describe('gRPC through the built-in router (h2c)', () => {
  it('proxies unary, server-streaming, client-streaming and bidirectional calls with their status', async () => {
    const v1 = await echoServer('v1');
    const { client } = await routerClient(grpcConfig({ v1: [v1.address] }));

    expect(await callUnary(client, 'hello')).toEqual({ note: { text: 'hello', version: 'v1' } });
    const streamed = await serverStream(client, 5);
    expect(streamed.map((n) => n.text)).toEqual(['1', '2', '3', '4', '5']);
    expect(await clientStream(client, ['a', 'b', 'c'])).toEqual({ text: 'a,b,c', version: 'v1' });
    const bidi = await bidiPingPong(client, ['x', 'y', 'z']);
    expect(bidi.map((n) => n.text)).toEqual(['echo:x', 'echo:y', 'echo:z']);
  });

  it('streams a bidirectional call on a route with retries (the body is not held back for replay)', async () => {
    const v1 = await echoServer('v1');
    const { client } = await routerClient(
      grpcConfig({ v1: [v1.address] }, { retries: { attempts: 2, retryOn: ['unavailable'] } }),
    );
    const bidi = await bidiPingPong(client, ['1', '2', '3', '4']);
    expect(bidi.map((n) => n.text)).toEqual(['echo:1', 'echo:2', 'echo:3', 'echo:4']);
    expect((await clientStream(client, ['p', 'q'])).text).toBe('p,q');
  });

  it('passes a gRPC error status and message through from the trailers', async () => {
    const v1 = await echoServer('v1', () => ({ code: grpc.status.NOT_FOUND, message: 'no such note' }));
    const { client } = await routerClient(grpcConfig({ v1: [v1.address] }));
    const { error } = await callUnary(client, 'x');
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(error?.details).toBe('no such note');
  });

  it('splits calls by weight: at 50/50 both versions answer, each within binomial bounds', async () => {
    const v1 = await echoServer('v1');
    const v2 = await echoServer('v2');
    const { client } = await routerClient(
      grpcConfig(
        { v1: [v1.address], v2: [v2.address] },
        {
          targets: [
            { version: 'v1', weight: 50 },
            { version: 'v2', weight: 50 },
          ],
        },
      ),
    );
    const calls = 400;
    const answers = await Promise.all(Array.from({ length: calls }, (_, i) => callUnary(client, String(i))));
    const v1Count = answers.filter((a) => a.note?.version === 'v1').length;
    const v2Count = answers.filter((a) => a.note?.version === 'v2').length;
    expect(v1Count + v2Count).toBe(calls);
    // Each bound fails a correct router with probability at most 1e-6 on each side.
    const { low, high } = binomialBounds(calls, 0.5, 1e-6);
    expect(v1Count).toBeGreaterThanOrEqual(low);
    expect(v1Count).toBeLessThanOrEqual(high);
  });

  it('retries a call answered UNAVAILABLE when retryOn names unavailable', async () => {
    const v1 = await echoServer('v1', (n, request) =>
      n === 1
        ? { code: grpc.status.UNAVAILABLE, message: 'warming up' }
        : { note: { text: request.text, version: 'v1' } },
    );
    const { client, proxy } = await routerClient(
      grpcConfig({ v1: [v1.address] }, { retries: { attempts: 2, retryOn: ['unavailable'] } }),
    );
    expect(await callUnary(client, 'again')).toEqual({ note: { text: 'again', version: 'v1' } });
    expect(v1.unaryCalls()).toBe(2);
    const text = proxy.metrics.render();
    expect(sampleSum(text, 'aviary_proxy_retries_total', { version: 'v1' })).toBe(1);
    expect(sampleSum(text, 'aviary_proxy_grpc_responses_total', { version: 'v1', grpc_code: 'OK' })).toBe(1);
  });

  it('replays a client stream to the next try when the first answers UNAVAILABLE', async () => {
    const v1 = await startEchoServer('v1', undefined, undefined, 1);
    fixtures.defer(() => v1.close());
    const { client } = await routerClient(
      grpcConfig({ v1: [v1.address] }, { retries: { attempts: 2, retryOn: ['unavailable'] } }),
    );
    expect(await clientStream(client, ['a', 'b', 'c'])).toEqual({ text: 'a,b,c', version: 'v1' });
    // Both tries read the whole stream: the second got the bytes the first had consumed.
    expect(v1.clientStreams()).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
  });

  it('does not replay a stream longer than retries.bufferBytes', async () => {
    const v1 = await startEchoServer('v1', undefined, undefined, 1);
    fixtures.defer(() => v1.close());
    const { client } = await routerClient(
      grpcConfig(
        { v1: [v1.address] },
        { retries: { attempts: 2, retryOn: ['unavailable'], bufferBytes: 16 } },
      ),
    );
    await expect(clientStream(client, ['a long enough note', 'and another one'])).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    expect(v1.clientStreams()).toHaveLength(1);
  });

  it('does not retry statuses retryOn does not name', async () => {
    const v1 = await echoServer('v1', () => ({ code: grpc.status.INTERNAL, message: 'bug' }));
    const { client } = await routerClient(
      grpcConfig({ v1: [v1.address] }, { retries: { attempts: 2, retryOn: ['unavailable'] } }),
    );
    expect((await callUnary(client, 'x')).error?.code).toBe(grpc.status.INTERNAL);
    expect(v1.unaryCalls()).toBe(1);
  });

  it('counts grpc-status errors per version and gRPC code, as server errors for the judge', async () => {
    const v1 = await echoServer('v1');
    const v2 = await echoServer('v2', () => ({ code: grpc.status.UNAVAILABLE, message: 'down' }));
    const { client, proxy } = await routerClient(
      grpcConfig(
        { v1: [v1.address], v2: [v2.address] },
        {
          targets: [
            { version: 'v1', weight: 1 },
            { version: 'v2', weight: 1 },
          ],
        },
      ),
    );
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => callUnary(client, String(i))));
    const failed = answers.filter((a) => a.error !== undefined).length;
    expect(failed).toBe(v2.unaryCalls());
    expect(failed).toBeGreaterThan(0);
    const text = proxy.metrics.render();
    expect(
      sampleSum(text, 'aviary_proxy_grpc_responses_total', { version: 'v2', grpc_code: 'UNAVAILABLE' }),
    ).toBe(failed);
    expect(sampleSum(text, 'aviary_proxy_grpc_responses_total', { version: 'v1', grpc_code: 'OK' })).toBe(
      60 - failed,
    );
    expect(sampleSum(text, 'aviary_proxy_requests_total', { version: 'v2', code: '503' })).toBe(failed);
    expect(proxy.metrics.versionTraffic('echo', 'v2').totals.errors5xx).toBe(failed);
    expect(proxy.metrics.versionTraffic('echo', 'v1').totals.errors5xx).toBe(0);
  });

  it('answers DEADLINE_EXCEEDED itself when grpc-timeout expires before the upstream answers', async () => {
    const v1 = await echoServer('v1', () => undefined);
    const { port, proxy } = await routerClient(grpcConfig({ v1: [v1.address] }));
    // A raw HTTP/2 call, so the deadline is the router's to enforce (a grpc-js client would enforce its own).
    const session = connect(`http://127.0.0.1:${port}`);
    fixtures.defer(() => session.close());
    const stream = session.request({
      ':method': 'POST',
      ':path': '/aviary.test.Echo/Unary',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '200m',
    });
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
    const headers = await new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve));
    const trailers = new Promise<Record<string, unknown>>((resolve) => stream.once('trailers', resolve));
    stream.resume();
    expect(headers[':status']).toBe(200);
    expect((await trailers)['grpc-status']).toBe('4');
    await waitFor(
      'the timeout in the metrics',
      () =>
        sampleSum(proxy.metrics.render(), 'aviary_proxy_grpc_responses_total', {
          grpc_code: 'DEADLINE_EXCEEDED',
        }) === 1,
    );
    expect(sampleSum(proxy.metrics.render(), 'aviary_proxy_upstream_errors_total', { kind: 'timeout' })).toBe(
      1,
    );
  });

  it('answers UNAVAILABLE when a version has no reachable endpoint', async () => {
    const { client } = await routerClient(grpcConfig({ v1: [await closedAddress()] }));
    const { error } = await callUnary(client, 'x');
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(error?.details).toMatch(/upstream connect error/);
  });
});
