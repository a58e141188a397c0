/**
 * Finding and killing what a run left running when the controller died. An executor reports
 * each process group it starts (the pgid and its leader's start time), and marks every
 * process it starts with `AVIARY_RUN_ID=<run id>` in its environment, which children inherit.
 * After a restart both are killed with SIGKILL: a recorded group only while its leader is
 * the same process (same start time in /proc/<pid>/stat, so a reused pid is left alone) or
 * gone with members left (a pgid is not reused while its group has members); a marked process
 * by its group. See proc(5) and kill(2).
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  liveGroupMembers,
  processStartTicks,
  readProcessEnvironment,
} from '../../target/process/process-group.js';
import type { RunRecord } from './run-record.js';

/** The environment variable that marks every process a run starts; its value is the run id. */
export const RUN_MARKER_VARIABLE = 'AVIARY_RUN_ID';

const KILL_WAIT_MS = 5_000;
const POLL_MS = 25;

/** A recorded group: `pgid`, and the start time its leader had when reported. */
export interface ReportedGroup {
  readonly pgid: number;
  readonly startTicks?: string | undefined;
}

/** The group `pgid` as an executor reports it: with its leader's start time when it is alive. */
export async function describeGroup(pgid: number): Promise<ReportedGroup> {
  const startTicks = await processStartTicks(pgid);
  return startTicks === null ? { pgid } : { pgid, startTicks };
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function groupOf(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pgrp = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]);
  return Number.isInteger(pgrp) && pgrp > 1 ? pgrp : undefined;
}

/** Process groups holding a live process marked with `runId` (never this process's own group). */
export async function markedGroups(runId: string): Promise<number[]> {
  const own = await groupOf(process.pid);
  const pids = (await readdir('/proc').catch(() => [] as string[])).map(Number).filter(Number.isInteger);
  const groups = new Set<number>();
  await Promise.all(
    pids.map(async (pid) => {
      if (pid === process.pid) return;
      const env = await readProcessEnvironment(pid);
      if (env?.get(RUN_MARKER_VARIABLE) !== runId) return;
      const pgid = await groupOf(pid);
      if (pgid !== undefined && pgid !== own) groups.add(pgid);
    }),
  );
  return [...groups];
}

async function isStillOurs(group: ReportedGroup): Promise<boolean> {
  if ((await liveGroupMembers(group.pgid)).length === 0) return false;
  const leaderTicks = await processStartTicks(group.pgid);
  return leaderTicks === null || group.startTicks === undefined || leaderTicks === group.startTicks;
}

/**
 * Kills every process group `run` left: the recorded ones still its own, and those of
 * processes marked with its id. Resolves the pgids signalled, once their members are gone
 * (or after 5 s, for a process stuck in the kernel).
 */
export async function killLeftoverGroups(run: RunRecord): Promise<number[]> {
  const recorded = await Promise.all(
    (run.processGroups ?? []).map(async (group) => ((await isStillOurs(group)) ? group.pgid : undefined)),
  );
  const pgids = [
    ...new Set([...recorded.filter((pgid) => pgid !== undefined), ...(await markedGroups(run.id))]),
  ];
  for (const pgid of pgids) killGroup(pgid);
  const deadline = Date.now() + KILL_WAIT_MS;
  for (const pgid of pgids) {
    while ((await liveGroupMembers(pgid)).length > 0 && Date.now() < deadline) await sleep(POLL_MS);
  }
  return pgids;
}
