/**
 * WebSocket over TLS on both sides of the router: a `wss://` client upgrades on a TLS
 * listener, and the router opens the upgrade to an `https://` endpoint trusted through the
 * version's `tls.caFile`, telling it the client came over https.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { useFixtures, waitFor } from './support.js';
import { certificateDirectory, makeCertificate } from './test-certificates.js';

const fixtures = useFixtures();

describe('WebSocket over TLS', () => {
  it('passes a wss:// upgrade from a TLS listener to an https:// endpoint', async () => {
    const directory = await certificateDirectory();
    fixtures.defer(() => directory.remove());
    const front = await makeCertificate(directory.dir, 'chat.test');
    const back = await makeCertificate(directory.dir, 'backend.test');

    const https = createHttpsServer({ cert: back.pem, key: await readFile(back.keyFile) });
    const sockets = new WebSocketServer({ server: https });
    const seen: IncomingHttpHeaders[] = [];
    sockets.on('connection', (socket, req) => {
      seen.push(req.headers);
      socket.on('message', (data) => socket.send(`echo:${(data as Buffer).toString()}`));
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    fixtures.defer(() => new Promise<void>((resolve) => sockets.close(() => https.close(() => resolve()))));

    const { port } = await fixtures.proxy({
      listeners: [{ port: 0, tls: { certFile: front.certFile, keyFile: front.keyFile } }],
      limits: { drainTimeout: 2_000 },
      services: [
        {
          name: 'chat',
          versions: [
            {
              name: 'v1',
              endpoints: [`https://127.0.0.1:${(https.address() as AddressInfo).port}`],
              tls: { caFile: back.certFile, serverName: 'backend.test' },
            },
          ],
          routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
        },
      ],
    });
    // ws hands its options to tls.connect, which takes the SNI name its types leave out.
    const options: ClientOptions & { servername: string } = { ca: front.pem, servername: 'chat.test' };
    const client = new WebSocket(`wss://127.0.0.1:${port}/chat`, options);
    fixtures.defer(() => client.terminate());
    const received: string[] = [];
    client.on('message', (data) => received.push((data as Buffer).toString()));
    await new Promise<void>((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    client.send('hello');
    await waitFor('the echo', () => received.length === 1);
    expect(received).toEqual(['echo:hello']);
    expect(seen[0]?.['x-forwarded-proto']).toBe('https');
  });
});
