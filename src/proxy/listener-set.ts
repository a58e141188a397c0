/**
 * The proxy's listening sockets: one HTTP server per configured listener, opened with the
 * client limits, reconciled with each new configuration, and closed with a drain.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AviaryError } from '../errors.js';
import type { LimitsConfig, ListenerConfig } from '../config/proxy-schema.js';
import { refusedChange, type RefusedChange } from './config-changes.js';

interface RunningListener {
  readonly config: ListenerConfig;
  readonly server: Server;
}

function sameListener(a: ListenerConfig, b: ListenerConfig): boolean {
  return a.name === b.name && a.host === b.host && a.port === b.port;
}

/**
 * Attaches the request and upgrade handlers of the named listener to its new server. Called
 * once per listener, so whatever it registers is the per-request path.
 */
export type AttachHandlers = (server: Server, listener: string) => void;

/** The running listeners, by name; see the module header. */
export class ListenerSet {
  private readonly running = new Map<string, RunningListener>();

  constructor(private readonly attach: AttachHandlers) {}

  /** Binds one listener with the given client limits. */
  async open(config: ListenerConfig, limits: LimitsConfig): Promise<void> {
    const server = createServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestBodyTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      noDelay: true,
    });
    this.attach(server, config.name);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.running.set(config.name, { config, server });
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
  async openNew(
    listeners: readonly ListenerConfig[],
    limits: LimitsConfig,
  ): Promise<RefusedChange | undefined> {
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
        await this.open(listener, limits);
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
      server.headersTimeout = limits.headersTimeout;
      server.requestTimeout = limits.requestBodyTimeout;
      server.keepAliveTimeout = limits.keepAliveTimeout;
    }
  }

  private close(name: string): void {
    const running = this.running.get(name);
    if (!running) return;
    this.running.delete(name);
    running.server.close();
    running.server.closeIdleConnections();
  }

  /**
   * Stops every listener accepting connections and closes idle ones, waits for `drained`,
   * then closes the connections left and resolves once every server has closed.
   */
  async closeAll(drained: () => Promise<void>): Promise<void> {
    const servers = [...this.running.values()].map((l) => l.server);
    this.running.clear();
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    servers.forEach((s) => s.closeIdleConnections());
    await drained();
    servers.forEach((s) => s.closeAllConnections());
    await Promise.all(closed);
  }
}
