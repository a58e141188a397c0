/**
 * Checks on every string that reaches a git command line from outside: ref names (the rules
 * of git-check-ref-format(1), plus a `refs/heads/` or `refs/tags/` prefix), commit ids,
 * repository URLs and paths inside a tree. Each is checked before git runs, so a value can
 * never be read as an option (`--upload-pack=…`) or name something outside what was meant.
 */
import { GitError } from './git-error.js';

// Control characters (git-check-ref-format rule 4) and the characters rules 4 and 5 forbid.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_REF = /[\u0000-\u0020\u007f~^:?*[\\]/;
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function refused(what: string, value: string, why: string): GitError {
  return new GitError('AVIARY_GIT_INVALID_ARGUMENT', `${what} ${JSON.stringify(value)}: ${why}`, {
    ref: value,
  });
}

/**
 * `ref` when it is a full branch or tag name that git-check-ref-format(1) accepts, e.g.
 * `refs/tags/v2.0.0`. Stricter than git: only `refs/heads/` and `refs/tags/`, at most 255
 * characters, and no component may start with `-`.
 */
export function assertRefName(ref: string): string {
  if (!/^refs\/(?:heads|tags)\/./.test(ref))
    throw refused('ref', ref, 'expected refs/heads/… or refs/tags/…');
  if (ref.length > 255) throw refused('ref', ref, 'longer than 255 characters');
  if (FORBIDDEN_IN_REF.test(ref)) throw refused('ref', ref, 'contains a space, control or special character');
  if (
    ref.includes('..') ||
    ref.includes('@{') ||
    ref.includes('//') ||
    ref.endsWith('/') ||
    ref.endsWith('.')
  )
    throw refused('ref', ref, 'contains "..", "@{" or "//", or ends with "/" or "."');
  for (const component of ref.split('/')) {
    if (component.startsWith('.') || component.startsWith('-') || component.endsWith('.lock'))
      throw refused('ref', ref, `component "${component}" starts with "." or "-" or ends with ".lock"`);
  }
  return ref;
}

/** `commit` when it is a full lowercase SHA-1 or SHA-256 object id. */
export function assertObjectId(commit: string): string {
  if (!OBJECT_ID.test(commit)) throw refused('commit', commit, 'expected a full hexadecimal object id');
  return commit;
}

/**
 * `url` when git can only read it as a repository: not empty, no leading `-` (an option),
 * no control characters, and not git's `ext::` transport, which runs a command.
 */
export function assertRepositoryUrl(url: string): string {
  // eslint-disable-next-line no-control-regex
  if (url === '' || url.startsWith('-') || /[\u0000-\u001f\u007f]/.test(url))
    throw refused('repository URL', url, 'empty, starts with "-" or contains a control character');
  if (/^ext::/i.test(url)) throw refused('repository URL', url, 'the ext:: transport runs commands');
  return url;
}

/** `path` when it is a relative path inside a tree, `/`-separated, with no `.` or `..` component. */
export function assertTreePath(path: string): string {
  // eslint-disable-next-line no-control-regex
  if (path === '' || path.startsWith('/') || /[\u0000-\u001f\u007f]/.test(path))
    throw refused('path', path, 'expected a relative path without control characters');
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..'))
    throw refused('path', path, 'has an empty, "." or ".." component');
  return path;
}

/** A cache's source name: it names a directory, so an RFC 1123 label. */
export function assertSourceName(source: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(source))
    throw refused('source', source, 'expected a lowercase RFC 1123 label');
  return source;
}
