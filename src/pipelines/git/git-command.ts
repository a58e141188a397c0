/**
 * Running the `git` CLI: `execFile('git', argv)` and never a shell, in an environment built
 * from nothing but PATH. Git reads no system or global configuration (so no credential
 * helper, alias or hook a user configured runs), never prompts for a password, and finds its
 * repository only from `--git-dir`, never from an inherited GIT_DIR or GIT_WORK_TREE.
 * See git(1) "ENVIRONMENT VARIABLES" and git-config(1) "ENVIRONMENT".
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { GitError } from './git-error.js';

/** Output cap of one command; `showFile` reads whole files through it. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Where and how one git command runs. */
export interface GitInvocation {
  /** HOME for git: a directory Aviary owns (git reads nothing from it; see GIT_CONFIG_GLOBAL). */
  readonly home: string;
  /** The bare repository, passed as `--git-dir`. */
  readonly gitDir?: string;
  /** For error messages. */
  readonly source?: string;
  readonly ref?: string;
  readonly signal?: AbortSignal;
}

/** What a successful command printed. */
export interface GitOutput {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** The whole environment of a git child process. */
export function gitEnvironment(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    // ssh must not ask either (a host key or passphrase prompt would hang the fetch).
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
  };
}

/**
 * Runs `git <argv>`; resolves with its output, rejects with a {@link GitError} carrying
 * git's stderr. Exit code 1 of a `--quiet` query is reported by {@link runGitQuery} instead.
 */
export async function runGit(argv: readonly string[], invocation: GitInvocation): Promise<GitOutput> {
  const result = await execGit(argv, invocation);
  if (result.error === null) return { stdout: result.stdout, stderr: result.stderr };
  throw commandFailed(argv, invocation, result.error, result.stderr);
}

/**
 * Runs a query such as `rev-parse --verify --quiet` whose exit code 1 means "no such
 * object": resolves undefined then, and rejects on any other failure.
 */
export async function runGitQuery(
  argv: readonly string[],
  invocation: GitInvocation,
): Promise<GitOutput | undefined> {
  const result = await execGit(argv, invocation);
  if (result.error === null) return { stdout: result.stdout, stderr: result.stderr };
  if (result.error.code === 1 && result.stderr.trim() === '') return undefined;
  throw commandFailed(argv, invocation, result.error, result.stderr);
}

interface ExecResult {
  readonly error: ExecFileException | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function execGit(argv: readonly string[], invocation: GitInvocation): Promise<ExecResult> {
  const fullArgv = invocation.gitDir === undefined ? [...argv] : [`--git-dir=${invocation.gitDir}`, ...argv];
  return new Promise((resolve) => {
    execFile(
      'git',
      fullArgv,
      {
        env: gitEnvironment(invocation.home),
        cwd: invocation.home,
        encoding: 'buffer',
        maxBuffer: MAX_OUTPUT_BYTES,
        shell: false,
        windowsHide: true,
        ...(invocation.signal === undefined ? {} : { signal: invocation.signal }),
      },
      (error, stdout, stderr) => resolve({ error, stdout, stderr: stderr.toString('utf8') }),
    );
  });
}

function commandFailed(
  argv: readonly string[],
  invocation: GitInvocation,
  error: ExecFileException,
  stderr: string,
): GitError {
  const subject = [
    invocation.source === undefined ? undefined : `source ${invocation.source}`,
    invocation.ref === undefined ? undefined : `ref ${invocation.ref}`,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
  const how =
    error.name === 'AbortError'
      ? 'was cancelled'
      : typeof error.code === 'number'
        ? `exited with code ${error.code}`
        : error.signal
          ? `was killed by ${error.signal}`
          : `failed to start (${error.message})`;
  const safeStderr = withoutUrlCredentials(stderr);
  const said = safeStderr.trim() === '' ? '' : `: ${safeStderr.trim()}`;
  return new GitError(
    'AVIARY_GIT_COMMAND_FAILED',
    `${subject === '' ? '' : `${subject}: `}git ${argv[0]} ${how}${said}`,
    {
      ...(invocation.source === undefined ? {} : { source: invocation.source }),
      ...(invocation.ref === undefined ? {} : { ref: invocation.ref }),
      stderr: safeStderr,
      cause: error,
    },
  );
}

/** `text` with the user-info of every URL (`https://user:token@host`) replaced by `***`. */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}
