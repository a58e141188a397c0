/** The demos' ports: a flag's value, or a free loopback port for `0`. */
import { createServer, type AddressInfo } from 'node:net';

/** A free loopback port: the frontend must know the router's port before the router starts. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** The port a `--*-port` flag names; `0` picks a free one now, so it can be written into a config. */
export async function portOf(value: string): Promise<number> {
  const port = Number(value);
  return port === 0 ? freePort() : port;
}
