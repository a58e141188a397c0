import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { pipelinesSchema } from '../config/pipelines-schema.js';
import { resolveSources, runForPush } from './pipeline-sources.js';
import type { PushEvent } from './webhook/push-event.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sources-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (sources: unknown[]) => pipelinesSchema.parse({ sources });
const app = { name: 'app', forge: 'github', repository: 'acme/app', url: './app.git' };
const deploy = { name: 'deploy', forge: 'gitea', repository: 'acme/deploy', url: '/srv/deploy.git' };

function push(kind: 'tag' | 'branch', name: string, extra: Partial<PushEvent> = {}): PushEvent {
  const ref = `refs/${kind === 'tag' ? 'tags' : 'heads'}/${name}`;
  return {
    forge: 'github',
    deliveryId: 'd-1',
    event: 'push',
    ref,
    kind,
    name,
    before: '0'.repeat(40),
    after: 'a'.repeat(40),
    deleted: false,
    repository: 'acme/app',
    ...extra,
  };
}

describe('resolveSources', () => {
  it('reads secret files relative to aviary.yaml without their line break, and variables', async () => {
    await writeFile(join(dir, 'hook'), 's3cret\r\n');
    const resolved = await resolveSources(
      config([
        { ...app, secretFile: 'hook', build: { app: 'app', secretEnv: ['NPM_TOKEN'] } },
        {
          ...deploy,
          secretEnv: 'DEPLOY_SECRET',
          release: { app: 'app' },
          status: { api: 'http://127.0.0.1:1', tokenEnv: 'T' },
        },
      ]),
      { baseDir: dir, environment: { DEPLOY_SECRET: 'd', NPM_TOKEN: 'n', T: 'tok' } },
    );
    expect(resolved.webhooks.map((s) => s.secret)).toEqual(['s3cret', 'd']);
    expect(resolved.builds.get('app')).toMatchObject({
      url: join(dir, 'app.git'),
      secrets: { NPM_TOKEN: 'n' },
    });
    expect(resolved.releases.get('deploy')).toMatchObject({
      url: '/srv/deploy.git',
      branch: 'main',
      releaseFile: 'release.yaml',
      pollMs: 60_000,
      status: { forge: 'gitea', token: 'tok', repository: 'acme/deploy' },
    });
  });

  it('names every unreadable file, empty value and unset variable by its path', async () => {
    await writeFile(join(dir, 'empty'), '\n');
    const error = await resolveSources(
      config([
        { ...app, secretFile: 'missing', build: { app: 'app', secretEnv: ['UNSET'] } },
        {
          ...deploy,
          secretFile: 'empty',
          release: { app: 'app' },
          status: { api: 'http://127.0.0.1:1', tokenEnv: 'NONE' },
        },
      ]),
      { baseDir: dir, environment: {} },
    ).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual([
      'pipelines.sources[0].secretFile',
      'pipelines.sources[0].build.secretEnv[0]',
      'pipelines.sources[1].secretFile',
      'pipelines.sources[1].status.tokenEnv',
    ]);
    expect(JSON.stringify(error)).not.toContain('s3cret');
  });
});

describe('runForPush', () => {
  const sources = {
    webhooks: [],
    builds: new Map([['app', { name: 'app' } as never]]),
    releases: new Map([['deploy', { name: 'deploy', branch: 'main' } as never]]),
  };

  it('builds a tag pushed to a build source and applies the deploy branch of a release source', () => {
    expect(runForPush(push('tag', 'v2.0.0'), 'app', sources)).toEqual({
      pipeline: 'build',
      source: 'app',
      ref: 'refs/tags/v2.0.0',
      after: 'a'.repeat(40),
      deliveryId: 'd-1',
    });
    expect(runForPush(push('branch', 'main'), 'deploy', sources)).toMatchObject({
      pipeline: 'release',
      source: 'deploy',
    });
  });

  it('ignores deletions, branches of a build source, other branches and tags of a release source', () => {
    expect(runForPush(push('tag', 'v2.0.0', { deleted: true }), 'app', sources)).toHaveProperty('ignored');
    expect(runForPush(push('branch', 'main'), 'app', sources)).toHaveProperty('ignored');
    expect(runForPush(push('branch', 'feature'), 'deploy', sources)).toHaveProperty('ignored');
    expect(runForPush(push('tag', 'main'), 'deploy', sources)).toHaveProperty('ignored');
    expect(runForPush(push('tag', 'v1'), 'nobody', sources)).toHaveProperty('ignored');
  });
});
