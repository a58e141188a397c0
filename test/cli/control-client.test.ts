// The CLI's control API client: the event-stream parser, token resolution, and how HTTP
// answers of a real loopback server become AviaryError codes (and so exit codes).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient, resolveClientToken } from '../../src/cli/control-client.js';
import { readServerSentEvents, type ServerSentEvent } from '../../src/cli/control-event-stream.js';
import { EXIT, exitCodeFor } from '../../src/cli/exit-codes.js';
import { parseSince } from '../../src/cli/get-events-command.js';

/** Delivers `chunks` one per turn of the event loop, as a socket would. */
async function* chunksOf<T>(chunks: readonly T[]): AsyncGenerator<T> {
  for (const chunk of chunks) {
    await Promise.resolve();
    yield chunk;
  }
}

async function collect(chunks: readonly (string | Uint8Array)[]): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  for await (const message of readServerSentEvents(chunksOf(chunks))) out.push(message);
  return out;
}

describe('readServerSentEvents', () => {
  it('follows the WHATWG event-stream rules', async () => {
    const stream =
      'retry: 2000\n\n: keep-alive\n\nevent: status\ndata: {"a":1}\n\ndata:first\ndata: second\r\n\r\nevent: empty\n\ndata: last\rid: 7\r\r';
    expect(await collect([stream])).toEqual([
      { event: 'status', data: '{"a":1}' },
      { event: 'message', data: 'first\nsecond' },
      { event: 'message', data: 'last' },
    ]);
  });

  it('gives the same messages however the bytes are split into chunks', async () => {
    const message = fc.record({
      event: fc.constantFrom('event', 'status', ''),
      data: fc.array(fc.string({ unit: fc.constantFrom('a', 'é', '{', ':', ' ', '"') }), {
        minLength: 1,
        maxLength: 3,
      }),
      eol: fc.constantFrom('\n', '\r\n', '\r'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (messages, cuts) => {
          const text = messages
            .map(
              ({ event, data, eol }) =>
                (event ? `event: ${event}${eol}` : '') + data.map((d) => `data: ${d}${eol}`).join('') + eol,
            )
            .join('');
          const bytes = Buffer.from(text);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const pieces: Uint8Array[] = [];
          let from = 0;
          for (const point of [...points, bytes.length]) {
            pieces.push(bytes.subarray(from, point));
            from = point;
          }
          const out = await collect(pieces);
          expect(out).toEqual(
            messages.map(({ event, data }) => ({ event: event || 'message', data: data.join('\n') })),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('resolveClientToken', () => {
  it('prefers --token, then AVIARY_TOKEN, then the token file, and never creates one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aviary-cli-token-'));
    try {
      const file = join(dir, 'token');
      expect(await resolveClientToken({ tokenFile: file }, {})).toEqual({
        token: undefined,
        source: `${file} (not found)`,
      });
      await writeFile(file, 'from-file\n');
      expect(await resolveClientToken({ tokenFile: file }, {})).toEqual({ token: 'from-file', source: file });
      expect(await resolveClientToken({ tokenFile: file }, { AVIARY_TOKEN: 'from-env' })).toEqual({
        token: 'from-env',
        source: 'AVIARY_TOKEN',
      });
      expect(
        await resolveClientToken({ token: 'flag', tokenFile: file }, { AVIARY_TOKEN: 'from-env' }),
      ).toEqual({
        token: 'flag',
        source: '--token',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ControlClient errors', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(status: number, error: { code: string; message: string }): Promise<string> {
    server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error }));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it.each([
    [401, 'AVIARY_UNAUTHORIZED', 'AVIARY_UNAUTHORIZED', EXIT.refused, /no token was sent.*\.aviary\/token/],
    [404, 'AVIARY_NOT_FOUND', 'AVIARY_NOT_FOUND', EXIT.refused, /unknown app: rollout x does not exist/],
    [
      409,
      'AVIARY_ROLLOUT_SUSPENDED',
      'AVIARY_CONFLICT',
      EXIT.refused,
      /refused \(409\): rollout x does not exist/,
    ],
    [500, 'AVIARY_INTERNAL', 'AVIARY_INTERNAL', EXIT.failure, /HTTP 500/],
  ])('maps HTTP %i to %s', async (status, serverCode, code, exit, message) => {
    const baseUrl = await serve(status, { code: serverCode, message: 'rollout x does not exist' });
    const client = new ControlClient({ baseUrl, token: { tokenFile: '/nonexistent/.aviary/token' } });
    const err = await client.post('/api/v1/rollouts/x/promote').catch((e: unknown) => e);
    expect(err).toMatchObject({ code, status, serverCode });
    expect((err as Error).message).toMatch(message);
    expect(exitCodeFor(err)).toBe(exit);
  });

  it('gives up on a server that never answers with code AVIARY_API_TIMEOUT', async () => {
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new ControlClient({ baseUrl, timeoutMs: 200 });
    await expect(client.get('/api/v1/rollouts')).rejects.toMatchObject({
      code: 'AVIARY_API_TIMEOUT',
      message: expect.stringContaining('did not answer within 0.2 s'),
    });
  });

  it('reports an unreachable API with code AVIARY_API_UNREACHABLE', async () => {
    const client = new ControlClient({ baseUrl: 'http://127.0.0.1:9' });
    await expect(client.get('/api/v1/rollouts')).rejects.toMatchObject({ code: 'AVIARY_API_UNREACHABLE' });
  });

  it('rejects a malformed --api as a usage error', () => {
    let err: unknown;
    try {
      new ControlClient({ baseUrl: 'not a url' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'AVIARY_USAGE' });
    expect(exitCodeFor(err)).toBe(EXIT.usage);
  });
});

describe('parseSince', () => {
  it('reads durations and rejects anything else', () => {
    expect(parseSince('5m')).toBe(300_000);
    expect(parseSince('1h30m')).toBe(5_400_000);
    expect(() => parseSince('yesterday')).toThrow(/expected a duration such as "30s"/);
    expect(() => parseSince('0s')).toThrow();
  });
});
