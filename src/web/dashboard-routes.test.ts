import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExtraRoute } from '../api/control-server.js';
import { sendError } from '../api/http-json.js';
import { parseAviaryConfig, type AppSpec } from '../config/app-schema.js';
import { AviaryError } from '../errors.js';
import { ProxyMetrics } from '../proxy/stats/proxy-metrics.js';
import { dashboardRoutes, type DashboardSources } from './dashboard-routes.js';
import { DASHBOARD_ASSETS, DASHBOARD_CSP } from './static-assets.js';

function catalogSpec(): AppSpec {
  const parsed = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    apps: [
      {
        name: 'catalogdetail',
        path: '/catalogDetail',
        process: { command: 'node', args: ['server.js'], env: { SECRET: 'hunter2' } },
        canary: {
          analysis: {
            interval: '1m',
            threshold: 5,
            maxWeight: 50,
            stepWeight: 10,
            metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' }],
            webhooks: [{ name: 'load-test', url: 'http://user:pass@127.0.0.1:8089/' }],
          },
        },
      },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value.apps[0]!;
}

/** The app table of a controller: the seam the routes read through. */
function sourcesFor(spec: AppSpec, metrics: ProxyMetrics): DashboardSources {
  return {
    controller: {
      spec(app: string) {
        if (app !== spec.name) throw new AviaryError('AVIARY_NOT_FOUND', `rollout ${app} does not exist`);
        return spec;
      },
    },
    router: { traffic: metrics.trafficWindows() },
  };
}

/** Mounts routes as the control server does: first match wins, errors by code. */
function serve(routes: readonly ExtraRoute[]): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    void (async () => {
      try {
        for (const route of routes) if (await route(req, res, url)) return;
        sendError(res, 'AVIARY_NOT_FOUND', 'not a dashboard route');
      } catch (err) {
        if (err instanceof AviaryError) sendError(res, err.code, err.message);
        else sendError(res, 'AVIARY_INTERNAL', (err as Error).message);
      }
    })();
  });
}

describe('dashboardRoutes', () => {
  let server: Server;
  let base: string;
  let metrics: ProxyMetrics;

  beforeEach(async () => {
    metrics = new ProxyMetrics();
    server = serve(dashboardRoutes(sourcesFor(catalogSpec(), metrics), () => 1_700_000_000_400));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each(['/', '/dashboard', '/dashboard/'])('serves the page on %s with the CSP', async (path) => {
    const response = await fetch(`${base}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP.startsWith("default-src 'self';")).toBe(true);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const page = await response.text();
    expect(page).toContain('<script type="module" src="/dashboard/assets/dashboard.js"></script>');
    // No inline script: the CSP would block it, and nothing in the page needs one.
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('serves every listed asset with its type, and nothing else', async () => {
    for (const [name, type] of Object.entries(DASHBOARD_ASSETS)) {
      const response = await fetch(`${base}/dashboard/assets/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    // Encoded, so the client sends it as is: three levels up from src/web/static is the repo root.
    for (const path of [
      '/dashboard/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
      '/dashboard/assets/nope.js',
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('"devDependencies"');
    }
  });

  it('reads the analysis spec without process environment or webhook URLs', async () => {
    const response = await fetch(`${base}/api/v1/rollouts/catalogdetail/analysis`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      app: 'catalogdetail',
      threshold: 5,
      maxWeight: 50,
      stepWeight: 10,
      intervalMs: 60_000,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 }, intervalMs: 60_000, minRequests: 10 },
        // The judge's check, on by default.
        { name: 'judge', intervalMs: 60_000, minRequests: 100 },
      ],
      webhooks: [{ name: 'load-test', type: 'rollout' }],
    });
    const text = JSON.stringify(body);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('user:pass');
  });

  it('reads traffic series of a known app and rejects bad queries by name', async () => {
    const stats = metrics.endpoint('catalogdetail', 'main', 'canary', 'none');
    metrics.recordRequest(
      stats,
      metrics.window('catalogdetail', 'canary'),
      1_700_000_000_000 - 500,
      200,
      12,
      undefined,
    );
    const ok = await fetch(`${base}/api/v1/rollouts/catalogdetail/traffic?seconds=10&step=5`);
    expect(ok.status).toBe(200);
    const series: any = await ok.json();
    expect(series.timestamps).toEqual([1_699_999_995_000, 1_700_000_000_000]);
    expect(series.versions.canary.requests).toEqual([0, 1]);

    const bad = await fetch(`${base}/api/v1/rollouts/catalogdetail/traffic?step=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain('step: expected whole seconds');

    const unknown = await fetch(`${base}/api/v1/rollouts/nope/traffic`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('AVIARY_NOT_FOUND');
  });

  it('leaves other routes and methods to the control API', async () => {
    const post = await fetch(`${base}/api/v1/rollouts/catalogdetail/traffic`, { method: 'POST' });
    expect(((await post.json()) as any).error.message).toBe('not a dashboard route');
    const other = await fetch(`${base}/api/v1/rollouts`);
    expect(((await other.json()) as any).error.message).toBe('not a dashboard route');
  });
});
