/** The app, options and backend reference the HTTPRoute rendering tests share. */
import type { AppRouteSpec } from '../traffic-router.js';
import type { HttpRouteOptions } from './http-route.js';

export const service = (name: string, namespace = 'shop') => ({ name, namespace, port: 8080 });

export const spec: AppRouteSpec = {
  app: 'catalog',
  versions: [
    { name: 'primary', service: service('catalog-primary') },
    { name: 'canary', service: service('catalog-canary') },
  ],
};

export const options: HttpRouteOptions = {
  namespace: 'shop',
  parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
  hostnames: ['catalog.example.com'],
};

export const ref = (name: string, weight?: number) => ({
  group: '',
  kind: 'Service',
  name,
  port: 8080,
  ...(weight !== undefined ? { weight } : {}),
});
