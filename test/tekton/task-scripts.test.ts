/**
 * The shipped Tasks' scripts, run by step-runner.ts with real git repositories and a fake
 * GitHub status API on 127.0.0.1: verify-git-ref accepts exactly the ref the push announced
 * (an annotated tag compared unpeeled, then peeled) and names the image; github-commit-status
 * posts GitHub's statuses request with the token only in its header; aviary-validate runs
 * this repository's CLI on a release file.
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadManifests, manifest, type Manifest } from './manifests.js';
import { runStep } from './step-runner.js';

const exec = promisify(execFile);

describe('verify-git-ref on a real repository', () => {
  let repo: string;
  let task: Manifest;
  const sha: Record<string, string> = {};
  const git = async (...args: string[]) => (await exec('git', args, { cwd: repo })).stdout.trim();

  beforeAll(async () => {
    task = manifest(await loadManifests(), 'Task', 'verify-git-ref');
    repo = await mkdtemp(join(tmpdir(), 'aviary-verify-ref-'));
    await git('init', '--quiet', '--initial-branch=main');
    await git('config', 'user.email', 'dev@example.com');
    await git('config', 'user.name', 'Dev One');
    await writeFile(join(repo, 'app.js'), 'version 2.0\n');
    await git('add', 'app.js');
    await git('commit', '--quiet', '-m', 'v2.0.0');
    sha.v200 = await git('rev-parse', 'HEAD');
    await git('tag', 'v2.0.0');
    await git('tag', 'release/2.0');
    await git('tag', 'v$(touch${IFS}pwned)');
    await writeFile(join(repo, 'app.js'), 'version 2.1\n');
    await git('commit', '--quiet', '-am', 'v2.1.0');
    sha.v210 = await git('rev-parse', 'HEAD');
    await git('tag', '-a', 'v2.1.0', '-m', 'catalogdetail 2.1.0');
    sha.tagObject = await git('rev-parse', 'refs/tags/v2.1.0');
  });

  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  const verify = (ref: string, refSha: string, commitSha: string, fetched: string) =>
    runStep(task, {
      params: { ref, 'ref-sha': refSha, 'commit-sha': commitSha, 'fetched-commit': fetched },
      workspaces: { source: repo },
    });

  it('accepts a lightweight tag; the image tag is the git tag', async () => {
    const out = await verify('refs/tags/v2.0.0', sha.v200!, sha.v200!, sha.v200!);
    expect(out.stderr).toBe('');
    expect(out.results).toEqual({ commit: sha.v200, 'image-tag': 'v2.0.0' });
  });

  it("accepts an annotated tag whose push names the tag object, peeled to the push's commit", async () => {
    expect(sha.tagObject).not.toBe(sha.v210);
    const out = await verify('refs/tags/v2.1.0', sha.tagObject!, sha.v210!, sha.v210!);
    expect(out.results).toEqual({ commit: sha.v210, 'image-tag': 'v2.1.0' });
  });

  it('accepts a branch; the image tag is the short SHA', async () => {
    const out = await verify('refs/heads/main', sha.v210!, sha.v210!, sha.v210!);
    expect(out.results).toEqual({ commit: sha.v210, 'image-tag': sha.v210!.slice(0, 7) });
  });

  it.each([
    ['a tag moved since the push', 'refs/tags/v2.0.0', 'v210', 'v210', 'v210', /points at/],
    ['an annotated tag compared peeled', 'refs/tags/v2.1.0', 'v210', 'v210', 'v210', /points at/],
    [
      'a commit other than the tagged one checked out',
      'refs/tags/v2.1.0',
      'tagObject',
      'v210',
      'v200',
      /checked out/,
    ],
    ['a push naming another commit', 'refs/tags/v2.1.0', 'tagObject', 'v200', 'v200', /peels to/],
    [
      'a ref that is no tag or branch',
      'refs/pull/1/head',
      'v200',
      'v200',
      'v200',
      /neither a tag nor a branch/,
    ],
    [
      'a git tag that is no valid image tag',
      'refs/tags/release/2.0',
      'v200',
      'v200',
      'v200',
      /not a valid image tag/,
    ],
  ])('refuses %s, writing no result', async (_case, ref, refSha, commitSha, fetched, says) => {
    const out = await verify(ref, sha[refSha]!, sha[commitSha]!, sha[fetched]!);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(says);
    expect(out.results).toEqual({});
  });

  it('never runs what a tag name holds: the ref reaches the script as data', async () => {
    const out = await verify('refs/tags/v$(touch${IFS}pwned)', sha.v200!, sha.v200!, sha.v200!);
    expect(out.stderr).toMatch(/not a valid image tag/);
    await expect(access(join(repo, 'pwned'))).rejects.toThrow();
  });
});

describe('github-commit-status against a fake GitHub on loopback', () => {
  let server: Server;
  let api: string;
  let dir: string;
  let task: Manifest;
  let answer = 201;
  const requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const COMMIT = 'f'.repeat(40);

  beforeAll(async () => {
    task = manifest(await loadManifests(), 'Task', 'github-commit-status');
    dir = await mkdtemp(join(tmpdir(), 'aviary-status-'));
    await writeFile(join(dir, 'token'), 's3cret-token\n');
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(answer, { 'content-type': 'application/json' }).end('{"id":1}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    requests.length = 0;
    answer = 201;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const post = (outcome: string, repo = 'example/catalogdetail') =>
    runStep(task, {
      params: {
        'repo-full-name': repo,
        sha: COMMIT,
        outcome,
        'status-context': 'aviary/build',
        description: 'build of "refs/tags/v2.0.0"',
        'github-api': api,
      },
      workspaces: { 'github-token': dir },
      taskRunName: 'apps-build-72d3-report-status',
    });

  it.each([
    ['pending', 'pending'],
    ['Succeeded', 'success'],
    ['Completed', 'success'],
    ['Failed', 'failure'],
    ['None', 'error'],
  ])('posts %s as state %s to /repos/{owner}/{repo}/statuses/{sha}', async (outcome, state) => {
    const out = await post(outcome);
    expect(out.code).toBe(0);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe(`/repos/example/catalogdetail/statuses/${COMMIT}`);
    expect(request!.headers.authorization).toBe('Bearer s3cret-token');
    expect(JSON.parse(request!.body)).toEqual({
      state,
      context: 'aviary/build',
      description: 'build of refs/tags/v2.0.0 (apps-build-72d3-report-status)',
    });
    expect(out.stdout + out.stderr).not.toContain('s3cret');
  });

  it('fails the task when GitHub refuses the status', async () => {
    answer = 422;
    const out = await post('Succeeded');
    expect(out.code).not.toBe(0);
  });

  it('refuses a repository name that is not owner/repo, sending nothing', async () => {
    const out = await post('Succeeded', 'example/x/../../evil');
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/bad repository/);
    expect(requests).toHaveLength(0);
  });
});

describe("aviary-validate with this repository's CLI", () => {
  let dir: string;
  let task: Manifest;
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));

  beforeAll(async () => {
    task = manifest(await loadManifests(), 'Task', 'aviary-validate');
    dir = await mkdtemp(join(tmpdir(), 'aviary-validate-'));
    // The step expects `aviary` on its PATH, as in the image.
    await mkdir(join(dir, 'bin'));
    const shim = join(dir, 'bin', 'aviary');
    await writeFile(shim, `#!/bin/sh\nexec "${ROOT}node_modules/.bin/tsx" "${ROOT}src/cli/main.ts" "$@"\n`);
    await chmod(shim, 0o755);
    await mkdir(join(dir, 'checkout'));
    const release = (weight: number) =>
      `app: catalogdetail\nversions:\n  - {name: backend-v1, tag: v1.0.0, weight: 50}\n  - {name: backend-v2, tag: v2.0.0, weight: ${weight}}\n`;
    await writeFile(join(dir, 'checkout', 'release.yaml'), release(50));
    await writeFile(join(dir, 'checkout', 'bad.yaml'), release(-5));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const validate = (file: string) =>
    runStep(task, {
      params: { 'release-file': file, 'aviary-image': 'aviary:dev' },
      workspaces: { source: join(dir, 'checkout') },
      path: [join(dir, 'bin')],
    });

  it('passes a valid release file', async () => {
    const out = await validate('release.yaml');
    expect(out.stdout).toMatch(/release\.yaml: valid \(Release\)/);
    expect(out.code).toBe(0);
  });

  it('fails the run on an invalid one, naming the entry (exit 3)', async () => {
    const out = await validate('bad.yaml');
    expect(out.code).toBe(3);
    expect(out.stdout + out.stderr).toMatch(/versions\[1\]\.weight: entry "backend-v2"/);
  });
});
