/**
 * Configuration checks of the HTTP/2 and TLS fields: a service certificate needs a TLS
 * listener to be served on, protocols are named, and a running listener cannot change its
 * protocol or TLS at runtime (a new listener can).
 */
import { describe, expect, it } from 'vitest';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { parseWithSchema } from '../../src/config/schema-issues.js';
import { useFixtures } from './support.js';

const fx = useFixtures();

const service = (extra: Record<string, unknown> = {}) => ({
  name: 'shop',
  versions: [{ name: 'v1', endpoints: ['127.0.0.1:1'] }],
  routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
  ...extra,
});

describe('HTTP/2 and TLS configuration', () => {
  it('refuses a service certificate when none of its listeners has tls', () => {
    const result = parseWithSchema(proxyConfigSchema, {
      listeners: [{ port: 0 }],
      services: [service({ tls: { certFile: 'a.crt', keyFile: 'a.key' } })],
    });
    expect(result).toMatchObject({
      ok: false,
      issues: [
        {
          path: 'services[0].tls',
          message: 'the service has a certificate but none of its listeners has tls',
        },
      ],
    });
  });

  it('names the protocols a listener and a version accept', () => {
    const result = parseWithSchema(proxyConfigSchema, {
      listeners: [{ port: 0, protocol: 'h3' }],
      services: [service({ versions: [{ name: 'v1', endpoints: ['127.0.0.1:1'], protocol: 'spdy' }] })],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual([
      'listeners[0].protocol',
      'services[0].versions[0].protocol',
    ]);
    expect(result.issues[0]!.message).toMatch(/http1.*http2/);
  });

  it('refuses to change a running listener to HTTP/2, and opens a new HTTP/2 listener beside it', async () => {
    const { proxy } = await fx.proxy({
      listeners: [{ port: 0 }],
      limits: { drainTimeout: 2_000 },
      services: [service()],
    });
    const changed = await proxy.applyConfig({
      listeners: [{ port: 0, protocol: 'http2' }],
      services: [service()],
    });
    expect(changed).toMatchObject({ ok: false, issues: [{ path: 'listeners' }] });
    const added = await proxy.applyConfig({
      listeners: [{ port: 0 }, { name: 'h2c', port: 0, protocol: 'http2' }],
      services: [service()],
    });
    expect(added.ok).toBe(true);
    expect(proxy.address('h2c').port).toBeGreaterThan(0);
  });
});
