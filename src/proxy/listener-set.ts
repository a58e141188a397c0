/**
 * The proxy's listening sockets: one server per configured listener (HTTP/1.1, h2c, HTTPS
 * or h2 by ALPN: listener-server.ts), opened with the client limits, reconciled with each
 * new configuration, certificates reloaded when their files change (listener-tls.ts), and
 * closed with a drain.
 */
import type { Http2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { AviaryError } from '../errors.js';
import type { LimitsConfig, ListenerConfig, ProxyConfig } from '../config/proxy-schema.js';
import { refusedChange, type RefusedChange } from './config-changes.js';
import {
  applyHttp1FallbackLimits,
  createListenerServer,
  isHttp1Server,
  setDefaultCertificate,
  type ListenerServer,
  type ListenerTlsState,
} from './listener-server.js';
import { CertificateFileError, CertificateWatcher, ListenerCertificates } from './listener-tls.js';

interface RunningListener {
  readonly config: ListenerConfig;
  readonly server: ListenerServer;
  readonly tls: ListenerTlsState | undefined;
  readonly watcher: CertificateWatcher | undefined;
  /** The configuration its certificates were last loaded from (for reloads). */
  source: ProxyConfig;
  /** HTTP/2 sessions and raw sockets of servers without closeIdleConnections. */
  readonly sessions: Set<Http2Session>;
  readonly sockets: Set<Socket>;
}

function sameListener(a: ListenerConfig, b: ListenerConfig): boolean {
  return (
    a.name === b.name &&
    a.host === b.host &&
    a.port === b.port &&
    (a.protocol ?? 'http1') === (b.protocol ?? 'http1') &&
    (a.tls === undefined) === (b.tls === undefined)
  );
}

/**
 * Attaches the request and upgrade handlers of the named listener to its new server. Called
 * once per listener, so whatever it registers is the per-request path.
 */
export type AttachHandlers = (server: ListenerServer, listener: string) => void;

/** Certificates loaded for each TLS listener of a configuration, by listener name. */
export type LoadedCertificates = ReadonlyMap<string, ListenerCertificates>;

/**
 * What the certificates of a configuration are made from: each listener's `tls`, and each
 * service's `tls`, hosts and listeners. Two configurations that agree on it (a weight change)
 * need no certificate reading; the file watchers keep the contents current.
 */
export function certificateSources(config: ProxyConfig): string {
  return JSON.stringify([
    config.listeners.map((l) => [l.name, l.tls]),
    config.services.filter((s) => s.tls).map((s) => [s.tls, s.hosts, s.listeners]),
  ]);
}

/**
 * Loads the certificates of every TLS listener of `config`, or refuses the configuration
 * naming the path of the first file that cannot be used.
 */
export function loadCertificates(config: ProxyConfig): LoadedCertificates | RefusedChange {
  const loaded = new Map<string, ListenerCertificates>();
  try {
    config.listeners.forEach((l, i) => {
      if (l.tls) loaded.set(l.name, ListenerCertificates.load(config, i));
    });
  } catch (err) {
    if (err instanceof CertificateFileError) return refusedChange(err.path, err.message);
    throw err;
  }
  return loaded;
}

/** The running listeners, by name; see the module header. */
export class ListenerSet {
  private readonly running = new Map<string, RunningListener>();

  /** The last 20 certificate reloads refused because a changed file could not be used (the old ones keep serving). */
  certificateReloadErrors: { path: string; message: string }[] = [];
  /** Certificate reloads that took effect. */
  certificateReloads = 0;

  constructor(private readonly attach: AttachHandlers) {}

  /** Binds one listener of `source` with the given client limits and its loaded certificates. */
  async open(
    config: ListenerConfig,
    limits: LimitsConfig,
    source: ProxyConfig,
    certificates: LoadedCertificates,
  ): Promise<void> {
    const loaded = certificates.get(config.name);
    const tls = loaded ? { certificates: loaded } : undefined;
    const server = createListenerServer(config, limits, tls);
    this.attach(server, config.name);
    const sessions = new Set<Http2Session>();
    const sockets = new Set<Socket>();
    if (!isHttp1Server(server)) {
      server.on('session', (session: Http2Session) => {
        sessions.add(session);
        session.once('close', () => sessions.delete(session));
      });
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
    }
    const watcher = tls ? new CertificateWatcher(() => this.reload(config.name)) : undefined;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.running.set(config.name, { config, server, tls, watcher, source, sessions, sockets });
    watcher?.watch(loaded!.files);
  }

  /** Re-reads a TLS listener's certificates after a file changed; a bad file keeps the old ones. */
  private reload(name: string): void {
    const running = this.running.get(name);
    if (!running?.tls) return;
    const index = running.source.listeners.findIndex((l) => l.name === name);
    try {
      this.install(running, ListenerCertificates.load(running.source, index));
      this.certificateReloads++;
    } catch (err) {
      if (!(err instanceof CertificateFileError)) throw err;
      // The last few are kept: a file rewritten in a loop must not grow memory.
      this.certificateReloadErrors = [
        ...this.certificateReloadErrors.slice(-19),
        { path: err.path, message: err.message },
      ];
    }
  }

  private install(running: RunningListener, certificates: ListenerCertificates): void {
    if (!running.tls) return;
    running.tls.certificates = certificates;
    setDefaultCertificate(running.server, running.tls);
    running.watcher?.watch(certificates.files);
  }

  /**
   * Installs the certificates loaded for a newly applied configuration on the running TLS
   * listeners (new handshakes use them; open connections keep theirs), none when its
   * certificate sources did not change, and keeps the configuration for later reloads.
   */
  applyCertificates(source: ProxyConfig, certificates: LoadedCertificates): void {
    for (const running of this.running.values()) {
      running.source = source;
      const loaded = certificates.get(running.config.name);
      if (loaded) this.install(running, loaded);
    }
  }

  /** Bound address of a listener (its real port when configured with port 0). */
  address(listener: string): { host: string; port: number } {
    const running = this.running.get(listener);
    if (!running) throw new AviaryError('AVIARY_LISTENER_UNKNOWN', `listener "${listener}" is not running`);
    const info = running.server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  /**
   * Binds the listeners of `listeners` not running yet, with `limits` (the new
   * configuration's). Refuses, before binding anything, a running listener whose address
   * changed; refuses a listener that cannot bind and closes the ones this call opened. A
   * refused change leaves the running listeners as they were.
   */
  async openNew(source: ProxyConfig, certificates: LoadedCertificates): Promise<RefusedChange | undefined> {
    const { listeners, limits } = source;
    for (const listener of listeners) {
      const running = this.running.get(listener.name);
      if (running && !sameListener(running.config, listener)) {
        return refusedChange(
          `listeners`,
          `listener "${listener.name}" cannot change address at runtime; add a new listener instead`,
        );
      }
    }
    const opened: string[] = [];
    for (const [index, listener] of listeners.entries()) {
      if (this.running.has(listener.name)) continue;
      try {
        await this.open(listener, limits, source, certificates);
        opened.push(listener.name);
      } catch (err) {
        for (const name of opened) this.close(name);
        return refusedChange(
          `listeners[${index}]`,
          `cannot listen on ${listener.host}:${listener.port}: ${(err as Error).message}`,
        );
      }
    }
    return undefined;
  }

  /** Closes every running listener not named in `listeners`. */
  closeUnlisted(listeners: readonly ListenerConfig[]): void {
    for (const name of [...this.running.keys()]) {
      if (!listeners.some((l) => l.name === name)) this.close(name);
    }
  }

  /**
   * Applies changed client limits to listeners already open. `maxHeaderBytes` is fixed when
   * a listener opens (Node's parser takes it at creation); it applies to listeners opened
   * from then on.
   */
  applyLimits(limits: LimitsConfig): void {
    for (const { server } of this.running.values()) {
      if (!isHttp1Server(server)) {
        applyHttp1FallbackLimits(server, limits);
        continue;
      }
      server.headersTimeout = limits.headersTimeout;
      server.requestTimeout = limits.requestBodyTimeout;
      server.keepAliveTimeout = limits.keepAliveTimeout;
    }
  }

  private close(name: string): void {
    const running = this.running.get(name);
    if (!running) return;
    this.running.delete(name);
    running.watcher?.stop();
    running.server.close();
    closeIdle(running);
  }

  /**
   * Stops every listener accepting connections and closes idle ones, waits for `drained`,
   * then closes the connections left and resolves once every server has closed.
   */
  async closeAll(drained: () => Promise<void>): Promise<void> {
    const listeners = [...this.running.values()];
    this.running.clear();
    listeners.forEach((l) => l.watcher?.stop());
    const closed = listeners.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve())));
    listeners.forEach(closeIdle);
    await drained();
    listeners.forEach(closeAll);
    await Promise.all(closed);
  }
}

/** Closes idle connections: HTTP/1 keep-alive ones, and HTTP/2 sessions gracefully (GOAWAY, open streams finish). */
function closeIdle(running: RunningListener): void {
  const { server } = running;
  if (isHttp1Server(server)) server.closeIdleConnections();
  else running.sessions.forEach((s) => s.close());
}

/** Closes every connection left. */
function closeAll(running: RunningListener): void {
  const { server } = running;
  if (isHttp1Server(server)) server.closeAllConnections();
  else {
    running.sessions.forEach((s) => s.destroy());
    running.sockets.forEach((s) => s.destroy());
  }
}
