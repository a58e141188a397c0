/**
 * Finds a free loopback TCP port by letting the kernel choose one (bind to port 0), then
 * releasing it for the child to bind. Another process can take the port in between; the
 * replica supervisor detects that (`EADDRINUSE` before the first ready probe) and retries
 * with a fresh port.
 */
import { createServer } from 'node:net';

/** Resolves with a port that was free on 127.0.0.1 a moment ago and is not in `exclude`. */
export async function findFreePort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await bindAndRelease();
    if (!exclude.has(port)) return port;
  }
  throw new Error('no free loopback port found after 20 attempts');
}

function bindAndRelease(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('bound without a port'))));
    });
  });
}
