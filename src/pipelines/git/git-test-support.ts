/**
 * Real git repositories for the pipelines' tests: a work repository in a temporary
 * directory with commits and tags made by the git CLI, isolated from the user's own
 * configuration.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A work repository the test commits to; its path is a URL `git fetch` accepts. */
export interface TestRepository {
  readonly dir: string;
  git(...argv: string[]): Promise<string>;
  /** Writes `files` (path → content; a `{ link }` value makes a symlink, `{ exec }` an executable) and commits; resolves the commit id. */
  commit(
    message: string,
    files: Record<string, string | { link: string } | { exec: string }>,
  ): Promise<string>;
}

/** A fresh temporary directory; remove it with {@link removeTemporaryDir}. */
export async function makeTemporaryDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `aviary-${prefix}-`));
}

/** Removes `dir`, first making read-only directories inside it writable. */
export async function removeTemporaryDir(dir: string): Promise<void> {
  await execFileAsync('chmod', ['-R', 'u+w', dir]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** Creates a work repository with branch `main` in a new directory under `parent`. */
export async function createTestRepository(parent: string): Promise<TestRepository> {
  const dir = join(parent, 'work');
  await mkdir(dir, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: parent,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
  };
  const git = async (...argv: string[]): Promise<string> =>
    (await execFileAsync('git', argv, { cwd: dir, env })).stdout.trim();
  await git('init', '--quiet', '--initial-branch=main');
  return {
    dir,
    git,
    async commit(message, files) {
      for (const [path, content] of Object.entries(files)) {
        const file = join(dir, path);
        await mkdir(dirname(file), { recursive: true });
        await rm(file, { force: true });
        if (typeof content === 'string') await writeFile(file, content);
        else if ('link' in content) await symlink(content.link, file);
        else {
          await writeFile(file, content.exec);
          await chmod(file, 0o755);
        }
      }
      await git('add', '--all');
      await git('commit', '--quiet', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD');
    },
  };
}
