import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowError } from './flow-error.js';
import { startFakeForge, type FakeForge } from './flow-test-support.js';
import { postCommitStatus, type ForgeStatusTarget } from './forge-status.js';

const SHA = 'c'.repeat(40);
const TOKEN = 'forge-token-3f9a1c';
let forge: FakeForge;

beforeEach(async () => {
  forge = await startFakeForge((request) =>
    request.path.includes('refuse')
      ? { status: 401, body: JSON.stringify({ message: `bad credentials ${TOKEN}` }) }
      : { status: 201 },
  );
});

afterEach(async () => {
  await forge.close();
});

const target = (forgeName: ForgeStatusTarget['forge'], repository: string): ForgeStatusTarget => ({
  forge: forgeName,
  apiBaseUrl: `${forge.url}/api/`,
  repository,
  token: TOKEN,
});

describe('forge commit status', () => {
  it('posts to GitHub with a Bearer token', async () => {
    await postCommitStatus(target('github', 'acme/shop'), SHA, {
      state: 'pending',
      context: 'aviary/build',
      description: 'building v2.0.0',
      targetUrl: 'http://aviary.local/runs/1',
    });
    expect(forge.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: `/api/repos/acme/shop/statuses/${SHA}`,
        body: {
          state: 'pending',
          context: 'aviary/build',
          description: 'building v2.0.0',
          target_url: 'http://aviary.local/runs/1',
        },
      }),
    ]);
    expect(forge.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('posts to Gitea with `token`, and to GitLab by URL-encoded project with PRIVATE-TOKEN', async () => {
    await postCommitStatus(target('gitea', 'acme/shop'), SHA, {
      state: 'success',
      context: 'aviary/release',
      description: 'ok',
    });
    await postCommitStatus(target('gitlab', 'acme/apps/shop'), SHA, {
      state: 'failure',
      context: 'aviary/release',
      description: 'x'.repeat(200),
    });
    const [gitea, gitlab] = forge.requests;
    expect(gitea!.headers.authorization).toBe(`token ${TOKEN}`);
    expect(gitlab!.path).toBe(`/api/projects/acme%2Fapps%2Fshop/statuses/${SHA}`);
    expect(gitlab!.headers['private-token']).toBe(TOKEN);
    expect(gitlab!.headers.authorization).toBeUndefined();
    expect(gitlab!.body).toMatchObject({ state: 'failed', name: 'aviary/release' });
    expect((gitlab!.body.description as string).length).toBe(140);
  });

  it('fails with AVIARY_FLOW_STATUS_FAILED on a refusal or an unreachable forge, the token masked', async () => {
    const refused = (await postCommitStatus(target('github', 'acme/refuse'), SHA, {
      state: 'success',
      context: 'aviary/build',
      description: 'ok',
    }).catch((e: unknown) => e)) as FlowError;
    expect(refused.code).toBe('AVIARY_FLOW_STATUS_FAILED');
    expect(refused.message).toContain('HTTP 401');
    expect(refused.message).toContain('bad credentials ***');
    expect(refused.message).not.toContain(TOKEN);

    await forge.close();
    const unreachable = (await postCommitStatus(target('github', 'acme/shop'), SHA, {
      state: 'success',
      context: 'aviary/build',
      description: 'ok',
    }).catch((e: unknown) => e)) as FlowError;
    expect(unreachable.code).toBe('AVIARY_FLOW_STATUS_FAILED');
    expect(unreachable.message).not.toContain(TOKEN);
    forge = await startFakeForge();
  });

  it('refuses a repository that is not owner/name and a sha that is not a commit id', async () => {
    const status = { state: 'success', context: 'aviary/build', description: 'ok' } as const;
    await expect(postCommitStatus(target('github', 'shop'), SHA, status)).rejects.toThrow(
      /status.repository/,
    );
    await expect(postCommitStatus(target('github', 'acme/shop'), 'HEAD', status)).rejects.toThrow(/^sha /);
    expect(forge.requests).toEqual([]);
  });
});
