/**
 * Which processes of a run are alive, by what they are: `aviary up` controllers, `aviary
 * proxy` data planes, and app replicas by their VERSION. Read from /proc (command line and
 * environment) for the processes carrying the run's marker, so an orphan or a duplicate is
 * seen whoever started it.
 */
import { readFile } from 'node:fs/promises';
import { readProcessEnvironment } from '../src/target/process/process-group.js';
import type { RunScope } from './run-scope.js';

/** Live processes of one run by kind. */
export interface Census {
  readonly controllers: number[];
  readonly proxies: number[];
  /** Replica pids by VERSION. */
  readonly replicas: Record<string, number[]>;
  readonly other: number[];
}

/** The live processes of `scope`'s run. */
export async function censusOf(scope: RunScope): Promise<Census> {
  const census: Census = { controllers: [], proxies: [], replicas: {}, other: [] };
  for (const pid of await scope.alive()) {
    const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const version = (await readProcessEnvironment(pid))?.get('VERSION');
    if (commandLine.some((arg) => arg.endsWith('aviary.js')) && commandLine.includes('up'))
      census.controllers.push(pid);
    else if (commandLine.some((arg) => arg.endsWith('aviary.js')) && commandLine.includes('proxy'))
      census.proxies.push(pid);
    else if (version !== undefined) (census.replicas[version] ??= []).push(pid);
    else census.other.push(pid);
  }
  return census;
}

/** `{"2": 1}`: how many replicas of each version are alive. */
export function replicaCounts(census: Census): Record<string, number> {
  return Object.fromEntries(Object.entries(census.replicas).map(([version, pids]) => [version, pids.length]));
}
