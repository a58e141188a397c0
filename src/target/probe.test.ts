import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_READINESS_PLAN, httpProbePlan, probeOnce, ProbeTracker } from './probe.js';

describe('ProbeTracker', () => {
  it('turns ready after successThreshold consecutive successes and unready after failureThreshold failures', () => {
    const tracker = new ProbeTracker({ successThreshold: 2, failureThreshold: 3 }, false);
    expect([tracker.record(true), tracker.record(false), tracker.record(true)]).toEqual([
      false,
      false,
      false,
    ]);
    expect(tracker.record(true)).toBe(true);
    expect(tracker.healthy).toBe(true);
    expect([tracker.record(false), tracker.record(false), tracker.record(true)]).toEqual([
      false,
      false,
      false,
    ]);
    expect([tracker.record(false), tracker.record(false), tracker.record(false)]).toEqual([
      false,
      false,
      true,
    ]);
    expect(tracker.healthy).toBe(false);
  });

  it('flips exactly when the trailing run of equal outcomes reaches its threshold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        (ok, fail, outcomes) => {
          const tracker = new ProbeTracker({ successThreshold: ok, failureThreshold: fail }, false);
          let healthy = false;
          let run = 0;
          let last: boolean | undefined;
          for (const outcome of outcomes) {
            run = outcome === last ? run + 1 : 1;
            last = outcome;
            const flipped = tracker.record(outcome);
            const shouldFlip = outcome !== healthy && run >= (outcome ? ok : fail);
            expect(flipped).toBe(shouldFlip);
            if (shouldFlip) {
              healthy = outcome;
              run = 0;
            }
            expect(tracker.healthy).toBe(healthy);
          }
        },
      ),
    );
  });
});

describe('probeOnce', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
    server = undefined;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  const plan = (path: string, timeoutMs = 1000) =>
    httpProbePlan({
      path,
      intervalMs: 10,
      timeoutMs,
      successThreshold: 1,
      failureThreshold: 1,
      initialDelayMs: 0,
    });

  it('counts 200–399 as success and anything else as failure, like the kubelet', async () => {
    const port = await serve((req, res) => res.writeHead(Number(req.url?.slice(1))).end());
    const signal = new AbortController().signal;
    const outcomes = await Promise.all(
      [200, 204, 302, 399, 400, 404, 500, 503].map((status) => probeOnce(port, plan(`/${status}`), signal)),
    );
    expect(outcomes).toEqual([true, true, true, true, false, false, false, false]);
  });

  it('fails a probe that gets no answer within its timeout', async () => {
    const port = await serve(() => undefined);
    expect(await probeOnce(port, plan('/ping', 100), new AbortController().signal)).toBe(false);
  });

  it('fails on a refused connection and succeeds on a TCP accept without HTTP', async () => {
    const tcp = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as { port: number }).port;
    const signal = new AbortController().signal;
    expect(await probeOnce(port, DEFAULT_READINESS_PLAN, signal)).toBe(true);
    await new Promise((resolve) => tcp.close(resolve));
    expect(await probeOnce(port, DEFAULT_READINESS_PLAN, signal)).toBe(false);
    expect(await probeOnce(port, plan('/ping'), signal)).toBe(false);
  });
});
