/**
 * A per-source bare repository that caches what was fetched: `<root>/<source>.git`, created
 * with `git init --bare` and filled by `git fetch` of one ref at a time from the URL in
 * Aviary's configuration (never one from a webhook payload). Reads answer from the cache
 * only: resolve a ref, peel a tag to its commit, read one file at a commit.
 * See docs/adr/0023-git-pipelines.md.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertObjectId,
  assertRefName,
  assertRepositoryUrl,
  assertSourceName,
  assertTreePath,
} from './git-arguments.js';
import { runGit, runGitQuery, type GitInvocation } from './git-command.js';
import { GitError } from './git-error.js';

/** One source's bare repository. */
export interface GitCache {
  /** The source's name (an RFC 1123 label), used in errors. */
  readonly source: string;
  /** The bare repository's directory. */
  readonly gitDir: string;
  /** HOME for git: the cache root, a directory Aviary owns. */
  readonly home: string;
}

/** Options every cache operation takes. */
export interface GitCallOptions {
  readonly signal?: AbortSignal;
}

function invocation(cache: GitCache, ref: string | undefined, options: GitCallOptions): GitInvocation {
  return {
    home: cache.home,
    gitDir: cache.gitDir,
    source: cache.source,
    ...(ref === undefined ? {} : { ref }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
}

/** Opens (creating when missing) the bare cache of `source` under `root`. */
export async function openCache(
  root: string,
  source: string,
  options: GitCallOptions = {},
): Promise<GitCache> {
  const cache: GitCache = {
    source: assertSourceName(source),
    gitDir: join(root, `${source}.git`),
    home: root,
  };
  await mkdir(root, { recursive: true, mode: 0o700 });
  const exists = await stat(join(cache.gitDir, 'HEAD')).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await runGit(['init', '--bare', '--quiet', '--', cache.gitDir], {
      home: root,
      source,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }
  return cache;
}

/**
 * Fetches `ref` (e.g. `refs/tags/v2.0.0`) from `url` into the same ref of the cache and
 * resolves the object id it now names: for an annotated tag, the tag object's id, which is
 * what a push event's `after` carries. A ref that moved on the remote moves in the cache
 * too (`+`); whether that is allowed is the artifact index's rule, not the cache's.
 * Objects are checked as they arrive (`transfer.fsckObjects`), which refuses trees with
 * `..` or `.git` entries before `exportTree` could unpack them.
 */
export async function fetchRef(
  cache: GitCache,
  url: string,
  ref: string,
  options: GitCallOptions = {},
): Promise<string> {
  assertRepositoryUrl(url);
  assertRefName(ref);
  await runGit(
    [
      '-c',
      'transfer.fsckObjects=true',
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-auto-gc',
      '--',
      url,
      `+${ref}:${ref}`,
    ],
    invocation(cache, ref, options),
  ).catch((error: unknown) => {
    if (error instanceof GitError && /couldn't find remote ref/i.test(error.stderr))
      throw new GitError(
        'AVIARY_GIT_REF_NOT_FOUND',
        `source ${cache.source}: ref ${ref} is not on the remote`,
        {
          source: cache.source,
          ref,
          stderr: error.stderr,
        },
      );
    throw error;
  });
  const id = await resolve(cache, ref, options);
  if (id === undefined)
    throw new GitError(
      'AVIARY_GIT_REF_NOT_FOUND',
      `source ${cache.source}: ref ${ref} was fetched but is missing`,
      {
        source: cache.source,
        ref,
      },
    );
  return id;
}

async function revParse(cache: GitCache, expression: string, ref: string, options: GitCallOptions) {
  const output = await runGitQuery(
    ['rev-parse', '--verify', '--quiet', '--end-of-options', expression],
    invocation(cache, ref, options),
  );
  return output?.stdout.toString('utf8').trim();
}

/** The object id `ref` names in the cache (a tag object for an annotated tag), or undefined. */
export async function resolve(
  cache: GitCache,
  ref: string,
  options: GitCallOptions = {},
): Promise<string | undefined> {
  return revParse(cache, assertRefName(ref), ref, options);
}

/**
 * The commit `ref` leads to in the cache, peeling annotated tags (`<ref>^{commit}`), or
 * undefined when the ref is missing or names no commit.
 */
export async function peelToCommit(
  cache: GitCache,
  ref: string,
  options: GitCallOptions = {},
): Promise<string | undefined> {
  return revParse(cache, `${assertRefName(ref)}^{commit}`, ref, options);
}

/**
 * The content of `path` in `commit`'s tree (git show `<commit>:<path>`), or undefined when
 * the tree has no file there. Read as a blob (`cat-file blob`), so a directory at `path`
 * is an error rather than a listing.
 */
export async function showFile(
  cache: GitCache,
  commit: string,
  path: string,
  options: GitCallOptions = {},
): Promise<Buffer | undefined> {
  const object = `${assertObjectId(commit)}:${assertTreePath(path)}`;
  if ((await revParse(cache, object, object, options)) === undefined) return undefined;
  return (await runGit(['cat-file', 'blob', object], invocation(cache, object, options))).stdout;
}

/**
 * What `ref` names on the remote at `url` without fetching: the object id and, for an
 * annotated tag, the commit it peels to. Undefined when the remote has no such ref.
 * A cheap check for the poll that backs up missed webhook deliveries.
 */
export async function lsRemote(
  cache: GitCache,
  url: string,
  ref: string,
  options: GitCallOptions = {},
): Promise<{ readonly id: string; readonly commit: string } | undefined> {
  assertRepositoryUrl(url);
  assertRefName(ref);
  const output = await runGit(['ls-remote', '--', url, ref, `${ref}^{}`], invocation(cache, ref, options));
  const found = new Map<string, string>();
  for (const line of output.stdout.toString('utf8').split('\n')) {
    const [id, name] = line.split('\t');
    if (id !== undefined && name !== undefined) found.set(name, id);
  }
  const id = found.get(ref);
  if (id === undefined) return undefined;
  return { id, commit: found.get(`${ref}^{}`) ?? id };
}
