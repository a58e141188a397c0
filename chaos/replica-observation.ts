/**
 * What the replica-fault scenarios read back from the shipped product: the endpoints the
 * supervised proxy routes to (the configuration it persisted before answering the change,
 * `<stateDir>/proxy/config.json`), the canary's replicas as the control API reports them,
 * the per-version request counts of its /metrics (the counters the threshold checks and the
 * judge read), and whether a process is stopped. Nothing here re-implements Aviary.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PERSISTED_CONFIG_FILE } from '../src/proxy/persisted-config.js';
import { rolloutOf, type UpProcess } from './aviary-up.js';
import { APP } from './catalog-yaml.js';

/** One replica of a role as `GET /api/v1/rollouts/<app>` reports it. */
export interface ReplicaView {
  readonly replica: number;
  readonly pid: number | null;
  readonly endpoint: string | null;
  readonly ready: boolean;
  readonly restarts: number;
}

/** The replicas of `role` of the scenarios' app; empty when the role runs none. */
export async function replicasOf(up: UpProcess, role: 'primary' | 'canary'): Promise<ReplicaView[]> {
  const view = await rolloutOf(up, APP);
  return (view?.processes?.[role]?.replicas ?? []) as ReplicaView[];
}

/** Every endpoint (`host:port` or origin) the proxy's persisted configuration routes the app's `version` to. */
export async function routedEndpoints(stateDir: string, version: string): Promise<string[]> {
  const text = await readFile(join(stateDir, 'proxy', PERSISTED_CONFIG_FILE), 'utf8');
  const config = JSON.parse(text) as {
    services?: { name: string; versions: { name: string; endpoints: string[] }[] }[];
  };
  const service = config.services?.find((s) => s.name === APP);
  return service?.versions.find((v) => v.name === version)?.endpoints ?? [];
}

/** True when `endpoints` holds `address` (`127.0.0.1:PORT`), bare or as an origin. */
export function routesTo(endpoints: readonly string[], address: string): boolean {
  return endpoints.some((e) => e === address || e.endsWith(`//${address}`));
}

/** Requests of the app in the proxy's /metrics, summed over routes and endpoints. */
export interface VersionCounts {
  readonly requests: number;
  /** Answers with a 5xx code (the proxy's own 502/503/504 included). */
  readonly serverErrors: number;
}

/** `aviary_proxy_requests_total` of the app by version, as the control API's /metrics exports it. */
export async function requestCounts(
  up: UpProcess,
  signal: AbortSignal,
): Promise<Record<string, VersionCounts>> {
  const response = await fetch(`${up.controlUrl}/metrics`, { signal });
  return countsFromMetrics(await response.text());
}

/** Parses {@link requestCounts} out of a Prometheus text page. */
export function countsFromMetrics(text: string): Record<string, VersionCounts> {
  const counts: Record<string, { requests: number; serverErrors: number }> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('aviary_proxy_requests_total{')) continue;
    if (!line.includes(`service="${APP}"`)) continue;
    const version = /version="([^"]+)"/.exec(line)?.[1];
    const code = /code="(\d+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (version === undefined || !Number.isFinite(value)) continue;
    const entry = (counts[version] ??= { requests: 0, serverErrors: 0 });
    entry.requests += value;
    if (code?.startsWith('5')) entry.serverErrors += value;
  }
  return counts;
}

/** The process state letter of `pid` in /proc (`T` stopped, `S` sleeping...); undefined once gone. */
export async function processState(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name may hold spaces and parentheses; the state follows its last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}
