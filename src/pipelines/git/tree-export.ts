/**
 * Exporting a commit's tree into a fresh directory: `git archive --format=tar <commit>`
 * piped into `tar -x`, both started with argv and no shell. The result is the tracked files
 * alone: no `.git`, so no remote URL, credentials, hooks or history travel into a build.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { assertObjectId } from './git-arguments.js';
import type { GitCache, GitCallOptions } from './git-cache.js';
import { gitEnvironment, withoutUrlCredentials } from './git-command.js';
import { GitError } from './git-error.js';

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly spawnError?: Error;
}

function finished(child: ReturnType<typeof spawn>): Promise<Finished> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  return new Promise((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, stderr, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function describe(name: string, result: Finished): string | undefined {
  if (result.spawnError !== undefined) return `${name} failed to start (${result.spawnError.message})`;
  if (result.signal !== null) return `${name} was killed by ${result.signal}`;
  if (result.code !== 0) return `${name} exited with code ${result.code}`;
  return undefined;
}

/**
 * Writes the tree of `commit` into `destDir`, which must be missing or empty. Files keep
 * git's modes (0644, or 0755 when executable) and symlinks stay symlinks. GNU tar refuses
 * members with `..` and strips leading `/`; `fetchRef` has already refused such trees.
 */
export async function exportTree(
  cache: GitCache,
  commit: string,
  destDir: string,
  options: GitCallOptions = {},
): Promise<void> {
  assertObjectId(commit);
  await mkdir(destDir, { recursive: true, mode: 0o700 });
  if ((await readdir(destDir)).length > 0)
    throw new GitError('AVIARY_GIT_INVALID_ARGUMENT', `export of ${commit}: ${destDir} is not empty`, {
      source: cache.source,
      ref: commit,
    });
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const archive = spawn('git', [`--git-dir=${cache.gitDir}`, 'archive', '--format=tar', commit], {
    env: gitEnvironment(cache.home),
    cwd: cache.home,
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: false,
    ...signal,
  });
  const tar = spawn('tar', ['-x', '--no-same-owner', '-f', '-', '-C', destDir], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    stdio: ['pipe', 'ignore', 'pipe'],
    shell: false,
    ...signal,
  });
  // A failing tar closes its stdin; the archive side then sees EPIPE, reported through its exit.
  tar.stdin.on('error', () => undefined);
  archive.stdout.pipe(tar.stdin);
  const [archived, extracted] = await Promise.all([finished(archive), finished(tar)]);
  const failure = describe('git archive', archived) ?? describe('tar -x', extracted);
  if (failure !== undefined) {
    const stderr = withoutUrlCredentials(`${archived.stderr}${extracted.stderr}`);
    throw new GitError(
      'AVIARY_GIT_COMMAND_FAILED',
      `source ${cache.source}: export of ${commit}: ${failure}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`,
      { source: cache.source, ref: commit, stderr },
    );
  }
}
