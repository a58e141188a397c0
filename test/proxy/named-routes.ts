/**
 * Fixtures of the routing suites: a one-service router whose every route sends to a
 * backend named after the route, and a probe that reports which backend answered.
 */
import { expect } from 'vitest';
import { send, type Fixtures, type RouteInput } from './support.js';

/** A route without its targets: {@link namedRouter} sends it to its own backend. */
export type RouteSpec = Omit<RouteInput, 'targets'>;

/**
 * Binds a router factory to the test's fixtures; the factory starts one service (`shop`)
 * whose every route sends to a backend named after the route, and returns the origin.
 */
export function namedRouter(fx: Fixtures): (routes: readonly RouteSpec[]) => Promise<string> {
  return async (routes) => {
    const versions = [];
    for (const route of routes)
      versions.push({ name: route.name, endpoints: [(await fx.backend(route.name)).address] });
    const { origin } = await fx.proxy({
      listeners: [{ port: 0 }],
      services: [
        {
          name: 'shop',
          versions,
          routes: routes.map((route) => ({ ...route, targets: [{ version: route.name, weight: 1 }] })),
        },
      ],
    });
    return origin;
  };
}

/** The backend that answered, or `404` when the router found no route. */
export async function answeredBy(
  url: string,
  options: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; headers?: Record<string, string> } = {},
): Promise<string> {
  const answer = await send(url, options);
  if (answer.status === 404) return '404';
  expect(answer.status).toBe(200);
  return answer.text;
}
