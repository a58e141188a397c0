import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fieldsOf, renderConfigReference } from '../../src/config/config-reference.js';
import { aviaryConfigSchema } from '../../src/config/app-schema.js';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';

describe('docs/configuration.md', () => {
  it('is exactly what the schemas generate (run `npm run docs:config` after a schema change)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(renderConfigReference());
  });

  it('presents as app fields only fields the aviary.yaml schema accepts', () => {
    const fields = new Set(fieldsOf(aviaryConfigSchema).map((r) => r.path));
    const named = [...renderConfigReference().matchAll(/`(apps\[\]\.[\w.[\]]+)`/g)].map((m) => m[1]!);
    expect(named).toContain('apps[].releases');
    for (const path of named) expect(fields, `${path} in docs/configuration.md`).toContain(path);
    const app = {
      name: 'web',
      path: '/',
      process: { command: 'node', args: ['server.js'] },
      releases: { env: { VERSION: '${major}' }, allowedTags: ['stable'], readyTimeout: '10s' },
    };
    const parsed = aviaryConfigSchema.safeParse({
      apiVersion: 'aviary.dev/v1alpha1',
      kind: 'Aviary',
      apps: [app],
    });
    expect(parsed.error?.issues).toBeUndefined();
    expect(parsed.data?.apps[0]?.releases).toMatchObject({ allowedTags: ['stable'], readyTimeout: 10_000 });
  });

  it('covers the fields users write most, with their defaults and limits', () => {
    const aviary = new Map(fieldsOf(aviaryConfigSchema).map((r) => [r.path, r]));
    expect(aviary.get('apps[].canary.analysis.threshold')?.default).toBe('`1`');
    expect(aviary.get('apps[].canary.progressDeadlineSeconds')?.default).toBe('`600`');
    expect(aviary.get('apps[].canary.analysis.stepWeights')).toBeDefined();
    expect(aviary.get('apps[].process.readinessProbe.httpGet.path')?.required).toBe(true);
    const router = new Map(fieldsOf(proxyConfigSchema).map((r) => [r.path, r]));
    expect(router.get('services[].routes[].targets[].weight')?.limits).toContain('>= 0');
    expect(router.get('listeners[].host')?.default).toBe('`"127.0.0.1"`');
  });
});
