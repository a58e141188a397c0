/**
 * Settings of `router.kind: haproxy`: Aviary renders the whole haproxy.cfg, runs HAProxy in
 * master-worker mode and changes weights and endpoints through its Runtime API
 * (docs/adr/0025-haproxy-router.md). A leaf like the rest of src/config.
 */
import { z } from 'zod';

/** Default `router.haproxy.slotsPerVersion`: server slots rendered per version before a reload is needed. */
export const DEFAULT_HAPROXY_SLOTS = 4;

/**
 * `router.kind: haproxy`, without its listening address: router-kinds.ts adds `host`/`port`,
 * HAProxy's frontend (default 127.0.0.1:8080: exposing beyond loopback is an explicit choice).
 * Security: HAProxy's sockets (master CLI, stats, metrics, request log) are unix sockets with
 * mode 0600 in the state directory; nothing else listens.
 */
export const haproxySettingsSchema = z.strictObject({
  kind: z.literal('haproxy'),
  /**
   * The HAProxy executable (2.6 or later): a path, or a name looked up on PATH, then in
   * /usr/sbin and /usr/local/sbin (where Debian installs it). Default `haproxy`.
   */
  binary: z.string().min(1).default('haproxy'),
  /**
   * Server slots rendered per version. Replicas up to this many change through the Runtime
   * API; more need a reload (seamless), after which the slots double. Default 4.
   */
  slotsPerVersion: z.number().int().min(1).max(64).default(DEFAULT_HAPROXY_SLOTS),
  /** HAProxy's `nbthread`. Default 1. */
  threads: z.number().int().min(1).max(64).default(1),
  /** HAProxy's global `maxconn`; above about 4000 it needs a higher file limit. Default 2000. */
  maxConnections: z.number().int().min(1).max(1_000_000).default(2000),
});
