/**
 * The default router: drives the built-in proxy running in the same process. Each call is
 * one atomic configuration change of the app's virtual service.
 */
import { ConfigError } from '../config/config-error.js';
import { AviaryError } from '../errors.js';
import type { ApplyResult, ProxyServer } from '../proxy/proxy-server.js';
import { reconciledConfig, routeStateOf, serviceConfigFor, withService } from './service-config.js';
import type { AppRouteSpec, RouteState, TrafficRouter } from './traffic-router.js';

function check(result: ApplyResult, app: string): void {
  if (!result.ok) throw new ConfigError(`routes of app ${app}`, result.issues);
}

/** {@link TrafficRouter} over an in-process {@link ProxyServer}. */
export class EmbeddedRouter implements TrafficRouter {
  readonly kind = 'embedded';
  private readonly specs = new Map<string, AppRouteSpec>();

  constructor(private readonly proxy: ProxyServer) {}

  async reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.specs.set(spec.app, spec);
    check(await this.proxy.updateConfig((current) => reconciledConfig(current, spec)), spec.app);
  }

  async setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const spec = this.specOf(app);
    check(
      await this.proxy.updateConfig((current) => withService(current, app, serviceConfigFor(spec, state))),
      app,
    );
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- errors must reject, not throw
  async getRoutes(app: string, signal?: AbortSignal): Promise<RouteState> {
    signal?.throwIfAborted();
    return routeStateOf(this.proxy.config, app);
  }

  async finalize(app: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.specs.delete(app);
    check(await this.proxy.updateConfig((current) => withService(current, app, undefined)), app);
  }

  private specOf(app: string): AppRouteSpec {
    const spec = this.specs.get(app);
    if (!spec)
      throw new AviaryError(
        'AVIARY_ROUTE_UNKNOWN_APP',
        `app ${app} is not reconciled on this router; call reconcile first`,
      );
    return spec;
  }
}
