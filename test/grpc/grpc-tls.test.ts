/**
 * gRPC with TLS on either side of the built-in router: a grpc-js client over TLS (h2 chosen
 * by ALPN on a listener with `protocol: http2` and `tls`), and a router speaking h2 over TLS
 * to a grpc-js server whose certificate it trusts through the version's `tls.caFile`.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { useFixtures } from '../proxy/support.js';
import { certificateDirectory, makeCertificate, type TestCertificate } from '../proxy/test-certificates.js';
import { callUnary, echoClient, grpc, startEchoServer } from './grpc-support.js';

const fixtures = useFixtures();

async function certificate(host: string): Promise<TestCertificate> {
  const directory = await certificateDirectory();
  fixtures.defer(() => directory.remove());
  return makeCertificate(directory.dir, host);
}

function echoService(endpoint: string, version: Record<string, unknown> = {}) {
  return {
    name: 'echo',
    hosts: ['echo.test'],
    versions: [{ name: 'v1', endpoints: [endpoint], protocol: 'http2' as const, ...version }],
    routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
  };
}

describe('gRPC and TLS through the built-in router', () => {
  it('terminates TLS for a grpc-js client, h2 chosen by ALPN, and calls an h2c upstream', async () => {
    const cert = await certificate('echo.test');
    const server = await startEchoServer('v1');
    fixtures.defer(() => server.close());
    const config: ProxyConfigInput = {
      listeners: [{ port: 0, protocol: 'http2', tls: { certFile: cert.certFile, keyFile: cert.keyFile } }],
      limits: { drainTimeout: 2_000 },
      services: [echoService(server.address)],
    };
    const { port } = await fixtures.proxy(config);
    const client = echoClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(cert.pem), {
      'grpc.ssl_target_name_override': 'echo.test',
      'grpc.default_authority': 'echo.test',
    });
    fixtures.defer(() => client.close());
    expect(await callUnary(client, 'over tls')).toEqual({ note: { text: 'over tls', version: 'v1' } });
  });

  it('speaks h2 over TLS to a gRPC upstream it trusts through tls.caFile', async () => {
    const cert = await certificate('backend.test');
    const server = await startEchoServer(
      'secure',
      undefined,
      grpc.ServerCredentials.createSsl(null, [
        { cert_chain: cert.pem, private_key: await readFile(cert.keyFile) },
      ]),
    );
    fixtures.defer(() => server.close());
    const config: ProxyConfigInput = {
      listeners: [{ port: 0, protocol: 'http2' }],
      limits: { drainTimeout: 2_000 },
      services: [
        echoService(`https://${server.address}`, {
          tls: { caFile: cert.certFile, serverName: 'backend.test' },
        }),
      ],
    };
    const { port } = await fixtures.proxy(config);
    const client = echoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': 'echo.test',
    });
    fixtures.defer(() => client.close());
    expect(await callUnary(client, 'both ways')).toEqual({ note: { text: 'both ways', version: 'secure' } });
  });
});
