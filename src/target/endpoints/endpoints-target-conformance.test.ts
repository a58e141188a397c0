import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EndpointsSpec } from '../../config/app-endpoints.js';
import { runTargetConformance } from '../../../test/conformance/target-conformance.js';
import { findFreePort } from '../process/free-port.js';
import { EndpointsTarget } from './endpoints-target.js';

/** Real loopback servers standing in for versions deployed elsewhere. */
class Servers {
  readonly #servers: Server[] = [];

  async start(count: number): Promise<string[]> {
    const addresses: string[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer((_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.#servers.push(server);
      addresses.push(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    return addresses;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#servers.map(
        (s) => new Promise<void>((resolve) => s.close(() => resolve()).closeAllConnections()),
      ),
    );
  }
}

const PROBE = {
  path: '/',
  intervalMs: 50,
  timeoutMs: 1000,
  successThreshold: 1,
  failureThreshold: 1,
  initialDelayMs: 0,
};

runTargetConformance<EndpointsSpec>({
  name: 'EndpointsTarget over loopback servers',
  create: async () => {
    const servers = new Servers();
    // Specs are built synchronously; the servers behind them are started up front.
    const pool = new Map<string, string[]>();
    for (const variant of ['v1', 'v2']) pool.set(variant, await servers.start(2));
    const closed = await Promise.all([findFreePort(), findFreePort()]);
    return {
      target: new EndpointsTarget(),
      healthySpec: (variant, replicas) => ({
        kind: 'endpoints',
        addresses: replicas < 0 ? [] : (pool.get(variant) ?? []).slice(0, replicas),
        readinessProbe: PROBE,
      }),
      failingSpec: (replicas) => ({
        kind: 'endpoints',
        addresses: closed.slice(0, replicas).map((port) => `127.0.0.1:${port}`),
        readinessProbe: PROBE,
      }),
      dispose: () => servers.close(),
    };
  },
  skip: [
    {
      reason:
        'an endpoints version has as many replicas as addresses: Aviary starts none, so it scales only to that number or 0',
      tests: ['scales up and down', 'promotes the canary spec to the primary, keeping its replica count'],
    },
    {
      reason:
        'an endpoints version is run by someone else: Aviary cannot start a copy of the primary, so it refuses the baseline role (and the config refuses analysis.baseline: fresh)',
      tests: ['runs a fresh baseline of the primary beside them, and stops it alone'],
    },
  ],
});
