/**
 * The dashboard in a browser (docs/security.md): a strict Content-Security-Policy on the
 * page and every asset, no inline script in the page, and the token kept in sessionStorage
 * and sent only as an Authorization header: never a cookie, never in a URL. The page and
 * assets are fetched from a real control API on port 0.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer } from '../../src/api/control-server.js';
import type { RolloutController } from '../../src/rollout/controller/controller.js';
import {
  DASHBOARD_ASSETS,
  DASHBOARD_CSP,
  STATIC_DIR,
  staticAssetsRoute,
} from '../../src/web/static-assets.js';

let server: ControlServer;
let url: string;

/** Directives of a CSP header value. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0] !== '')
      .map(([name = '', ...values]) => [name, values]),
  );
}

beforeAll(async () => {
  // The static route answers before the controller is asked anything.
  const controller = { on: () => undefined } as unknown as RolloutController;
  server = new ControlServer(controller, {
    port: 0,
    token: 'dashboard-token',
    extraRoutes: [staticAssetsRoute()],
  });
  url = `http://127.0.0.1:${(await server.start()).port}`;
});

afterAll(async () => {
  await server.close();
});

describe('Content-Security-Policy', () => {
  it('is strict: same origin only, no inline or eval, no framing, no base or form targets', () => {
    const policy = directives(DASHBOARD_CSP);
    expect(policy.get('default-src')).toEqual(["'self'"]);
    expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'none'"]);
    expect(DASHBOARD_CSP).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|\*|data:|blob:|https?:/);
  });

  it.each(['/', '/dashboard', ...Object.keys(DASHBOARD_ASSETS).map((name) => `/dashboard/assets/${name}`)])(
    'GET %s carries it, with nosniff and DENY framing',
    async (path) => {
      const response = await fetch(`${url}${path}`);
      await response.arrayBuffer();
      expect(response.status).toBe(200);
      expect(response.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('set-cookie')).toBeNull();
    },
  );
});

describe('the page', () => {
  it('has no inline script: every <script> has a same-origin src and no body, and no on* handler', async () => {
    const html = await (await fetch(`${url}/`)).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes = '', body = ''] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/dashboard\/assets\/[a-z-]+\.js"/);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).not.toMatch(/<style\b|\sstyle\s*=/i);
  });
});

describe('token handling in the browser modules', () => {
  const modules = Object.keys(DASHBOARD_ASSETS).filter((name) => name.endsWith('.js'));
  const read = (name: string): Promise<string> => readFile(join(STATIC_DIR, name), 'utf8');

  it('keeps the token in sessionStorage and sends it only as Authorization: Bearer', async () => {
    const client = await read('control-client.js');
    expect(client).toMatch(/sessionStorage\.setItem\(TOKEN_KEY/);
    expect(client).toContain('authorization: `Bearer ${token()}`');
  });

  it.each(modules)('%s: no cookie, no localStorage, no token in a URL', async (name) => {
    const text = await read(name);
    expect(text).not.toMatch(/document\.cookie/);
    expect(text).not.toMatch(/localStorage/);
    expect(text).not.toMatch(/[?&]token=|searchParams\.(set|append)\(['"]token/i);
    // The first argument (the URL) of a request never names the token.
    expect(text).not.toMatch(/(EventSource|fetch)\(\s*[^,)]*token/i);
  });
});
