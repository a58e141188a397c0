/**
 * Certificates of a TLS listener: its default certificate and one per service with its own
 * `tls` (served by SNI for the service's hosts), read from their files into secure
 * contexts. Loading is all-or-nothing and names the configuration path of the file that
 * failed, so a bad file refuses the configuration (or the reload) before anything changes.
 * The files are polled for changes (`fs.watchFile`, which survives the rename-into-place
 * that certificate tools do) and the listener reloads them without a restart.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateFiles, ProxyConfig } from '../config/proxy-schema.js';

/** A certificate or key file that cannot be used; `path` is its configuration path. */
export class CertificateFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** A certificate chain and key read from their files. */
export interface CertificatePair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

interface SniEntry {
  readonly exact: ReadonlySet<string>;
  readonly suffixes: readonly string[];
  readonly context: SecureContext;
}

function readPemFile(path: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CertificateFileError(path, `cannot read ${file}: ${(err as Error).message}`);
  }
}

function loadPair(path: string, files: CertificateFiles): { pair: CertificatePair; context: SecureContext } {
  const pair = {
    cert: readPemFile(`${path}.certFile`, files.certFile),
    key: readPemFile(`${path}.keyFile`, files.keyFile),
  };
  try {
    return { pair, context: createSecureContext(pair) };
  } catch (err) {
    throw new CertificateFileError(
      `${path}.certFile`,
      `${files.certFile} and ${files.keyFile} are not a usable PEM certificate and key: ${(err as Error).message}`,
    );
  }
}

/** The loaded certificates of one TLS listener; see the module header. */
export class ListenerCertificates {
  private constructor(
    /** The listener's default certificate. */
    readonly defaultPair: CertificatePair,
    private readonly sni: readonly SniEntry[],
    /** Every file read, for the watcher. */
    readonly files: readonly string[],
  ) {}

  /**
   * Reads the certificates of listener `index` of `config` (which must have `tls`).
   * Throws a {@link CertificateFileError} naming the first file that cannot be used.
   */
  static load(config: ProxyConfig, index: number): ListenerCertificates {
    const listener = config.listeners[index]!;
    const tls = listener.tls!;
    const { pair } = loadPair(`listeners[${index}].tls`, tls);
    const files = [tls.certFile, tls.keyFile];
    const sni: SniEntry[] = [];
    config.services.forEach((svc, i) => {
      if (!svc.tls || (svc.listeners && !svc.listeners.includes(listener.name))) return;
      const { context } = loadPair(`services[${i}].tls`, svc.tls);
      files.push(svc.tls.certFile, svc.tls.keyFile);
      const hosts = svc.hosts.filter((h) => h !== '*').map((h) => h.toLowerCase());
      sni.push({
        exact: new Set(hosts.filter((h) => !h.startsWith('*.'))),
        suffixes: hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1)),
        context,
      });
    });
    return new ListenerCertificates(pair, sni, files);
  }

  /**
   * The context of the service that answers `servername`, exact hosts first, then wildcards;
   * undefined means the listener's default certificate.
   */
  contextFor(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    for (const entry of this.sni) if (entry.exact.has(name)) return entry.context;
    for (const entry of this.sni) if (entry.suffixes.some((s) => name.endsWith(s))) return entry.context;
    return undefined;
  }
}

/** How often certificate files are polled for changes. */
export const CERTIFICATE_POLL_MS = 500;

/**
 * Polls a set of files and calls `onChange` once per change seen (of any of them). `stop`
 * ends the polling; `watch` replaces the set.
 */
export class CertificateWatcher {
  private files: readonly string[] = [];
  private readonly listener = (): void => this.onChange();

  constructor(private readonly onChange: () => void) {}

  /** Polls exactly `files` from now on. */
  watch(files: readonly string[]): void {
    this.stop();
    this.files = [...new Set(files)];
    for (const file of this.files)
      watchFile(file, { interval: CERTIFICATE_POLL_MS, persistent: false }, this.listener);
  }

  /** Stops polling. */
  stop(): void {
    for (const file of this.files) unwatchFile(file, this.listener);
    this.files = [];
  }
}
