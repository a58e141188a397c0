import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fetchRef,
  lsRemote,
  openCache,
  peelToCommit,
  resolve,
  showFile,
  type GitCache,
} from './git-cache.js';
import { GitError } from './git-error.js';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
  type TestRepository,
} from './git-test-support.js';
import { exportTree } from './tree-export.js';

let root: string;
let repo: TestRepository;
let cache: GitCache;
let first: string;

beforeEach(async () => {
  root = await makeTemporaryDir('git');
  repo = await createTestRepository(root);
  first = await repo.commit('v1', {
    'README.md': 'hello\n',
    'bin/start': { exec: '#!/bin/sh\necho started\n' },
    current: { link: 'README.md' },
    'deploy/release.yaml': 'canaryConfig: []\n',
  });
  await repo.git('tag', '-a', 'v1.0.0', '-m', 'release 1');
  await repo.git('tag', 'light', first);
  cache = await openCache(join(root, 'cache'), 'catalogdetail');
});

afterEach(async () => {
  await removeTemporaryDir(root);
});

describe('git cache', () => {
  it('creates a bare repository once and reopens it', async () => {
    const again = await openCache(join(root, 'cache'), 'catalogdetail');
    expect(again.gitDir).toBe(cache.gitDir);
    expect((await readFile(join(cache.gitDir, 'config'), 'utf8')).includes('bare = true')).toBe(true);
  });

  it('fetches an annotated tag and peels it to its commit', async () => {
    const tagObject = await repo.git('rev-parse', 'refs/tags/v1.0.0');
    expect(tagObject).not.toBe(first);
    expect(await fetchRef(cache, repo.dir, 'refs/tags/v1.0.0')).toBe(tagObject);
    expect(await resolve(cache, 'refs/tags/v1.0.0')).toBe(tagObject);
    expect(await peelToCommit(cache, 'refs/tags/v1.0.0')).toBe(first);
  });

  it('fetches a lightweight tag and a branch, whose ids are commits', async () => {
    expect(await fetchRef(cache, repo.dir, 'refs/tags/light')).toBe(first);
    expect(await peelToCommit(cache, 'refs/tags/light')).toBe(first);
    const second = await repo.commit('v2', { 'README.md': 'hello again\n' });
    expect(await fetchRef(cache, repo.dir, 'refs/heads/main')).toBe(second);
  });

  it('follows a branch that moved and a tag that was force-moved', async () => {
    await fetchRef(cache, repo.dir, 'refs/tags/light');
    const second = await repo.commit('v2', { 'README.md': 'moved\n' });
    await repo.git('tag', '--force', 'light', second);
    expect(await fetchRef(cache, repo.dir, 'refs/tags/light')).toBe(second);
  });

  it('answers undefined for a ref the cache does not have', async () => {
    expect(await resolve(cache, 'refs/tags/v9')).toBeUndefined();
    expect(await peelToCommit(cache, 'refs/heads/nope')).toBeUndefined();
  });

  it('names the source and ref when the remote has no such ref', async () => {
    const error = await fetchRef(cache, repo.dir, 'refs/tags/v9').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).code).toBe('AVIARY_GIT_REF_NOT_FOUND');
    expect((error as GitError).message).toContain('catalogdetail');
    expect((error as GitError).message).toContain('refs/tags/v9');
    expect((error as GitError).stderr).toMatch(/remote ref/i);
  });

  it("carries git's stderr when the repository does not exist", async () => {
    const error = await fetchRef(cache, join(root, 'missing'), 'refs/heads/main').catch((e: unknown) => e);
    expect((error as GitError).code).toBe('AVIARY_GIT_COMMAND_FAILED');
    expect((error as GitError).stderr).not.toBe('');
    expect((error as GitError).message).toContain((error as GitError).stderr.split('\n')[0]);
  });

  it.each([
    '--upload-pack=touch /tmp/x',
    'refs/tags/-x',
    'refs/tags/a..b',
    'refs/tags/a b',
    'refs/tags/a\u0001',
    'refs/tags/a~1',
    'refs/tags/a^{}',
    'refs/tags/a.lock',
    'refs/tags/',
    'v1.0.0',
    'refs/remotes/origin/main',
  ])('refuses the ref %j before git runs', async (ref) => {
    const error = await fetchRef(cache, repo.dir, ref).catch((e: unknown) => e);
    expect((error as GitError).code).toBe('AVIARY_GIT_INVALID_ARGUMENT');
  });

  it.each(['--upload-pack=touch /tmp/x', 'ext::sh -c touch% /tmp/x', ''])(
    'refuses the URL %j before git runs',
    async (url) => {
      const error = await fetchRef(cache, url, 'refs/heads/main').catch((e: unknown) => e);
      expect((error as GitError).code).toBe('AVIARY_GIT_INVALID_ARGUMENT');
    },
  );

  it('reads one file at a commit, and undefined for a missing path', async () => {
    await fetchRef(cache, repo.dir, 'refs/heads/main');
    expect((await showFile(cache, first, 'deploy/release.yaml'))?.toString('utf8')).toBe(
      'canaryConfig: []\n',
    );
    expect(await showFile(cache, first, 'deploy/missing.yaml')).toBeUndefined();
    await expect(showFile(cache, first, '../etc/passwd')).rejects.toThrow(/path/);
    await expect(showFile(cache, 'HEAD', 'README.md')).rejects.toThrow(/object id/);
  });

  it('lists a remote ref without fetching, peeling an annotated tag', async () => {
    const tagObject = await repo.git('rev-parse', 'refs/tags/v1.0.0');
    expect(await lsRemote(cache, repo.dir, 'refs/tags/v1.0.0')).toEqual({ id: tagObject, commit: first });
    expect(await lsRemote(cache, repo.dir, 'refs/heads/main')).toEqual({ id: first, commit: first });
    expect(await lsRemote(cache, repo.dir, 'refs/tags/v9')).toBeUndefined();
    expect(await resolve(cache, 'refs/tags/v1.0.0')).toBeUndefined();
  });

  it('ignores GIT_DIR and GIT_WORK_TREE inherited from the controller', async () => {
    const saved = { dir: process.env.GIT_DIR, tree: process.env.GIT_WORK_TREE };
    process.env.GIT_DIR = join(repo.dir, '.git');
    process.env.GIT_WORK_TREE = repo.dir;
    try {
      expect(await fetchRef(cache, repo.dir, 'refs/tags/light')).toBe(first);
      expect(await repo.git('for-each-ref', '--format=%(refname)', 'refs/tags/')).toBe(
        'refs/tags/light\nrefs/tags/v1.0.0',
      );
    } finally {
      if (saved.dir === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved.dir;
      if (saved.tree === undefined) delete process.env.GIT_WORK_TREE;
      else process.env.GIT_WORK_TREE = saved.tree;
    }
  });
});

