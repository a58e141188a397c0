/**
 * Bind failures become one-line errors naming the setting, against real sockets on
 * loopback: a taken port, and a failure that is not a bind error, which passes through.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeOf } from './error-catalogue.js';
import { ListenFailure, listenFor } from './listen-failure.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

function listen(port: number): Promise<Server> {
  const server = createServer();
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('listenFor', () => {
  it('names the setting, the port and the host of a port in use; exit code 2', async () => {
    const { port } = (await listen(0)).address() as AddressInfo;
    const failure = await listenFor('api.port', () => listen(port)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ListenFailure);
    expect(failure).toMatchObject({
      code: 'AVIARY_PORT_IN_USE',
      setting: 'api.port',
      port,
      host: '127.0.0.1',
    });
    expect((failure as Error).message).toBe(
      `api.port ${port} on 127.0.0.1 is in use (EADDRINUSE); choose another port or stop what listens there`,
    );
    expect(exitCodeOf('AVIARY_PORT_IN_USE')).toBe(2);
  });

  it('asks for the setting by port when several listeners start together', async () => {
    const { port } = (await listen(0)).address() as AddressInfo;
    const failure = await listenFor(
      (failed) => `listeners[${failed === port ? 1 : 0}].port`,
      () => listen(port),
    ).catch((err: unknown) => err);
    expect((failure as ListenFailure).setting).toBe('listeners[1].port');
  });

  it('is renamed for the flag a port came from, keeping port and host', async () => {
    const { port } = (await listen(0)).address() as AddressInfo;
    const failure = (await listenFor('router.port', () => listen(port)).catch(
      (err: unknown) => err,
    )) as ListenFailure;
    const renamed = failure.named('--router-port');
    expect(renamed).toMatchObject({
      code: 'AVIARY_PORT_IN_USE',
      setting: '--router-port',
      port,
      host: '127.0.0.1',
    });
    expect(renamed.message).toMatch(/^--router-port \d+ on 127\.0\.0\.1 is in use/);
  });

  it('passes other failures through unchanged', async () => {
    const other = new Error('no token');
    await expect(listenFor('api.port', () => Promise.reject(other))).rejects.toBe(other);
  });
});
