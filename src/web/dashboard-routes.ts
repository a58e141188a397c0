/**
 * The web dashboard, mounted on the control API as extra routes: the page and its browser
 * modules, plus the two reads only the dashboard needs (per-version traffic series and the
 * analysis spec). Everything else the page reads and does goes through the control API
 * itself: rollouts, events, the SSE stream, and token-protected commands and gates.
 */
import type { ExtraRoute } from '../api/control-server.js';
import { analysisRoute } from './analysis-summary.js';
import { staticAssetsRoute } from './static-assets.js';
import { trafficRoute, type TrafficRouteSources } from './traffic-series.js';

/** What the dashboard reads from a running Aviary; a `Runtime` satisfies it. */
export type DashboardSources = TrafficRouteSources;

/**
 * The dashboard's routes, for `ControlServerOptions.extraRoutes`. All are reads; the page
 * sends mutations to the control API with the operator's bearer token.
 */
export function dashboardRoutes(sources: DashboardSources, now: () => number = Date.now): ExtraRoute[] {
  return [staticAssetsRoute(), trafficRoute(sources, now), analysisRoute(sources.controller)];
}
