import { describe, expect, it } from 'vitest';
import type { V1Deployment } from '@kubernetes/client-node';
import {
  appliedReleaseOf,
  entryDeployment,
  entryService,
  releaseRoute,
  rolloutPendingOf,
  routeWeightsOf,
  type AppliedRelease,
} from './release-objects.js';
import { clusterReleaseChanges } from './cluster-release-plan.js';
import { releaseTemplateOf, type ReleaseTemplate } from './release-template.js';

const TEMPLATE: ReleaseTemplate = {
  imageRepository: 'example.invalid/catalog',
  port: 3000,
  replicas: 2,
  parentRefs: [{ name: 'edge' }],
  hostnames: [],
};

const STATE: AppliedRelease = {
  entries: [
    { name: 'backend-v2', tag: 'v2.0.0', weight: 100 },
    { name: 'backend-v3', tag: 'v3.0.0', weight: 0 },
  ],
  draining: ['backend-v1'],
  template: TEMPLATE,
  appliedAt: 1,
  by: 'test',
};

describe('release objects', () => {
  it('runs an entry as <app>-<entry> with the repository and the tag, selected by release and entry', () => {
    const deployment = entryDeployment('catalogdetail', 'shop', STATE.entries[0]!, TEMPLATE);
    expect(deployment.metadata?.name).toBe('catalogdetail-backend-v2');
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.selector.matchLabels).toEqual({
      'aviary.dev/release': 'catalogdetail',
      'aviary.dev/release-entry': 'backend-v2',
    });
    expect(deployment.spec?.template.spec?.containers[0]).toMatchObject({
      image: 'example.invalid/catalog:v2.0.0',
      ports: [{ name: 'http', containerPort: 3000 }],
    });
    const service = entryService('catalogdetail', 'shop', 'backend-v2', TEMPLATE);
    expect(service.spec?.selector).toEqual(deployment.spec?.selector.matchLabels);
    expect(service.spec?.ports).toEqual([{ name: 'http', port: 3000, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('routes every entry by weight and a draining one at 0, and reads the release and weights back', () => {
    const route = releaseRoute('catalogdetail', 'shop', STATE);
    expect(route.metadata?.name).toBe('catalogdetail');
    expect(route.spec.rules).toHaveLength(1);
    expect(route.spec.rules[0]!.backendRefs.map((r) => [r.name, r.weight])).toEqual([
      ['catalogdetail-backend-v2', 100],
      ['catalogdetail-backend-v3', 0],
      ['catalogdetail-backend-v1', 0],
    ]);
    expect(appliedReleaseOf(route)).toEqual(STATE);
    expect(routeWeightsOf('catalogdetail', route)).toEqual({
      'backend-v2': 100,
      'backend-v3': 0,
      'backend-v1': 0,
    });
    const drained = releaseRoute('catalogdetail', 'shop', { ...STATE, draining: [] });
    expect(drained.spec.rules[0]!.backendRefs.map((r) => r.name)).not.toContain('catalogdetail-backend-v1');
  });

  it('says why a Deployment is not rolled out, as kubectl rollout status does', () => {
    const deployment = (status: NonNullable<V1Deployment['status']>, generation = 2): V1Deployment => ({
      metadata: { generation },
      spec: { replicas: 2, selector: {}, template: {} },
      status,
    });
    expect(rolloutPendingOf(undefined)).toMatch(/does not exist/);
    expect(rolloutPendingOf(deployment({ observedGeneration: 1 }))).toMatch(/observe generation 2/);
    expect(rolloutPendingOf(deployment({ observedGeneration: 2, updatedReplicas: 1 }))).toBe(
      '1 of 2 replicas updated',
    );
    expect(
      rolloutPendingOf(
        deployment({ observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 }),
      ),
    ).toMatch(/1 old replicas are pending termination/);
    expect(
      rolloutPendingOf(
        deployment({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 }),
      ),
    ).toBe('1 of 2 updated replicas available');
    expect(
      rolloutPendingOf(
        deployment({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }),
      ),
    ).toBeUndefined();
  });
});

describe('release template', () => {
  it("takes a values file's chart keys over the operator's defaults", () => {
    const values = {
      canaryConfig: [],
      image: { repository: 'registry.example.com/shop/catalog', pullPolicy: 'Always' },
      replicaCount: 3,
      service: { port: 3000 },
      httpRoute: { parentRefs: [{ name: 'public', namespace: 'gateways' }], hostnames: ['shop.example.com'] },
      ingress: { enabled: false },
    };
    expect(releaseTemplateOf('catalogdetail', values, { imageRepository: 'x/${app}' })).toEqual({
      ok: true,
      value: {
        imageRepository: 'registry.example.com/shop/catalog',
        pullPolicy: 'Always',
        port: 3000,
        replicas: 3,
        parentRefs: [{ name: 'public', namespace: 'gateways' }],
        hostnames: ['shop.example.com'],
      },
    });
  });

  it("fills a versions: document from the operator's defaults, ${app} replaced", () => {
    const document = { versions: [], image: { repository: 'ignored/in-versions' } };
    expect(
      releaseTemplateOf('catalogdetail', document, {
        imageRepository: 'ghcr.io/acme/${app}',
        parentRefs: [{ name: 'edge' }],
      }),
    ).toEqual({
      ok: true,
      value: {
        imageRepository: 'ghcr.io/acme/catalogdetail',
        port: 8080,
        replicas: 1,
        parentRefs: [{ name: 'edge' }],
        hostnames: [],
      },
    });
  });

  it('names each missing or bad setting by its path', () => {
    expect(releaseTemplateOf('catalogdetail', { versions: [] }, {})).toEqual({
      ok: false,
      issues: [
        {
          path: 'image.repository',
          message: expect.stringMatching(/no image repository for app catalogdetail/),
        },
        { path: 'httpRoute.parentRefs', message: expect.stringMatching(/no Gateway for the HTTPRoute/) },
      ],
    });
    const bad = releaseTemplateOf(
      'catalogdetail',
      { canaryConfig: [], image: { repository: 'Shop/Catalog:v1' }, service: { port: 70000 } },
      { parentRefs: [{ name: 'edge' }] },
    );
    expect(bad.ok ? [] : bad.issues.map((issue) => issue.path)).toEqual(['image.repository', 'service.port']);
  });
});

describe('cluster release changes', () => {
  const deployment = (entry: string, image: string, replicas = 2): V1Deployment => ({
    metadata: { labels: { 'aviary.dev/release-entry': entry } },
    spec: { replicas, selector: {}, template: { spec: { containers: [{ name: 'app', image }] } } },
  });

  it('starts new entries, updates changed images or replicas, and removes what is no longer listed', () => {
    const changes = clusterReleaseChanges(
      [
        { name: 'v1', tag: 'v1.0.0', weight: 10 },
        { name: 'v2', tag: 'v2.0.1', weight: 10 },
        { name: 'v3', tag: 'v3.0.0', weight: 10 },
        { name: 'v4', tag: 'v4.0.0', weight: 70 },
      ],
      TEMPLATE,
      {
        deployments: [
          deployment('v1', 'example.invalid/catalog:v1.0.0'),
          deployment('v2', 'example.invalid/catalog:v2.0.0'),
          deployment('v3', 'example.invalid/catalog:v3.0.0', 1),
          deployment('old', 'example.invalid/catalog:v0.9.0'),
        ],
        services: [{ metadata: { labels: { 'aviary.dev/release-entry': 'orphan' } } }],
        previous: { ...STATE, draining: ['gone'] },
      },
    );
    expect(changes).toEqual({
      started: ['v4'],
      updated: ['v2', 'v3'],
      unchanged: ['v1'],
      removed: ['old', 'orphan', 'gone'],
    });
  });
});
