/**
 * Fixtures of the gRPC suites: a real @grpc/grpc-js server of the Echo service
 * (echo.proto) on loopback port 0, whose unary answers a test can script, and clients that
 * call through the router over h2c or TLS.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** One Echo message. */
export interface Note {
  text: string;
  version: string;
}

/** What a unary call answers: a note, or a gRPC status with a message. */
export type UnaryOutcome = { readonly note: Note } | { readonly code: grpc.status; readonly message: string };

/** Scripts a unary answer from the call count (1 for the first call) and the request; `undefined` never answers. */
export type UnaryScript = (call: number, request: Note) => UnaryOutcome | undefined;

/** A started Echo server. */
export interface EchoServer {
  readonly name: string;
  /** `127.0.0.1:port`. */
  readonly address: string;
  /** Unary calls received so far. */
  readonly unaryCalls: () => number;
  /** Client-streaming calls received so far, with the notes each one read. */
  readonly clientStreams: () => readonly (readonly string[])[];
  close(): Promise<void>;
}

const PROTO = fileURLToPath(new URL('./echo.proto', import.meta.url));
const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  aviary: { test: { Echo: grpc.ServiceClientConstructor } };
};
/** The Echo service's generated client constructor. */
export const EchoClient = loaded.aviary.test.Echo;

/** Starts an Echo server named `name` (its name goes in every answer's `version`). */
export async function startEchoServer(
  name: string,
  unary: UnaryScript = (_n, request) => ({ note: { text: request.text, version: name } }),
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
  /** Client-streaming calls answered UNAVAILABLE (after reading the whole stream) before the others succeed. */
  clientStreamFailures = 0,
): Promise<EchoServer> {
  const server = new grpc.Server();
  let unaryCalls = 0;
  const clientStreams: string[][] = [];
  server.addService(EchoClient.service, {
    Unary: (call: grpc.ServerUnaryCall<Note, Note>, done: grpc.sendUnaryData<Note>) => {
      const outcome = unary(++unaryCalls, call.request);
      if (outcome === undefined) return;
      if ('note' in outcome) done(null, outcome.note);
      else done({ code: outcome.code, details: outcome.message });
    },
    ServerStream: (call: grpc.ServerWritableStream<Note, Note>) => {
      const count = Number(call.request.text);
      for (let i = 1; i <= count; i++) call.write({ text: String(i), version: name });
      call.end();
    },
    ClientStream: (call: grpc.ServerReadableStream<Note, Note>, done: grpc.sendUnaryData<Note>) => {
      const texts: string[] = [];
      clientStreams.push(texts);
      call.on('data', (note: Note) => texts.push(note.text));
      call.on('end', () =>
        clientStreams.length <= clientStreamFailures
          ? done({ code: grpc.status.UNAVAILABLE, details: 'not yet' })
          : done(null, { text: texts.join(','), version: name }),
      );
    },
    Bidi: (call: grpc.ServerDuplexStream<Note, Note>) => {
      call.on('data', (note: Note) => call.write({ text: `echo:${note.text}`, version: name }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    name,
    address: `127.0.0.1:${port}`,
    unaryCalls: () => unaryCalls,
    clientStreams: () => clientStreams,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** An Echo client of `target` (`host:port`), in clear unless credentials say otherwise. */
export function echoClient(
  target: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): grpc.Client & Record<string, (...args: never[]) => unknown> {
  return new EchoClient(target, credentials, options) as grpc.Client &
    Record<string, (...args: never[]) => unknown>;
}

/** Calls Unary; resolves with the answer or the gRPC error (never rejects). */
export function callUnary(
  client: grpc.Client,
  text: string,
  options: grpc.CallOptions = {},
): Promise<{ note?: Note; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    (
      client as unknown as {
        Unary(
          r: Note,
          m: grpc.Metadata,
          o: grpc.CallOptions,
          cb: (e: grpc.ServiceError | null, n?: Note) => void,
        ): void;
      }
    ).Unary({ text, version: '' }, new grpc.Metadata(), options, (error, note) =>
      resolve(error ? { error } : { note: note! }),
    );
  });
}

export { grpc };
