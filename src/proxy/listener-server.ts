/**
 * The server behind one listener, by protocol and TLS: HTTP/1.1 (`node:http`), h2c with
 * prior knowledge (`http2.createServer`), HTTPS (`node:https`), or h2 and http/1.1 by ALPN
 * on one TLS port (`http2.createSecureServer` with `allowHTTP1`). Node's HTTP/2 server
 * cannot also speak HTTP/1.1 in clear, so an h2c listener serves HTTP/2 only.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, createServer as createH2cServer, type Http2Server } from 'node:http2';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { LimitsConfig, ListenerConfig } from '../config/proxy-schema.js';
import type { ListenerCertificates } from './listener-tls.js';

/** Any of the servers a listener runs; each emits `request` with Node's HTTP/1 or HTTP/2 compatibility objects. */
export type ListenerServer = HttpServer | Http2Server;

/** TLS state a TLS listener's server reads on every handshake, so a reload needs no restart. */
export interface ListenerTlsState {
  certificates: ListenerCertificates;
}

/**
 * How often Node checks headersTimeout and requestTimeout. Its default, 30 s, let a slowloris
 * client hold a connection up to 30 s past `limits.headersTimeout` (10 s by default); a
 * one-second sweep over the open connections keeps the limit within a second of its value.
 */
const CONNECTIONS_CHECKING_INTERVAL = 1_000;

/**
 * Creates (does not bind) the server of `listener`. `tls` is required when the listener
 * has `tls`; its certificates may be replaced later (`setSecureContext` for the default).
 */
export function createListenerServer(
  listener: ListenerConfig,
  limits: LimitsConfig,
  tls: ListenerTlsState | undefined,
): ListenerServer {
  const http2 = listener.protocol === 'http2';
  const settings = { maxHeaderListSize: limits.maxHeaderBytes };
  if (!tls) {
    if (http2) return createH2cServer({ settings });
    return createHttpServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestBodyTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL,
      noDelay: true,
    });
  }
  const secure = {
    ...tls.certificates.defaultPair,
    SNICallback: (servername: string, done: (err: Error | null, context?: SecureContext) => void) =>
      done(null, tls.certificates.contextFor(servername)),
  };
  if (http2) {
    // ALPN picks h2 or http/1.1 per connection (RFC 7301); Node offers both with allowHTTP1.
    const server = createSecureServer({ ...secure, allowHTTP1: true, settings });
    applyHttp1FallbackLimits(server, limits);
    return server;
  }
  return createHttpsServer({
    ...secure,
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestBodyTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL,
    noDelay: true,
  });
}

/**
 * The slowloris guards of the HTTP/1.1 connections an h2 TLS port takes by ALPN: Node's
 * HTTP/2 server with allowHTTP1 hands them to its HTTP/1 parser, which reads these two
 * properties from the server (keep-alive idle timeout it does not take).
 */
export function applyHttp1FallbackLimits(server: ListenerServer, limits: LimitsConfig): void {
  const fallback = server as { headersTimeout?: number; requestTimeout?: number };
  if (fallback.headersTimeout === undefined) return;
  fallback.headersTimeout = limits.headersTimeout;
  fallback.requestTimeout = limits.requestBodyTimeout;
}

/** Installs a reloaded default certificate on a TLS listener's server; new handshakes use it. */
export function setDefaultCertificate(server: ListenerServer, tls: ListenerTlsState): void {
  (server as unknown as { setSecureContext(options: object): void }).setSecureContext(
    tls.certificates.defaultPair,
  );
}

/**
 * True for Node's HTTP/1 servers (`node:http` and `node:https`), which have the client
 * limits as properties and close their own idle connections. HTTP/2 servers (even with
 * allowHTTP1) have neither.
 */
export function isHttp1Server(server: ListenerServer): server is HttpServer {
  return typeof (server as Partial<HttpServer>).closeAllConnections === 'function';
}

/** The scheme a request arrived with, for X-Forwarded-Proto. */
export function schemeOf(socket: unknown): 'http' | 'https' {
  return (socket as TLSSocket | undefined)?.encrypted === true ? 'https' : 'http';
}