describe('tree export', () => {
  it('writes the tracked files with their modes and symlinks, and no .git', async () => {
    const commit = await peelToCommit(cache, 'refs/tags/v1.0.0').then(async (known) => {
      expect(known).toBeUndefined();
      await fetchRef(cache, `file://${repo.dir}`, 'refs/tags/v1.0.0');
      return (await peelToCommit(cache, 'refs/tags/v1.0.0'))!;
    });
    const dest = join(root, 'export');
    await exportTree(cache, commit, dest);
    expect((await readdir(dest)).sort()).toEqual(['README.md', 'bin', 'current', 'deploy']);
    expect(await readFile(join(dest, 'README.md'), 'utf8')).toBe('hello\n');
    expect((await lstat(join(dest, 'bin/start'))).mode & 0o111).not.toBe(0);
    expect((await lstat(join(dest, 'README.md'))).mode & 0o111).toBe(0);
    expect(await readlink(join(dest, 'current'))).toBe('README.md');
    const all = await readdir(dest, { recursive: true });
    expect(all.some((path) => path.split('/').includes('.git'))).toBe(false);
  });

  it('refuses a destination that is not empty, and an unknown commit with stderr', async () => {
    await fetchRef(cache, repo.dir, 'refs/heads/main');
    await expect(exportTree(cache, first, root)).rejects.toThrow(/not empty/);
    const error = await exportTree(cache, 'f'.repeat(40), join(root, 'x')).catch((e: unknown) => e);
    expect((error as GitError).code).toBe('AVIARY_GIT_COMMAND_FAILED');
    expect((error as GitError).stderr).not.toBe('');
    expect((error as GitError).message).toContain('catalogdetail');
  });
});
