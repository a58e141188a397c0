/**
 * TLS on the built-in router: termination with a default certificate and one per service
 * by SNI, h2 and http/1.1 by ALPN on one port, certificates reloaded when their files change
 * without dropping an open connection, bad certificate files refused with their path while
 * the old configuration keeps serving, and TLS to upstreams trusted through a CA file.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { connect as connectHttp2 } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { useFixtures, waitFor } from './support.js';
import { certificateDirectory, makeCertificate, type TestCertificate } from './test-certificates.js';

const fixtures = useFixtures();

async function certificates(...hosts: string[]): Promise<{ dir: string; certs: TestCertificate[] }> {
  const directory = await certificateDirectory();
  const { dir } = directory;
  fixtures.defer(() => directory.remove());
  const certs = await Promise.all(hosts.map((h) => makeCertificate(dir, h)));
  return { dir, certs };
}

interface HttpsAnswer {
  readonly status: number;
  readonly body: string;
  /** CN of the certificate the router presented. */
  readonly cn: string;
  /** Fingerprint of that certificate. */
  readonly fingerprint: string;
  /** True when the request went on a connection opened before it. */
  readonly reused: boolean;
}

/** One HTTPS request to the router on `port`, with `host` as SNI and Host. */
function httpsGet(
  port: number,
  host: string,
  ca: readonly Buffer[],
  agent?: HttpsAgent,
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: host,
        headers: { host },
        ca: [...ca],
        agent: agent ?? false,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            cn: String(peer.subject.CN),
            fingerprint: peer.fingerprint256,
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A default certificate on one TLS listener, and services `a` and `b` with their own, by host. */
function sniConfig(
  certs: Readonly<Record<string, TestCertificate>>,
  backends: Readonly<Record<string, string>>,
  protocol: 'http1' | 'http2' = 'http1',
): ProxyConfigInput {
  const service = (name: string, withTls: boolean) => ({
    name,
    hosts: [`${name}.test`],
    ...(withTls ? { tls: { certFile: certs[name]!.certFile, keyFile: certs[name]!.keyFile } } : {}),
    versions: [{ name: 'v1', endpoints: [backends[name]!] }],
    routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
  });
  return {
    listeners: [
      { port: 0, protocol, tls: { certFile: certs.default!.certFile, keyFile: certs.default!.keyFile } },
    ],
    limits: { drainTimeout: 2_000 },
    services: [service('a', true), service('b', true), service('c', false)],
  };
}

async function sniSetup(protocol: 'http1' | 'http2' = 'http1') {
  const { dir, certs } = await certificates('default.test', 'a.test', 'b.test');
  const [defaultCert, a, b] = certs as [TestCertificate, TestCertificate, TestCertificate];
  const backends = {
    a: (await fixtures.backend('a')).address,
    b: (await fixtures.backend('b')).address,
    c: (await fixtures.backend('c')).address,
  };
  const byName = { default: defaultCert, a, b };
  const config = sniConfig(byName, backends, protocol);
  const started = await fixtures.proxy(config);
  return { dir, certs: byName, ca: certs.map((c) => c.pem), config, backends, ...started };
}

describe('TLS termination on the built-in router', () => {
  it('presents each service its own certificate by SNI, and the default one to other hosts', async () => {
    const { port, ca } = await sniSetup();
    const a = await httpsGet(port, 'a.test', ca);
    expect(a).toMatchObject({ status: 200, body: 'a', cn: 'a.test' });
    const b = await httpsGet(port, 'b.test', ca);
    expect(b).toMatchObject({ status: 200, body: 'b', cn: 'b.test' });
    const c = await httpsGet(port, 'c.test', ca).catch((err: Error) => err);
    // c.test has no certificate of its own: the default one is presented, which does not name it.
    expect(c).toBeInstanceOf(Error);
    expect((c as Error).message).toMatch(/c\.test/);
  });

  it.each(['http1', 'http2'] as const)(
    'reloads a certificate when its files change, without dropping an open keep-alive connection (%s listener)',
    async (protocol) => {
      const { port, ca, dir, certs, proxy } = await sniSetup(protocol);
      const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
      fixtures.defer(() => agent.destroy());
      const before = await httpsGet(port, 'a.test', ca, agent);
      expect(before.status).toBe(200);

      const next = await makeCertificate(dir, 'a.test', 'a-next');
      await rename(next.keyFile, certs.a.keyFile);
      await rename(next.certFile, certs.a.certFile);
      await waitFor('the new certificate', async () => {
        const fresh = await httpsGet(port, 'a.test', [...ca, next.pem]);
        return fresh.fingerprint !== before.fingerprint;
      });
      expect(proxy.certificateReloads.done).toBeGreaterThanOrEqual(1);

      // The connection opened before the reload still carries requests, with its old certificate.
      const again = await httpsGet(port, 'a.test', ca, agent);
      expect(again).toMatchObject({ status: 200, body: 'a', reused: true, fingerprint: before.fingerprint });
    },
  );

  it('keeps the old certificate when a changed file is not a usable certificate', async () => {
    const { port, ca, certs, proxy } = await sniSetup();
    const before = await httpsGet(port, 'b.test', ca);
    await writeFile(certs.b.certFile, 'not a certificate\n');
    await waitFor('the refused reload', () => proxy.certificateReloads.refused.length > 0);
    expect(proxy.certificateReloads.refused[0]).toMatchObject({ path: 'services[1].tls.certFile' });
    const after = await httpsGet(port, 'b.test', ca);
    expect(after).toMatchObject({ status: 200, body: 'b', fingerprint: before.fingerprint });
  });

  it('still applies a weight change while a certificate file is unusable, reading no file', async () => {
    const { port, ca, certs, proxy } = await sniSetup();
    const before = await httpsGet(port, 'a.test', ca);
    await writeFile(certs.a.keyFile, '');
    await waitFor('the refused reload', () => proxy.certificateReloads.refused.length > 0);
    const result = await proxy.setRouteWeights('a', 'all', { v1: 5 });
    expect(result.ok).toBe(true);
    expect(await httpsGet(port, 'a.test', ca)).toMatchObject({
      status: 200,
      fingerprint: before.fingerprint,
    });
  });

  it('refuses a configuration whose certificate file is missing, naming its path, and keeps serving the old one', async () => {
    const { port, ca, config, proxy } = await sniSetup();
    const generation = proxy.generation;
    const broken = structuredClone(config);
    broken.listeners[0]!.tls = { certFile: '/nonexistent/aviary.crt', keyFile: '/nonexistent/aviary.key' };
    const result = await proxy.applyConfig(broken);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]!.path).toBe('listeners[0].tls.certFile');
    expect(result.issues[0]!.message).toMatch(/\/nonexistent\/aviary\.crt/);
    expect(proxy.generation).toBe(generation);
    expect(await httpsGet(port, 'a.test', ca)).toMatchObject({ status: 200, body: 'a' });
  });

  it('refuses a configuration whose certificate files are present but unusable, and keeps serving the old one', async () => {
    const { port, ca, certs, config, proxy } = await sniSetup();
    const generation = proxy.generation;
    const mismatched = structuredClone(config);
    mismatched.services![1]!.tls = { certFile: certs.b.certFile, keyFile: certs.a.keyFile };
    const result = await proxy.applyConfig(mismatched);
    expect(result).toMatchObject({ ok: false, issues: [{ path: 'services[1].tls.certFile' }] });
    expect(proxy.generation).toBe(generation);
    expect(await httpsGet(port, 'b.test', ca)).toMatchObject({ status: 200, body: 'b', cn: 'b.test' });
  });

  it('refuses to start with a missing certificate file, naming its path', async () => {
    const proxy = new ProxyServer(
      proxyConfigSchema.parse({
        listeners: [{ port: 0, tls: { certFile: '/nonexistent/x.crt', keyFile: '/nonexistent/x.key' } }],
      }),
    );
    await expect(proxy.start()).rejects.toMatchObject({
      code: 'AVIARY_CONFIG_INVALID',
      issues: [{ path: 'listeners[0].tls.certFile' }],
    });
  });

  it('serves h2 and http/1.1 on one TLS port, chosen by ALPN', async () => {
    const { port, ca } = await sniSetup('http2');
    const session = connectHttp2(`https://127.0.0.1:${port}`, { ca, servername: 'a.test' });
    fixtures.defer(() => session.close());
    await new Promise((resolve) => session.once('connect', resolve));
    expect(session.alpnProtocol).toBe('h2');
    const stream = session.request({ ':path': '/', ':authority': 'a.test' });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    const headers = await new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve));
    await new Promise((resolve) => stream.once('end', resolve));
    expect(headers[':status']).toBe(200);
    expect(body).toBe('a');
    expect(await httpsGet(port, 'b.test', ca)).toMatchObject({ status: 200, body: 'b', cn: 'b.test' });
  });
});

