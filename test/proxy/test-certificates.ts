/**
 * Self-signed certificates for the TLS suites, made by the `openssl` command (P-256 keys,
 * valid one day, the host as CN and subjectAltName) in a temporary directory.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and key on disk, and the certificate's PEM for clients to trust. */
export interface TestCertificate {
  readonly host: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly pem: Buffer;
}

/** A temporary directory that holds certificates; `remove` deletes it. */
export async function certificateDirectory(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'aviary-tls-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes a self-signed certificate for `host` as `<name>.crt` and `<name>.key` in `dir`
 * (overwriting them, as a certificate rotation does), `name` defaulting to the host.
 */
export async function makeCertificate(dir: string, host: string, name = host): Promise<TestCertificate> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${host}`,
    '-addext',
    `subjectAltName=DNS:${host}`,
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { host, certFile, keyFile, pem: await readFile(certFile) };
}
