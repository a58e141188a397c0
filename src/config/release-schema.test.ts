import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import {
  parseReleaseDocument,
  parseReleaseOrThrow,
  readReleaseText,
  releaseSettingsSchema,
  RELEASE_MAX_VERSIONS,
  type ReleaseContext,
} from './release-schema.js';
import { parseWithSchema } from './schema-issues.js';

/** The Helm values file of the AWS sample aws-tekton-canary-testing-deploy (values.yaml), unchanged. */
const SEED_VALUES = `detail:
  replicaCount: 2
  namespace: apps
  name: backend-service
  serviceAccount: backend-service
  image:
    pullPolicy: Always
  service:
    type: ClusterIP
    targetPort: 3000

canaryConfig:
  - name: "backend-v1" # name of k8s deployment
    tag: "v1.0.0" # image tag stored in ECR
    weight: 50 # percentage of traffic to backend-v1
  - name: "backend-v2" # name of k8s deployment
    tag: "v2.0.0" # image tag stored in ECR
    weight: 50 # percentage of traffic to backend-v1
`;

function entries(...list: { name: string; tag?: string; version?: string; weight: unknown }[]): unknown {
  return { app: 'catalogdetail', versions: list };
}

function issuesOf(document: unknown, context: ReleaseContext = {}) {
  const result = parseReleaseDocument(document, context);
  if (result.ok) throw new Error('expected the release to be rejected');
  return result.issues;
}

describe('release file formats', () => {
  it('accepts a Helm values file as is, the app coming from outside', () => {
    const release = parseReleaseOrThrow(readReleaseText(SEED_VALUES, 'values.yaml'), 'values.yaml', {
      app: 'catalogdetail',
    });
    expect(release).toEqual({
      app: 'catalogdetail',
      listKey: 'canaryConfig',
      entries: [
        { name: 'backend-v1', tag: 'v1.0.0', weight: 50 },
        { name: 'backend-v2', tag: 'v2.0.0', weight: 50 },
      ],
    });
  });

  it('takes the app from a top-level app: field of the Helm values format', () => {
    const document = readReleaseText(`app: catalogdetail\n${SEED_VALUES}`, 'values.yaml');
    expect(parseReleaseOrThrow(document, 'values.yaml').app).toBe('catalogdetail');
  });

  it('accepts the native format with version as another name for tag', () => {
    const release = parseReleaseOrThrow(
      entries(
        { name: 'backend-v1', tag: 'v1.0.0', weight: 90 },
        { name: 'backend-v2', version: '2.0.1', weight: 10 },
      ),
      'release.yaml',
    );
    expect(release.entries).toEqual([
      { name: 'backend-v1', tag: 'v1.0.0', weight: 90 },
      { name: 'backend-v2', tag: '2.0.1', weight: 10 },
    ]);
  });

  it('accepts a bare YAML list of entries, naming paths by index', () => {
    const document = readReleaseText(
      '- {name: a, tag: v1.0.0, weight: 1}\n- {name: b, tag: v2.0.0, weight: -1}\n',
      'x',
    );
    expect(parseReleaseDocument(document, { app: 'web' })).toMatchObject({
      ok: false,
      issues: [{ path: '[1].weight', message: 'entry "b": expected a number >= 0, got -1' }],
    });
  });

  it('leaves the app out when neither the file nor the context names it', () => {
    const result = parseReleaseDocument({ canaryConfig: [{ name: 'a', tag: 'v1.0.0', weight: 100 }] });
    expect(result).toEqual({ ok: true, value: { listKey: 'canaryConfig', entries: expect.any(Array) } });
  });

  it('reports a YAML syntax error with the file name', () => {
    expect(() => readReleaseText('versions: [', 'release.yaml')).toThrow(ConfigError);
    expect(() => readReleaseText('versions: [', 'release.yaml')).toThrow(/release\.yaml is invalid/);
  });
});

