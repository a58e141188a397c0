import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointsSpec } from '../../config/app-endpoints.js';
import { pollUntil } from '../../../test/support/poll.js';
import { EndpointsTarget } from './endpoints-target.js';

const PROBE = {
  path: '/',
  intervalMs: 30,
  timeoutMs: 500,
  successThreshold: 1,
  failureThreshold: 1,
  initialDelayMs: 0,
};
const servers: Server[] = [];
const targets: EndpointsTarget[] = [];

async function serve(status = 200): Promise<{ address: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.statusCode = status;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const spec = (...addresses: string[]): EndpointsSpec => ({
  kind: 'endpoints',
  addresses,
  readinessProbe: PROBE,
});

function newTarget(): EndpointsTarget {
  const target = new EndpointsTarget();
  targets.push(target);
  return target;
}

afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.close()));
  await Promise.all(
    servers
      .splice(0)
      .map((s) => new Promise<void>((resolve) => s.close(() => resolve()).closeAllConnections())),
  );
});

describe('EndpointsTarget', () => {
  it('promotes by making the primary serve the canary addresses', async () => {
    const target = newTarget();
    const [old, next] = [await serve(), await serve()];
    await target.ensureVersion('shop', 'primary', spec(old.address));
    await target.ensureVersion('shop', 'canary', spec(next.address));
    const promoted = await target.promote('shop');
    expect(promoted.revision).toBe(target.identify(spec(next.address)).revision);
    const primary = await pollUntil(async () => {
      const status = await target.status('shop', 'primary');
      return status?.endpoints.join() === next.address ? status : undefined;
    });
    expect(primary.replicas).toEqual([expect.objectContaining({ address: next.address, ready: true })]);
  });

  it('scales only to its address count or to zero, and back', async () => {
    const target = newTarget();
    const { address } = await serve();
    await target.ensureVersion('shop', 'canary', spec(address));
    await expect(target.scale('shop', 'canary', 3)).rejects.toMatchObject({
      code: 'AVIARY_TARGET_INVALID_SPEC',
      message: expect.stringContaining('as many replicas as addresses (1) or 0, got 3') as string,
    });
    expect(await target.scale('shop', 'canary', 0)).toMatchObject({ desiredReplicas: 0, endpoints: [] });
    await target.scale('shop', 'canary', 1);
    await pollUntil(async () =>
      (await target.status('shop', 'canary'))?.readyReplicas === 1 ? true : undefined,
    );
  });

  it('takes an address that fails its probe out of the endpoints', async () => {
    const target = newTarget();
    const healthy = await serve();
    const failing = await serve(503);
    await target.ensureVersion('shop', 'canary', spec(healthy.address, failing.address));
    const status = await pollUntil(async () => {
      const s = await target.status('shop', 'canary');
      return s?.readyReplicas === 1 && s.lastError !== null ? s : undefined;
    });
    expect(status.endpoints).toEqual([healthy.address]);
    expect(status.lastError).toBe(`readiness probe of ${failing.address} failed`);
  });

  it('refuses an address that is not host:port, naming it', async () => {
    await expect(newTarget().ensureVersion('shop', 'canary', spec('10.0.0.1'))).rejects.toMatchObject({
      code: 'AVIARY_TARGET_INVALID_SPEC',
      message: 'app shop, role canary: addresses: expected host:port, got "10.0.0.1"',
    });
  });

  it('refuses the baseline role: it cannot start a copy of the primary (analysis.baseline: fresh)', async () => {
    const target = newTarget();
    await expect(target.ensureVersion('shop', 'baseline', spec('127.0.0.1:9'))).rejects.toMatchObject({
      code: 'AVIARY_TARGET_INVALID_SPEC',
      message: expect.stringMatching(/^app shop, role baseline: an endpoints version cannot start a copy/),
    });
    expect(await target.status('shop', 'baseline')).toBeUndefined();
  });
});
