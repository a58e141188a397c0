/**
 * Trailers and gRPC retry events through the built-in router, with a real grpc-js server and
 * client over h2c: a server's trailing metadata (text and `-bin`) reaches the client after a
 * unary answer, an error and a server stream; and each of App Mesh's `grpcRetryEvents` retries
 * the status it names, once, on the version's next try.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { useFixtures } from '../proxy/support.js';
import { callUnary, EchoClient, echoClient, grpc, startEchoServer, type Note } from './grpc-support.js';

const fixtures = useFixtures();

/** Trailing metadata every call of {@link startTrailerServer} ends with. */
function trailer(kind: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('x-cost', kind);
  metadata.set('x-trace-bin', Buffer.from([0, 1, 2, 255]));
  return metadata;
}

/** An Echo server whose calls end with {@link trailer}; a unary call with text `fail` ends RESOURCE_EXHAUSTED. */
async function startTrailerServer(): Promise<string> {
  const server = new grpc.Server();
  server.addService(EchoClient.service, {
    Unary: (call: grpc.ServerUnaryCall<Note, Note>, done: grpc.sendUnaryData<Note>) => {
      if (call.request.text === 'fail')
        done({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'quota', metadata: trailer('error') });
      else done(null, { text: call.request.text, version: 'v1' }, trailer('unary'));
    },
    ServerStream: (call: grpc.ServerWritableStream<Note, Note>) => {
      for (let i = 1; i <= 3; i++) call.write({ text: String(i), version: 'v1' });
      call.end(trailer('stream'));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  fixtures.defer(() => server.forceShutdown());
  return `127.0.0.1:${port}`;
}

function echoConfig(endpoint: string, retryOn?: string): ProxyConfigInput {
  return {
    listeners: [{ port: 0, protocol: 'http2' }],
    limits: { drainTimeout: 2_000 },
    services: [
      {
        name: 'echo',
        versions: [{ name: 'v1', endpoints: [endpoint], protocol: 'http2' }],
        routes: [
          {
            name: 'all',
            targets: [{ version: 'v1', weight: 1 }],
            ...(retryOn ? { retries: { attempts: 2, retryOn: [retryOn] } } : {}),
          },
        ],
      },
    ],
  };
}

async function clientOf(config: ProxyConfigInput) {
  const { port } = await fixtures.proxy(config);
  const client = echoClient(`127.0.0.1:${port}`);
  fixtures.defer(() => client.close());
  return client;
}

/** The status (with its trailing metadata) a call ended with. */
function statusOf(call: { on(event: 'status', listener: (s: grpc.StatusObject) => void): unknown }) {
  return new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
}

const trailingOf = (status: grpc.StatusObject) => ({
  cost: status.metadata.get('x-cost'),
  trace: status.metadata.get('x-trace-bin'),
});

describe('gRPC trailers through the built-in router', () => {
  it('passes a unary call’s trailing metadata, text and binary, after an answer and after an error', async () => {
    const client = await clientOf(echoConfig(await startTrailerServer()));
    const unary = client as unknown as {
      Unary(r: Note, cb: (e: grpc.ServiceError | null) => void): grpc.ClientUnaryCall;
    };
    const ok = statusOf(unary.Unary({ text: 'hi', version: '' }, () => undefined));
    expect(await ok).toMatchObject({ code: grpc.status.OK });
    expect(trailingOf(await ok)).toEqual({ cost: ['unary'], trace: [Buffer.from([0, 1, 2, 255])] });

    const failed = statusOf(unary.Unary({ text: 'fail', version: '' }, () => undefined));
    expect(await failed).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'quota' });
    expect(trailingOf(await failed)).toEqual({ cost: ['error'], trace: [Buffer.from([0, 1, 2, 255])] });
  });

  it('passes a server stream’s trailing metadata after its messages', async () => {
    const client = await clientOf(echoConfig(await startTrailerServer()));
    const call = (
      client as unknown as { ServerStream(r: Note): grpc.ClientReadableStream<Note> }
    ).ServerStream({
      text: '3',
      version: '',
    });
    const texts: string[] = [];
    call.on('data', (note: Note) => texts.push(note.text));
    const status = await statusOf(call);
    expect(texts).toEqual(['1', '2', '3']);
    expect(status.code).toBe(grpc.status.OK);
    expect(trailingOf(status)).toEqual({ cost: ['stream'], trace: [Buffer.from([0, 1, 2, 255])] });
  });
});

describe('gRPC retry events', () => {
  const EVENTS = [
    ['cancelled', grpc.status.CANCELLED],
    ['deadline-exceeded', grpc.status.DEADLINE_EXCEEDED],
    ['internal', grpc.status.INTERNAL],
    ['resource-exhausted', grpc.status.RESOURCE_EXHAUSTED],
    ['unavailable', grpc.status.UNAVAILABLE],
  ] as const;

  it.each(EVENTS)('retryOn %s retries a call answered with that status', async (event, code) => {
    const server = await startEchoServer('v1', (n, request) =>
      n === 1 ? { code, message: 'first try' } : { note: { text: request.text, version: 'v1' } },
    );
    fixtures.defer(() => server.close());
    const client = await clientOf(echoConfig(server.address, event));
    expect(await callUnary(client, 'again')).toEqual({ note: { text: 'again', version: 'v1' } });
    expect(server.unaryCalls()).toBe(2);
  });

  it.each(EVENTS)('retryOn %s leaves the other gRPC statuses alone', async (event, code) => {
    const other = code === grpc.status.UNAVAILABLE ? grpc.status.INTERNAL : grpc.status.UNAVAILABLE;
    const server = await startEchoServer('v1', () => ({ code: other, message: 'not retried' }));
    fixtures.defer(() => server.close());
    const client = await clientOf(echoConfig(server.address, event));
    expect((await callUnary(client, 'once')).error?.code).toBe(other);
    expect(server.unaryCalls()).toBe(1);
  });
});