describe('invalid edits name the entry', () => {
  const v1 = { name: 'backend-v1', tag: 'v1.0.0', weight: 50 };

  it('rejects all weights zero', () => {
    expect(issuesOf(entries({ ...v1, weight: 0 }, { name: 'backend-v2', tag: 'v2.0.0', weight: 0 }))).toEqual(
      [
        {
          path: 'versions',
          message:
            'all weights are 0: at least one version must receive traffic (remove an entry to take it out)',
        },
      ],
    );
  });

  it('rejects a duplicate name, pointing at both entries', () => {
    expect(issuesOf(entries(v1, { ...v1, tag: 'v2.0.0' }))).toEqual([
      { path: 'versions[1].name', message: 'entry "backend-v1": duplicate name (also versions[0])' },
    ]);
  });

  it('reports a duplicate name on an entry whose other fields are wrong too, with those errors', () => {
    expect(issuesOf(entries(v1, { ...v1, weight: -5 }))).toEqual([
      { path: 'versions[1].name', message: 'entry "backend-v1": duplicate name (also versions[0])' },
      { path: 'versions[1].weight', message: expect.stringContaining('entry "backend-v1": ') },
    ]);
  });

  it('returns the entries that passed on their own, with their positions, beside the issues', () => {
    const result = parseReleaseDocument(
      entries({ name: 'bad', tag: 'v1.0.0', weight: -5 }, { name: 'backend-v2', tag: 'v2.0.0', weight: 10 }),
    );
    expect(result).toMatchObject({
      ok: false,
      passing: { entries: [{ name: 'backend-v2', tag: 'v2.0.0', weight: 10 }], indexes: [1] },
    });
  });

  it('rejects an unknown version, unless the app allows the tag', () => {
    const document = entries(v1, { name: 'backend-v2', tag: 'latest', weight: 50 });
    expect(issuesOf(document)).toEqual([
      {
        path: 'versions[1].tag',
        message:
          'entry "backend-v2": unknown version "latest": expected a release tag such as v2.0.0 or one of releases.allowedTags (none)',
      },
    ]);
    const settings = releaseSettingsSchema.parse({ allowedTags: ['latest'] });
    expect(parseReleaseDocument(document, { settings }).ok).toBe(true);
  });

  it('rejects a negative weight, and weights above 100 or fractional', () => {
    expect(issuesOf(entries(v1, { name: 'backend-v2', tag: 'v2.0.0', weight: -5 }))).toEqual([
      { path: 'versions[1].weight', message: 'entry "backend-v2": expected a number >= 0, got -5' },
    ]);
    expect(issuesOf(entries({ ...v1, weight: 101 }))[0]).toEqual({
      path: 'versions[0].weight',
      message: 'entry "backend-v1": expected a number <= 100, got 101',
    });
    expect(issuesOf(entries({ ...v1, weight: 2.5 }))[0]?.path).toBe('versions[0].weight');
    expect(issuesOf(entries({ ...v1, weight: '50' }))[0]).toEqual({
      path: 'versions[0].weight',
      message: 'entry "backend-v1": expected a number, got "50"',
    });
  });

  it('rejects a bad tag, which also keeps shell syntax out of processes', () => {
    for (const tag of ['v2.0.0; rm -rf /', '', '-v2', '.hidden', 'v2 0', '$(id)', 'x'.repeat(129)]) {
      expect(issuesOf(entries(v1, { name: 'backend-v2', tag, weight: 50 }))).toEqual([
        { path: 'versions[1].tag', message: expect.stringMatching(/^entry "backend-v2": bad tag /) },
      ]);
    }
  });

  it('names the path of the Helm values format in its errors', () => {
    const document = readReleaseText(SEED_VALUES.replace('weight: 50 # percentage', 'weight: -1 # x'), 'v');
    expect(issuesOf(document, { app: 'catalogdetail' })).toEqual([
      { path: 'canaryConfig[0].weight', message: 'entry "backend-v1": expected a number >= 0, got -1' },
    ]);
  });

  it('needs exactly one of tag and version', () => {
    expect(issuesOf(entries({ name: 'a', weight: 1 }))).toEqual([
      { path: 'versions[0].tag', message: 'entry "a": is required (set tag or version, e.g. v2.0.0)' },
    ]);
    expect(issuesOf(entries({ name: 'a', tag: 'v1.0.0', version: 'v1.0.0', weight: 1 }))).toEqual([
      { path: 'versions[0].version', message: 'entry "a": set tag or version, not both' },
    ]);
  });

  it('checks entry names and unknown fields', () => {
    expect(issuesOf(entries({ name: 'Backend_V1', tag: 'v1.0.0', weight: 1 }))[0]?.path).toBe(
      'versions[0].name',
    );
    expect(issuesOf({ versions: [{ ...v1, image: 'x' }] })).toEqual([
      { path: 'versions[0].image', message: 'entry "backend-v1": unknown field (check the spelling)' },
    ]);
    expect(issuesOf({ versions: [v1], weights: {} })).toEqual([
      { path: 'weights', message: 'unknown field (check the spelling)' },
    ]);
  });

  it('keeps the target app name within 63 characters', () => {
    const name = `v-${'a'.repeat(50)}`;
    expect(issuesOf(entries({ name, tag: 'v1.0.0', weight: 1 }), { app: 'catalogdetail' })).toEqual([
      { path: 'versions[0].name', message: expect.stringContaining('must be at most 63 characters') },
    ]);
  });

  it('limits a release to the ten weighted targets App Mesh allows, and needs one', () => {
    const many = Array.from({ length: RELEASE_MAX_VERSIONS + 1 }, (_, i) => ({
      name: `v${i}`,
      tag: `v${i}.0.0`,
      weight: 1,
    }));
    expect(issuesOf({ versions: many })[0]).toEqual({
      path: 'versions',
      message: "expected at most 10 versions (App Mesh's limit of weighted targets per route), got 11",
    });
    expect(issuesOf({ versions: [] })).toEqual([
      { path: 'versions', message: 'expected at least one version' },
    ]);
  });

  it('rejects a file for another app, both lists, or neither', () => {
    expect(issuesOf(entries(v1), { app: 'frontend' })).toEqual([
      { path: 'app', message: 'the file is for app "catalogdetail" but it is applied to app "frontend"' },
    ]);
    expect(issuesOf({ versions: [v1], canaryConfig: [v1] })[0]?.path).toBe('canaryConfig');
    expect(issuesOf({ app: 'x' })).toEqual([
      { path: 'versions', message: "is required (or the seed's canaryConfig list)" },
    ]);
    expect(issuesOf('v1.0.0')[0]?.path).toBe('');
  });
});

