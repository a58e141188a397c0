/**
 * Installs the git `post-receive` hook of `aviary pipelines hook install <bare-repo>`: with it,
 * a bare repository on a VM sends Aviary's webhook receiver the push a GitHub repository
 * would (issue 14, docs/adr/0023-git-pipelines.md), so the seed story runs without a forge.
 *
 * The hook is one fixed line that `exec`s `aviary pipelines hook deliver` (push-delivery.ts)
 * with absolute paths; everything else is TypeScript. It names the file holding the webhook
 * secret, never the secret, so neither the hook nor `ps` shows it.
 */
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { AviaryError } from '../errors.js';
import { runGit } from '../pipelines/git/git-command.js';
import { DEFAULT_WEBHOOK_HOST, DEFAULT_WEBHOOK_PORT } from '../pipelines/webhook/index.js';

/** The `aviary` entry point of this installation: `bin/aviary.js` (from `src/cli` and `dist/cli` alike). */
export const AVIARY_BIN = fileURLToPath(new URL('../../bin/aviary.js', import.meta.url));

/** The receiver's GitHub endpoint on this machine with the default listener. */
export const DEFAULT_HOOK_URL = `http://${DEFAULT_WEBHOOK_HOST}:${DEFAULT_WEBHOOK_PORT}/hooks/github`;

/** `owner/name`, as the receiver's sources name repositories. */
const REPOSITORY = /^[^/\s]+(?:\/[^/\s]+)+$/;

/** What to install. */
export interface HookInstallOptions {
  /** The bare repository. */
  readonly repo: string;
  /** The receiver's endpoint. Default {@link DEFAULT_HOOK_URL}. */
  readonly url?: string;
  /** `owner/name` sent as `repository.full_name`. Default {@link defaultRepository}. */
  readonly repository?: string;
  /** The file holding the webhook secret; read at each delivery. Security: the secret itself is never taken. */
  readonly secretFile: string;
  /** Replace an existing `post-receive` hook. Default false. */
  readonly force?: boolean;
  /** The node executable the hook runs. Default `process.execPath`. */
  readonly node?: string;
  /** The `aviary` entry point the hook runs. Default {@link AVIARY_BIN}. */
  readonly aviaryBin?: string;
}

/** What was installed. */
export interface InstalledHook {
  readonly path: string;
  readonly url: string;
  readonly repository: string;
  readonly secretFile: string;
  /** True when an existing hook was replaced (`force`). */
  readonly replaced: boolean;
}

function usage(message: string): AviaryError {
  return new AviaryError('AVIARY_USAGE', message);
}

/**
 * `value` as one POSIX shell word that the shell takes literally: inside single quotes no
 * character is special (POSIX.1-2017, Shell Command Language §2.2.2, "Single-Quotes"), and a
 * single quote, which cannot appear there, is closed, escaped and reopened (`'\''`). So no
 * value can end the word, expand a variable or run a command.
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The hook's text: a fixed header and one `exec` of `argv`, each word single-quoted. */
export function postReceiveScript(argv: readonly string[]): string {
  return [
    '#!/bin/sh',
    '# Installed by `aviary pipelines hook install`. Git runs it after each push with one',
    '# "<old> <new> <ref>" line per updated ref on stdin; aviary posts each to the webhook',
    '# receiver as a signed GitHub push. The secret stays in the file named below.',
    `exec ${argv.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}

/**
 * The default `repository.full_name`: the bare repository's parent directory and its own
 * name without `.git` (`/srv/git/acme/catalogdetail.git` → `acme/catalogdetail`), since the
 * receiver's sources name repositories `owner/name`.
 */
export function defaultRepository(repoDir: string): string {
  const dir = resolve(repoDir);
  const name = basename(dir).replace(/\.git$/, '');
  const owner = basename(dirname(dir)) || 'local';
  return `${owner}/${name}`;
}

/** Refuses control characters: the hook is one line, and a newline or NUL in a path is a mistake. */
function checkPrintable(option: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw usage(`${option}: contains a control character`);
  return value;
}

function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(checkPrintable('--url', value));
  } catch {
    throw usage(`--url ${JSON.stringify(value)}: expected an http(s) URL such as ${DEFAULT_HOOK_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usage(`--url ${JSON.stringify(value)}: expected an http(s) URL, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '')
    throw usage('--url: must not carry credentials; the delivery is authenticated by its signature');
  return url.href;
}

async function checkSecretFile(value: string): Promise<string> {
  const path = resolve(checkPrintable('--secret-file', value));
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile())
    throw usage(`--secret-file ${path}: no such file; write the webhook secret into it first`);
  try {
    await access(path, constants.R_OK);
  } catch {
    throw usage(`--secret-file ${path}: not readable`);
  }
  if (info.size === 0) throw usage(`--secret-file ${path}: the file is empty`);
  return path;
}

/** The bare repository's `post-receive` path (core.hooksPath respected), or a usage error. */
async function hookPathOf(repoDir: string): Promise<string> {
  const gitDir = resolve(checkPrintable('<bare-repo>', repoDir));
  const output = await runGit(['rev-parse', '--is-bare-repository', '--git-path', 'hooks/post-receive'], {
    home: tmpdir(),
    gitDir,
  }).catch((err: unknown) => {
    throw usage(`${gitDir}: not a git repository (${(err as Error).message})`);
  });
  const [bare = '', path = ''] = output.stdout.toString('utf8').split('\n');
  if (bare.trim() !== 'true')
    throw usage(`${gitDir}: not a bare repository; install the hook in the repository you push to`);
  return isAbsolute(path) ? path : resolve(gitDir, path);
}

/** Writes `text` to `path` atomically (a temporary file renamed over it), executable. */
async function writeExecutable(path: string, text: string): Promise<void> {
  const temporary = `${path}.aviary-${randomBytes(6).toString('hex')}`;
  try {
    const file = await open(temporary, 'wx', 0o755);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await chmod(temporary, 0o755);
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/**
 * Installs the `post-receive` hook in a bare repository. Refuses (`AVIARY_USAGE`) a path
 * that is not a bare repository, a bad URL or repository name, a missing or empty secret
 * file, and an existing hook unless `force`.
 */
export async function installPostReceiveHook(options: HookInstallOptions): Promise<InstalledHook> {
  const path = await hookPathOf(options.repo);
  const url = checkUrl(options.url ?? DEFAULT_HOOK_URL);
  const repository = checkPrintable('--repository', options.repository ?? defaultRepository(options.repo));
  if (!REPOSITORY.test(repository)) {
    const given = options.repository === undefined ? ' (the default, from the directory names)' : '';
    throw usage(
      `--repository ${JSON.stringify(repository)}${given}: expected owner/name, as the receiver's source names it; pass --repository owner/name`,
    );
  }
  const secretFile = await checkSecretFile(options.secretFile);
  const existing = await lstat(path).catch(() => undefined);
  if (existing !== undefined && options.force !== true)
    throw usage(`${path} already exists; pass --force to replace it`);
  const argv = [
    checkPrintable('node', options.node ?? process.execPath),
    checkPrintable('aviary', options.aviaryBin ?? AVIARY_BIN),
    'pipelines',
    'hook',
    'deliver',
    '--url',
    url,
    '--repository',
    repository,
    '--secret-file',
    secretFile,
  ];
  await mkdir(dirname(path), { recursive: true });
  await writeExecutable(path, postReceiveScript(argv));
  return { path, url, repository, secretFile, replaced: existing !== undefined };
}
