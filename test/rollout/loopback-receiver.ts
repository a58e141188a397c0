/**
 * Loopback HTTP receivers standing in for webhook and alert endpoints in the rollout
 * integration suites: they record each JSON body and answer with a chosen status.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './test-cleanup.js';

/** A loopback HTTP receiver of webhooks or alerts, recording JSON bodies. */
export interface Receiver {
  readonly url: string;
  readonly bodies: unknown[];
}

/** Starts a receiver answering `status` (or what `answer` returns); closed after the test. */
export async function startReceiver(answer: number | ((body: unknown) => number) = 200): Promise<Receiver> {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      bodies.push(body);
      const status = typeof answer === 'number' ? answer : answer(body);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'receiver says no' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, bodies };
}