describe('releases settings', () => {
  it('defaults to no allowed tags, a 30 s readiness timeout and no artifacts', () => {
    expect(releaseSettingsSchema.parse(undefined)).toEqual({
      allowedTags: [],
      readyTimeout: 30_000,
      artifacts: false,
    });
  });

  it('rejects unknown placeholders and the reserved PORT', () => {
    const result = parseWithSchema(releaseSettingsSchema, {
      env: { PORT: '1', IMAGE: '${image}' },
      args: ['--v=${tag}', '${nope}'],
    });
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual(['env.IMAGE', 'env.PORT', 'args[1]']);
  });
});

describe('release validation properties', () => {
  const entry = fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
    tag: fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99)).map(([a, b, c]) => `v${a}.${b}.${c}`),
    weight: fc.integer({ min: 0, max: 100 }),
  });
  const valid = fc
    .uniqueArray(entry, { minLength: 1, maxLength: RELEASE_MAX_VERSIONS, selector: (e) => e.name })
    .filter((list) => list.some((e) => e.weight > 0));

  it('accepts every list of distinct, released, weighted entries as written', () => {
    fc.assert(
      fc.property(valid, (list) => {
        const result = parseReleaseDocument({ versions: list }, { app: 'web' });
        expect(result).toEqual({ ok: true, value: { app: 'web', listKey: 'versions', entries: list } });
      }),
    );
  });

  it('rejects any such list once one weight turns negative, naming that entry', () => {
    fc.assert(
      fc.property(valid, fc.nat(), fc.integer({ min: -100, max: -1 }), (list, pick, weight) => {
        const index = pick % list.length;
        const edited = list.map((e, i) => (i === index ? { ...e, weight } : e));
        expect(issuesOf({ versions: edited })).toContainEqual({
          path: `versions[${index}].weight`,
          message: `entry "${list[index]!.name}": expected a number >= 0, got ${weight}`,
        });
      }),
    );
  });
});
