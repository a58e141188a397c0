/**
 * `router.protocol` and `router.tls` of `router.kind: embedded` under `aviary up`: the
 * router's listener terminates TLS with the configured files (relative to aviary.yaml) and
 * speaks h2 by ALPN, whether the proxy runs in the controller's process or as its own
 * supervised process.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:http2';
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAviaryConfig, type AviaryConfig } from '../../src/config/app-schema.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { certificateDirectory, makeCertificate, type TestCertificate } from '../proxy/test-certificates.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(): Promise<number> {
  const server: Server = createServer((_req, res) => res.end('from the backend'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((done) => server.close(done)));
  return (server.address() as { port: number }).port;
}

function config(stateDir: string, baseDir: string, cert: TestCertificate, backendPort: number): AviaryConfig {
  const parsed = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    stateDir,
    api: { port: 0 },
    router: {
      port: 0,
      protocol: 'http2',
      tls: { certFile: relative(baseDir, cert.certFile), keyFile: relative(baseDir, cert.keyFile) },
    },
    apps: [{ name: 'app', path: '/', endpoints: { addresses: [`127.0.0.1:${backendPort}`] } }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** GET / over h2 (by ALPN) trusting `ca`. */
async function h2Get(url: string, ca: Buffer): Promise<string> {
  const session = connect(url, { ca, servername: 'localhost' });
  try {
    const stream = session.request({ ':path': '/' });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    await once(stream, 'end');
    return body;
  } finally {
    session.close();
  }
}

/** GET / over HTTP/1.1 and TLS trusting `ca`. */
function httpsGet(url: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

describe('router.tls and router.protocol under aviary up', () => {
  for (const placement of ['in-process', 'separate'] as const) {
    it(`terminate TLS and speak h2 by ALPN with the proxy ${placement}`, async () => {
      const certs = await certificateDirectory();
      cleanups.push(() => certs.remove());
      const cert = await makeCertificate(certs.dir, 'localhost');
      const stateDir = await mkdtemp(join(tmpdir(), 'aviary-router-tls-'));
      cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
      const runtime: Runtime = await startRuntime(config(stateDir, certs.dir, cert, await backend()), {
        token: 'router-tls-token',
        routerContext: {
          baseDir: certs.dir,
          placement,
          stateDir,
          token: 'router-tls-token',
          command: [process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts')],
        },
      });
      cleanups.push(() => runtime.close());
      expect(runtime.routerUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const url = runtime.routerUrl.replace('127.0.0.1', 'localhost');
      await expect
        .poll(() => h2Get(url, cert.pem).catch(() => ''), { timeout: 30_000 })
        .toBe('from the backend');
      await expect(httpsGet(url, cert.pem)).resolves.toBe('from the backend');
    }, 60_000);
  }
});
