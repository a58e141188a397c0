/**
 * Maps a router kind to its factory. An unknown kind is an error listing the known ones —
 * never a silent fall-back to another router.
 */
import { AviaryError } from '../errors.js';
import type { ProxyServer } from '../proxy/proxy-server.js';
import { AdminApiRouter } from './admin-api-router.js';
import { EmbeddedRouter } from './embedded-router.js';
import { InMemoryRouter } from '../../test/fakes/in-memory-router.js';
import type { TrafficRouter } from './traffic-router.js';

/** What a router factory may need. */
export interface RouterContext {
  /** The in-process router, for `embedded`. */
  readonly proxy?: ProxyServer;
  /** Kind-specific settings (e.g. `url` and `token` for `aviary-admin`). */
  readonly settings?: Readonly<Record<string, string>>;
}

type RouterFactory = (context: RouterContext) => TrafficRouter;

const factories = new Map<string, RouterFactory>([
  ['in-memory', () => new InMemoryRouter()],
  [
    'embedded',
    (context) => {
      if (!context.proxy)
        throw new AviaryError('AVIARY_ROUTER_CONFIG', 'router "embedded" needs the in-process proxy');
      return new EmbeddedRouter(context.proxy);
    },
  ],
  [
    'aviary-admin',
    (context) => {
      const url = context.settings?.url;
      const token = context.settings?.token;
      if (!url || !token)
        throw new AviaryError('AVIARY_ROUTER_CONFIG', 'router "aviary-admin" needs settings url and token');
      return new AdminApiRouter({ url, token });
    },
  ],
]);

/** Names of every registered router kind. */
export function routerKinds(): string[] {
  return [...factories.keys()];
}

/** Creates a router of `kind`. */
export function createRouter(kind: string, context: RouterContext): TrafficRouter {
  const factory = factories.get(kind);
  if (!factory) {
    throw new AviaryError(
      'AVIARY_ROUTER_UNKNOWN',
      `unknown router kind "${kind}"; known kinds: ${routerKinds().join(', ')}`,
    );
  }
  return factory(context);
}
