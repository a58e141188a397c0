/**
 * Passive health checking of gRPC endpoints: an endpoint whose calls end UNAVAILABLE (HTTP
 * 200, the status in the trailers) counts as failing, as Envoy's outlier detection counts the
 * HTTP status a gRPC status stands for, and is ejected; calls then go to the healthy one.
 */
import { describe, expect, it } from 'vitest';
import { sampleSum, useFixtures } from '../proxy/support.js';
import { callUnary, echoClient, grpc, startEchoServer } from './grpc-support.js';

const fixtures = useFixtures();

describe('passive health of gRPC endpoints', () => {
  it('ejects an endpoint whose calls end UNAVAILABLE, and sends the next calls to the other', async () => {
    const good = await startEchoServer('good');
    const bad = await startEchoServer('bad', () => ({ code: grpc.status.UNAVAILABLE, message: 'sick' }));
    fixtures.defer(() => good.close());
    fixtures.defer(() => bad.close());
    const { proxy, port } = await fixtures.proxy({
      listeners: [{ port: 0, protocol: 'http2' }],
      limits: { drainTimeout: 2_000 },
      services: [
        {
          name: 'echo',
          versions: [
            {
              name: 'v1',
              endpoints: [good.address, bad.address],
              protocol: 'http2',
              outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '10m', maxEjectionPercent: 50 },
            },
          ],
          routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
        },
      ],
    });
    const client = echoClient(`127.0.0.1:${port}`);
    fixtures.defer(() => client.close());
    // Round-robin over two endpoints: 6 calls give the bad one its 3 consecutive failures.
    for (let i = 0; i < 6; i++) await callUnary(client, String(i));
    expect(bad.unaryCalls()).toBe(3);
    expect(
      sampleSum(proxy.metrics.render(), 'aviary_proxy_endpoint_ejected', {
        endpoint: bad.address,
      }),
    ).toBe(1);
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => callUnary(client, String(i))));
    expect(after.every((a) => a.note?.version === 'good')).toBe(true);
    expect(bad.unaryCalls()).toBe(3);
  });
});
