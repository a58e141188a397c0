import { describe, expect, it } from 'vitest';
import { loadAviaryConfig } from './app-schema.js';
import { pipelinesSchema } from './pipelines-schema.js';

const source = (extra: Record<string, unknown> = {}) => ({
  name: 'catalogdetail',
  forge: 'github',
  repository: 'acme/catalogdetail',
  url: '/srv/git/catalogdetail.git',
  secretFile: '/etc/aviary/hook-secret',
  build: { app: 'catalogdetail', steps: [['npm', 'ci']] },
  ...extra,
});

/** Each issue as `path: message`. */
function issuesOf(input: unknown): string[] {
  const result = pipelinesSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('the pipelines block', () => {
  it('fills the defaults: receiver off, one run at a time, a build of the whole tree in 10 minutes', () => {
    const parsed = pipelinesSchema.parse({ sources: [source()] });
    expect(parsed.webhooks).toBeUndefined();
    expect(parsed.concurrency).toBe(1);
    expect(parsed.sources[0]?.build).toMatchObject({ output: '.', timeout: 600_000, onPublish: 'publish' });
    const release = pipelinesSchema.parse({
      webhooks: {},
      sources: [source({ build: undefined, release: { app: 'catalogdetail' } })],
    });
    expect(release.webhooks).toEqual({
      host: '127.0.0.1',
      port: 8082,
      maxBodyBytes: 1024 * 1024,
      maxInFlight: 64,
      rateLimit: { perSecond: 10, burst: 100 },
    });
    expect(release.sources[0]?.release).toEqual({
      app: 'catalogdetail',
      branch: 'main',
      path: 'release.yaml',
      poll: 60_000,
    });
  });

  it('refuses a secret or token written in clear, naming the field and where it belongs', () => {
    expect(issuesOf({ sources: [source({ secretFile: undefined, secret: 'hunter2' })] })).toEqual([
      'sources.0.secret: a webhook secret is never written in the configuration: give secretFile (a file holding it) or secretEnv (an environment variable)',
    ]);
    expect(
      issuesOf({ sources: [source({ status: { api: 'https://api.github.com', token: 'ghp_x' } })] }),
    ).toContain(
      'sources.0.status.token: a forge token is never written in the configuration: give tokenFile (a file holding it) or tokenEnv (an environment variable)',
    );
  });

  it('needs exactly one secret, and exactly one of build and release', () => {
    expect(issuesOf({ sources: [source({ secretFile: undefined })] })).toEqual([
      'sources.0.secretFile: expected exactly one of secretFile and secretEnv',
    ]);
    expect(issuesOf({ sources: [source({ secretEnv: 'HOOK_SECRET' })] })).toEqual([
      'sources.0.secretFile: expected exactly one of secretFile and secretEnv',
    ]);
    expect(issuesOf({ sources: [source({ release: { app: 'catalogdetail' } })] })).toEqual([
      'sources.0.build: expected exactly one of build (tag pushes are built) and release (branch pushes are applied)',
    ]);
  });

  it('names bad steps, paths outside the repository, unknown forges and duplicate sources', () => {
    expect(issuesOf({ sources: [source({ build: { app: 'catalogdetail', steps: [[]] } })] })).toEqual([
      'sources.0.build.steps.0: expected a command and its arguments',
    ]);
    expect(issuesOf({ sources: [source({ build: { app: 'catalogdetail', output: '../etc' } })] })).toEqual([
      'sources.0.build.output: expected a path inside the repository (relative, without "..")',
    ]);
    expect(issuesOf({ sources: [source({ forge: 'bitbucket' })] })[0]).toMatch(/^sources\.0\.forge: /);
    expect(issuesOf({ sources: [source(), source()] })).toEqual([
      'sources.1.name: duplicate source catalogdetail',
    ]);
  });

  it('names bad admission limits of the receiver at their path in aviary.yaml', () => {
    const text = [
      'apiVersion: aviary.dev/v1alpha1',
      'kind: Aviary',
      'apps: [{name: catalogdetail, path: /c, endpoints: [{url: "http://127.0.0.1:1"}]}]',
      'pipelines:',
      '  webhooks: {maxInFlight: 0, rateLimit: {perSecond: -1, burst: 2.5}}',
    ].join('\n');
    expect(() => loadAviaryConfig(text, 'aviary.yaml')).toThrow(
      expect.objectContaining({
        code: 'AVIARY_CONFIG_INVALID',
        message: expect.stringMatching(
          /pipelines\.webhooks\.maxInFlight: expected a number >= 1, got 0\n.*pipelines\.webhooks\.rateLimit\.perSecond: expected a number > 0, got -1\n.*pipelines\.webhooks\.rateLimit\.burst: expected an integer, got 2\.5/,
        ),
      }),
    );
  });
});
