/**
 * Drives a standalone Aviary router (`aviary proxy`) through its admin API. Each change is a
 * read-modify-write of the whole configuration guarded by `If-Match: <generation>`, retried
 * when another writer got there first, so concurrent controllers never lose an update.
 */
import { request } from 'undici';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import type { ProxyConfig } from '../config/proxy-schema.js';
import { AviaryError } from '../errors.js';
import { reconciledConfig, routeStateOf, serviceConfigFor, withService } from './service-config.js';
import type { AppRouteSpec, RouteState, TrafficRouter } from './traffic-router.js';

/** Options of an {@link AdminApiRouter}. */
export interface AdminApiRouterOptions {
  /** Base URL of the admin API, e.g. `http://127.0.0.1:9901`. */
  readonly url: string;
  /** Bearer token of the admin API. */
  readonly token: string;
  /** Per-call timeout; default 10 s. */
  readonly timeoutMs?: number;
}

const MAX_CONFLICT_RETRIES = 8;

/** {@link TrafficRouter} over a remote built-in router. */
export class AdminApiRouter implements TrafficRouter {
  readonly kind = 'aviary-admin';
  private readonly specs = new Map<string, AppRouteSpec>();

  constructor(private readonly options: AdminApiRouterOptions) {}

  private signalFor(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 10_000);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  private async readConfig(
    signal: AbortSignal | undefined,
  ): Promise<{ generation: number; config: ProxyConfig }> {
    const res = await request(new URL('/config', this.options.url), { signal: this.signalFor(signal) });
    if (res.statusCode !== 200) {
      throw new AviaryError(
        'AVIARY_ROUTER_UNAVAILABLE',
        `router admin API answered ${res.statusCode} to GET /config: ${await res.body.text()}`,
      );
    }
    return (await res.body.json()) as { generation: number; config: ProxyConfig };
  }

  private async update(
    app: string,
    change: (config: ProxyConfig) => unknown,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const { generation, config } = await this.readConfig(signal);
      const res = await request(new URL('/config', this.options.url), {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${this.options.token}`,
          'content-type': 'application/json',
          'if-match': String(generation),
        },
        body: JSON.stringify(change(config)),
        signal: this.signalFor(signal),
      });
      const body = (await res.body.json()) as {
        error?: { code: string; message: string; issues?: ConfigIssue[] };
      };
      if (res.statusCode === 200) return;
      if (res.statusCode === 409) continue;
      if (body.error?.issues) throw new ConfigError(`routes of app ${app}`, body.error.issues);
      throw new AviaryError(
        body.error?.code ?? 'AVIARY_ROUTER_UNAVAILABLE',
        body.error?.message ?? `router answered ${res.statusCode}`,
      );
    }
    throw new AviaryError(
      'AVIARY_GENERATION_CONFLICT',
      `app ${app}: the router configuration kept changing under ${MAX_CONFLICT_RETRIES} tries`,
    );
  }

  async reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void> {
    this.specs.set(spec.app, spec);
    await this.update(spec.app, (current) => reconciledConfig(current, spec), signal);
  }

  async setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void> {
    const spec = this.specs.get(app);
    if (!spec)
      throw new AviaryError(
        'AVIARY_ROUTE_UNKNOWN_APP',
        `app ${app} is not reconciled on this router; call reconcile first`,
      );
    await this.update(app, (current) => withService(current, app, serviceConfigFor(spec, state)), signal);
  }

  async getRoutes(app: string, signal?: AbortSignal): Promise<RouteState> {
    return routeStateOf((await this.readConfig(signal)).config, app);
  }

  async finalize(app: string, signal?: AbortSignal): Promise<void> {
    this.specs.delete(app);
    await this.update(app, (current) => withService(current, app, undefined), signal);
  }
}
