/**
 * Process groups and `/proc` inspection on Linux. Each replica is started as the leader of
 * its own process group (`detached: true`, i.e. setsid), so signalling `-pgid` reaches the
 * replica and everything it spawned, and a stop leaves no grandchildren behind.
 * See proc(5) for the `/proc/<pid>/stat` and `/proc/<pid>/environ` formats.
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 25;
/** After SIGKILL the kernel tears a group down promptly; this bounds waiting on a stuck (D-state) process. */
const KILL_WAIT_MS = 5_000;

interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  /** Field 22: start time in clock ticks after boot; with the pid, it identifies a process across pid reuse. */
  readonly startTicks: string;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses; the fields after the last ')' are fixed.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const [state, , pgrp] = fields;
    const startTicks = fields[19];
    if (state === undefined || pgrp === undefined || startTicks === undefined) return undefined;
    return { state, pgrp: Number(pgrp), startTicks };
  } catch {
    return undefined;
  }
}

function isLiveState(state: string): boolean {
  // Z: zombie (exited, not yet reaped by its parent, which for orphans may be a non-reaping init); X: dead.
  return state !== 'Z' && state !== 'X';
}

/** True when `pid` exists and has not exited (a zombie counts as exited). */
export async function isPidAlive(pid: number): Promise<boolean> {
  const stat = await readStat(pid);
  return stat !== undefined && isLiveState(stat.state);
}

/** The start time of `pid` in clock ticks after boot, or null when it is gone. */
export async function processStartTicks(pid: number): Promise<string | null> {
  return (await readStat(pid))?.startTicks ?? null;
}

/** The initial environment of `pid` (needs the same user), or undefined when unreadable. */
export async function readProcessEnvironment(pid: number): Promise<ReadonlyMap<string, string> | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
    const env = new Map<string, string>();
    for (const entry of raw.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return env;
  } catch {
    return undefined;
  }
}

/** Pids of live (non-zombie) members of process group `pgid`. */
export async function liveGroupMembers(pgid: number): Promise<number[]> {
  // Fast path: no process at all in the group. Otherwise scan, since zombies also answer kill(0).
  if (!signalGroup(pgid, 0)) return [];
  const pids = (await readdir('/proc').catch(() => [] as string[])).map(Number).filter(Number.isInteger);
  const stats = await Promise.all(pids.map(async (pid) => ({ pid, stat: await readStat(pid) })));
  return stats
    .filter(({ stat }) => stat !== undefined && stat.pgrp === pgid && isLiveState(stat.state))
    .map(({ pid }) => pid);
}

/** Leaders of live process groups whose environment has `name=value`. */
export async function findMarkedGroupLeaders(name: string, value: string): Promise<number[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).map(Number).filter(Number.isInteger);
  const marked = await Promise.all(
    pids.map(async (pid) => {
      const stat = await readStat(pid);
      if (pid === process.pid || stat === undefined || stat.pgrp !== pid || !isLiveState(stat.state))
        return false;
      return (await readProcessEnvironment(pid))?.get(name) === value;
    }),
  );
  return pids.filter((_, index) => marked[index]);
}

/**
 * Resolves true once `pid` has exited, checking every `intervalMs`; false when `signal`
 * aborts first. For processes that are not our children, which emit no exit event.
 */
export async function waitForExit(pid: number, intervalMs: number, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    if (!(await isPidAlive(pid))) return !signal.aborted;
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch {
      return false;
    }
  }
  return false;
}

/** Sends `signal` to every process in group `pgid` (0 only checks); false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Stops a whole process group: SIGTERM, wait up to `graceMs` for every member to exit, then
 * SIGKILL. Aborting `signal` cuts the grace period short (it never leaves the group running).
 * Resolves true when the group is gone, false when something survived even SIGKILL.
 */
export async function terminateGroup(pgid: number, graceMs: number, signal?: AbortSignal): Promise<boolean> {
  if (!signalGroup(pgid, 'SIGTERM')) return (await liveGroupMembers(pgid)).length === 0;
  const graceEnds = Date.now() + graceMs;
  while (Date.now() < graceEnds && signal?.aborted !== true) {
    if ((await liveGroupMembers(pgid)).length === 0) return true;
    await sleep(POLL_MS);
  }
  signalGroup(pgid, 'SIGKILL');
  const killEnds = Date.now() + KILL_WAIT_MS;
  while (Date.now() < killEnds) {
    if ((await liveGroupMembers(pgid)).length === 0) return true;
    await sleep(POLL_MS);
  }
  return false;
}
