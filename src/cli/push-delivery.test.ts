/**
 * The hook's delivery on its own: parsing git's `<old> <new> <ref>` lines, the GitHub push
 * body, and what happens when the receiver refuses or cannot be reached (warnings, never a
 * rejection), against a real server on 127.0.0.1.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { githubSignature } from '../pipelines/webhook/index.js';
import {
  deliverRefUpdates,
  githubPushPayload,
  parseRefUpdates,
  type DeliveryOptions,
} from './push-delivery.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const ZERO = '0'.repeat(40);

let server: Server | undefined;

afterEach(async () => {
  if (server?.listening) {
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
  }
  server = undefined;
});

async function listen(status: number): Promise<{ url: string; bodies: Buffer[]; signatures: string[] }> {
  const bodies: Buffer[] = [];
  const signatures: string[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      signatures.push(String(req.headers['x-hub-signature-256']));
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'AVIARY_UNAUTHORIZED', message: 'bad signature' } }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/github`,
    bodies,
    signatures,
  };
}

function options(url: string, lines: { log: string[]; warn: string[] }): DeliveryOptions {
  return {
    url,
    repository: 'acme/web',
    secret: 'top-secret-value',
    cloneUrl: 'file:///srv/git/acme/web.git',
    peel: (id) => Promise.resolve(id === B ? A : undefined),
    timeoutMs: 2000,
    log: (line) => lines.log.push(line),
    warn: (line) => lines.warn.push(line),
  };
}

describe('parseRefUpdates', () => {
  it("reads git's lines and sets aside any other", () => {
    const text = `${ZERO} ${A} refs/heads/main\n${A} ${B} refs/tags/v1.0.0\r\n\nnot a line\n${A} ${B} main\n`;
    expect(parseRefUpdates(text)).toEqual({
      updates: [
        { before: ZERO, after: A, ref: 'refs/heads/main' },
        { before: A, after: B, ref: 'refs/tags/v1.0.0' },
      ],
      skipped: ['not a line', `${A} ${B} main`],
    });
  });
});

describe('githubPushPayload', () => {
  it('marks created and deleted refs as GitHub does', () => {
    expect(githubPushPayload({ before: ZERO, after: A, ref: 'refs/heads/x' }, 'o/n', 'u', A)).toMatchObject({
      created: true,
      deleted: false,
      head_commit: { id: A },
    });
    expect(
      githubPushPayload({ before: A, after: ZERO, ref: 'refs/heads/x' }, 'o/n', 'u', null),
    ).toMatchObject({
      created: false,
      deleted: true,
      head_commit: null,
    });
  });
});

describe('deliverRefUpdates', () => {
  it('signs each body and peels the head commit', async () => {
    const { url, bodies, signatures } = await listen(202);
    const lines = { log: [] as string[], warn: [] as string[] };
    const results = await deliverRefUpdates(
      [{ before: ZERO, after: B, ref: 'refs/tags/v1.0.0' }],
      options(url, lines),
    );
    expect(results[0]?.status).toBe(202);
    expect(signatures[0]).toBe(githubSignature('top-secret-value', bodies[0]!));
    expect(JSON.parse(bodies[0]!.toString('utf8'))).toMatchObject({ after: B, head_commit: { id: A } });
    expect(lines.log[0]).toMatch(/^aviary: refs\/tags\/v1.0.0: 202 /);
  });

  it('warns, without the secret, when the receiver refuses or is down, and never rejects', async () => {
    const { url } = await listen(401);
    const lines = { log: [] as string[], warn: [] as string[] };
    const update = { before: ZERO, after: A, ref: 'refs/heads/main' };
    expect((await deliverRefUpdates([update], options(url, lines)))[0]?.status).toBe(401);
    server!.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    expect((await deliverRefUpdates([update, update], options(url, lines))).map((r) => r.status)).toEqual([
      undefined,
      undefined,
    ]);
    expect(lines.log).toEqual([]);
    expect(lines.warn).toHaveLength(3);
    expect(lines.warn[0]).toContain('401');
    expect(lines.warn[1]).toContain('not delivered');
    expect(lines.warn.join('\n')).not.toContain('top-secret-value');
  });
});
