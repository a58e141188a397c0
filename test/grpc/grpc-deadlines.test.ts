/**
 * Deadlines of gRPC calls through the router: the route's timeout caps a longer
 * `grpc-timeout`, the upstream is told what is left of the deadline, and an expired call ends
 * with DEADLINE_EXCEEDED in trailers.
 */
import { connect, createServer, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useFixtures, waitFor } from '../proxy/support.js';

const fixtures = useFixtures();

describe('gRPC deadlines', () => {
  it('caps grpc-timeout with the route timeout, passes the rest upstream, and ends the call DEADLINE_EXCEEDED', async () => {
    // An h2c upstream that records each call's head and never answers.
    const seen: IncomingHttpHeaders[] = [];
    const upstream = createServer();
    upstream.on('stream', (_stream, headers) => seen.push(headers));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    fixtures.defer(() => {
      upstream.close();
    });
    const { port } = await fixtures.proxy({
      listeners: [{ port: 0, protocol: 'http2' }],
      limits: { drainTimeout: 2_000 },
      services: [
        {
          name: 'echo',
          versions: [
            {
              name: 'v1',
              endpoints: [`127.0.0.1:${(upstream.address() as AddressInfo).port}`],
              protocol: 'http2',
            },
          ],
          routes: [{ name: 'all', timeout: '300ms', targets: [{ version: 'v1', weight: 1 }] }],
        },
      ],
    });
    const session = connect(`http://127.0.0.1:${port}`);
    fixtures.defer(() => session.destroy());
    const stream = session.request({
      ':method': 'POST',
      ':path': '/aviary.test.Echo/Unary',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '5S',
    });
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
    const trailers = new Promise<Record<string, unknown>>((resolve) => stream.once('trailers', resolve));
    stream.resume();
    await waitFor('the call upstream', () => seen.length === 1);
    const passed = /^(\d+)m$/.exec(String(seen[0]!['grpc-timeout']));
    expect(passed).not.toBeNull();
    expect(Number(passed![1])).toBeLessThanOrEqual(300);
    expect(seen[0]!.te).toBe('trailers');
    expect((await trailers)['grpc-status']).toBe('4');
  });
});
