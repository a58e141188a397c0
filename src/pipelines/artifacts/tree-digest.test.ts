import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTemporaryDir, removeTemporaryDir } from '../git/git-test-support.js';
import { ArtifactError } from './artifact-error.js';
import { digestTree } from './tree-digest.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTemporaryDir('digest');
});

afterEach(async () => {
  await removeTemporaryDir(dir);
});

/** Writes a small tree under `dir/name`: `d/x` ("hi"), `d/run` (executable), `l` → `d/x`. */
async function sampleTree(name: string, order: 'forward' | 'backward' = 'forward'): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, 'd'), { recursive: true });
  const steps = [
    () => writeFile(join(root, 'd/x'), 'hi'),
    async () => {
      await writeFile(join(root, 'd/run'), '#!/bin/sh\n');
      await chmod(join(root, 'd/run'), 0o755);
    },
    () => symlink('d/x', join(root, 'l')),
  ];
  for (const step of order === 'forward' ? steps : steps.reverse()) await step();
  return root;
}

describe('tree digest', () => {
  it('hashes the documented canonical form', async () => {
    const root = join(dir, 'vector');
    await mkdir(join(root, 'd'), { recursive: true });
    await writeFile(join(root, 'd/x'), 'hi');
    await symlink('d/x', join(root, 'l'));
    const expected = createHash('sha256').update('D 1:d\nF 644 3:d/x 2:hi\nL 1:l 3:d/x\n').digest('hex');
    expect(await digestTree(root)).toBe(expected);
  });

  it('is the same for the same tree written in another order', async () => {
    expect(await digestTree(await sampleTree('a'))).toBe(await digestTree(await sampleTree('b', 'backward')));
  });

  it.each([
    ['a changed byte', (root: string) => writeFile(join(root, 'd/x'), 'ho')],
    ['a lost exec bit', (root: string) => chmod(join(root, 'd/run'), 0o644)],
    ['an exec bit gained', (root: string) => chmod(join(root, 'd/x'), 0o744)],
    ['a renamed file', (root: string) => rename(join(root, 'd/x'), join(root, 'd/y'))],
    ['an empty directory', (root: string) => mkdir(join(root, 'empty'))],
    [
      'another symlink target',
      async (root: string) => {
        await rm(join(root, 'l'));
        await symlink('d/run', join(root, 'l'));
      },
    ],
  ])('changes with %s', async (_, change) => {
    const before = await digestTree(await sampleTree('a'));
    const changed = await sampleTree('b');
    await change(changed);
    expect(await digestTree(changed)).not.toBe(before);
  });

  it('ignores group and other permission bits', async () => {
    const root = await sampleTree('a');
    const before = await digestTree(root);
    await chmod(join(root, 'd/x'), 0o600);
    expect(await digestTree(root)).toBe(before);
  });

  it('refuses a named pipe', async () => {
    const root = await sampleTree('a');
    await promisify(execFile)('mkfifo', [join(root, 'pipe')]);
    const error = await digestTree(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactError);
    expect((error as ArtifactError).code).toBe('AVIARY_ARTIFACT_UNSUPPORTED_FILE');
    expect((error as ArtifactError).message).toContain('pipe');
  });
});
