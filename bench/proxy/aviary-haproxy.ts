/**
 * Aviary's HAProxy router as the bench runs it: the product's `haproxy` engine with its
 * defaults (request log on, one thread) started from `router: {kind: haproxy}`, the app
 * reconciled and split as the plain HAProxy run of bench/proxy/target-configs.ts (a header
 * route `x-canary: insider` to v2, then v1/v2 at 90/10). Like that reference it has no
 * retries: `retry-on` with status codes makes HAProxy keep each request for replay, which
 * cost 2–4 µs of CPU per request here (bench/proxy/README.md). HAProxy inherits this
 * process's core. Prints `listening <port> worker <pid>`; stops HAProxy on
 * SIGTERM or SIGINT.
 *
 * Usage: node --import tsx bench/proxy/aviary-haproxy.ts <v1 host:port> <v2 host:port>
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routerSchema } from '../../src/config/router-kinds.js';
import { createHaproxyEngine } from '../../src/router/haproxy/haproxy-engine.js';

const [v1, v2] = process.argv.slice(2);
if (v1 === undefined || v2 === undefined) throw new Error('usage: aviary-haproxy.ts <v1> <v2>');
const settings = routerSchema.parse({ kind: 'haproxy', port: 0 });
if (settings.kind !== 'haproxy') throw new Error('expected haproxy settings');
const dir = await mkdtemp(join(tmpdir(), 'aviary-bench-haproxy-'));
const engine = await createHaproxyEngine(settings, dir);
const stop = async (): Promise<void> => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
await engine.router.reconcile({
  app: 'catalogdetail',
  versions: [
    { name: 'v1', endpoints: [v1] },
    { name: 'v2', endpoints: [v2] },
  ],
  timeoutMs: 15_000,
  retries: {
    attempts: 3,
    perTryTimeoutMs: 5_000,
    retryOn: ['gateway-error', 'client-error', 'stream-error'],
  },
});
await engine.router.setRoutes('catalogdetail', {
  weights: { v1: 90, v2: 10 },
  abTesting: { version: 'v2', rules: [{ headers: [{ name: 'x-canary', exact: 'insider' }] }] },
});
console.log(`listening ${new URL(engine.address).port} worker ${engine.haproxy.workerPid}`);
