/** Starting the `haproxy` router engine for tests: loopback, a free port, the state in `dir`. */
import { routerSchema } from '../../src/config/router-kinds.js';
import { createHaproxyEngine, type HaproxyEngine } from '../../src/router/haproxy/haproxy-engine.js';

/** The engine as `router: {kind: haproxy, port: 0, ...overrides}` builds it. */
export function startHaproxyEngine(
  dir: string,
  overrides: Record<string, unknown> = {},
): Promise<HaproxyEngine> {
  const settings = routerSchema.parse({ kind: 'haproxy', port: 0, ...overrides });
  if (settings.kind !== 'haproxy') throw new Error('expected haproxy settings');
  return createHaproxyEngine(settings, dir);
}
