/**
 * What `aviary proxy` says about its listeners: the scheme a client must use (https on a TLS
 * listener) and the HTTP/2 mode, so the printed URL can be pasted into curl as it is.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { certificateDirectory, makeCertificate } from '../proxy/test-certificates.js';
import { ensureBuilt, spawnCli, type CliProcess } from './cli-support.js';

let certs: Awaited<ReturnType<typeof certificateDirectory>> | undefined;
let cli: CliProcess | undefined;

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

afterEach(async () => {
  if (cli !== undefined && cli.child.exitCode === null && cli.child.signalCode === null) {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
  await certs?.remove();
});

describe('aviary proxy listeners', () => {
  it('prints https for a TLS listener, and the HTTP/2 mode of each listener', async () => {
    certs = await certificateDirectory();
    const cert = await makeCertificate(certs.dir, 'localhost');
    const config = join(certs.dir, 'proxy.json');
    await writeFile(
      config,
      JSON.stringify({
        listeners: [
          { name: 'plain', port: 0 },
          { name: 'h2c', port: 0, protocol: 'http2' },
          {
            name: 'secure',
            port: 0,
            protocol: 'http2',
            tls: { certFile: cert.certFile, keyFile: cert.keyFile },
          },
        ],
      }),
    );
    cli = spawnCli([
      'proxy',
      '--config',
      config,
      '--admin',
      '127.0.0.1:0',
      '--token-file',
      join(certs.dir, 'token'),
    ]);
    const out = await cli.waitForStdout((text) => text.includes('admin API on'), 'the admin API line');
    expect(out).toMatch(/listener plain on http:\/\/127\.0\.0\.1:\d+\n/);
    expect(out).toMatch(/listener h2c on http:\/\/127\.0\.0\.1:\d+ \(h2c\)\n/);
    expect(out).toMatch(/listener secure on https:\/\/127\.0\.0\.1:\d+ \(h2 and http\/1\.1 by ALPN\)\n/);
  }, 60_000);
});