describe('TLS to upstreams', () => {
  async function httpsBackend(cert: TestCertificate): Promise<string> {
    const server = createHttpsServer({ cert: cert.pem, key: await readFile(cert.keyFile) }, (_req, res) =>
      res.end('secure'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fixtures.defer(() => new Promise((resolve) => server.close(resolve)));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function upstreamConfig(
    endpoint: string,
    tls: { caFile?: string; serverName?: string } | undefined,
  ): ProxyConfigInput {
    return {
      listeners: [{ port: 0 }],
      limits: { drainTimeout: 2_000 },
      services: [
        {
          name: 'shop',
          versions: [{ name: 'v1', endpoints: [endpoint], ...(tls ? { tls } : {}) }],
          routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
        },
      ],
    };
  }

  it('trusts an upstream certificate through the version CA file, and refuses it without', async () => {
    const { certs } = await certificates('backend.test');
    const cert = certs[0]!;
    const endpoint = await httpsBackend(cert);
    const trusted = await fixtures.proxy(
      upstreamConfig(endpoint, { caFile: cert.certFile, serverName: 'backend.test' }),
    );
    const ok = await fetch(`${trusted.origin}/`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('secure');

    const untrusted = await fixtures.proxy(upstreamConfig(endpoint, undefined));
    const refused = await fetch(`${untrusted.origin}/`);
    expect(refused.status).toBeGreaterThanOrEqual(502);
    await refused.text();
  });

  it('refuses a configuration whose CA file is missing, naming its path', async () => {
    const started = await fixtures.proxy(upstreamConfig('127.0.0.1:1', undefined));
    const result = await started.proxy.applyConfig(
      upstreamConfig('https://127.0.0.1:1', { caFile: '/nonexistent/ca.pem' }),
    );
    expect(result).toMatchObject({ ok: false, issues: [{ path: 'services[0].versions[0].tls.caFile' }] });
  });
});
