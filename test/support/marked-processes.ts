/**
 * Finding the processes a command started, by a variable in their environment
 * (`/proc/<pid>/environ`): `AVIARY_INSTANCE` for every replica of one process target,
 * `AVIARY_TEST_RUN` for the apps of a test file (ProcessLeakCheck). Used to prove that a
 * stopped command left nothing running.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isPidAlive, readProcessEnvironment } from '../../src/target/process/process-group.js';

/** Live processes whose environment has `name=value`, or `name` at all when `value` is omitted. */
export async function markedProcesses(name: string, value?: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const marked = (await readProcessEnvironment(pid))?.get(name);
    if (marked !== undefined && (value === undefined || marked === value) && (await isPidAlive(pid)))
      found.push(pid);
  }
  return found;
}

/** Live processes with `text` in their command line (`/proc/<pid>/cmdline`). */
export async function processesNaming(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(text) && (await isPidAlive(pid))) found.push(pid);
  }
  return found;
}

/** SIGKILLs `pids`, so one failed test does not leave processes to the next. */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

/**
 * The `AVIARY_INSTANCE` id, recorded pids and owner (the controller's pid) of the process
 * target in `targetDir`, once its registry exists.
 */
export async function registryOf(
  targetDir: string,
): Promise<{ instance: string; pids: number[]; owner: number } | undefined> {
  try {
    const document = JSON.parse(await readFile(join(targetDir, 'children.json'), 'utf8')) as {
      instance: string;
      owner: { pid: number };
      children: { pid: number }[];
    };
    const pids = document.children.map((child) => child.pid);
    return { instance: document.instance, pids, owner: document.owner.pid };
  } catch {
    return undefined;
  }
}
