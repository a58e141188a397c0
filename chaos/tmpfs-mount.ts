/**
 * File systems a chaos run mounts for itself: a small tmpfs (to fill, or to remount
 * read-only), unmounted when the run ends, through `mount`/`umount` run with execFile and
 * an argument list (never a shell). Needs root or CAP_SYS_ADMIN; the errors are the
 * commands' own, word for word.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunScope } from './run-scope.js';

const run = promisify(execFile);

/** Runs `mount`/`umount` with `args`; the error names the command and what it printed. */
export async function mountCommand(command: 'mount' | 'umount', args: readonly string[]): Promise<void> {
  try {
    await run(command, args);
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')}: ${(stderr ?? '').trim() || message}`);
  }
}

/** Mounts a tmpfs of `size` at `dir` and, when the run ends, unmounts it (lazily if still busy). */
export async function mountTmpfs(scope: RunScope, dir: string, size: string): Promise<void> {
  await mountCommand('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  scope.defer(() => mountCommand('umount', [dir]).catch(() => mountCommand('umount', ['-l', dir])));
}

/** The error of mounting a tmpfs here (not root, no CAP_SYS_ADMIN), or undefined when it can be. */
export async function tmpfsMountRefusal(): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'aviary-chaos-mount-'));
  try {
    await mountCommand('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    await mountCommand('umount', [dir]);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Fills the file system of `path` with one file until ENOSPC; answers the bytes written. */
export async function fill(path: string): Promise<number> {
  const file = await open(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let bytes = 0;
  try {
    for (;;) bytes += (await file.write(chunk)).bytesWritten;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await file.close();
  }
  return bytes;
}
