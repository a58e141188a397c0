/**
 * The record a supervised `aviary proxy` leaves in its state directory (`instance.json`):
 * its pid and start time, its admin API and its listeners. The proxy writes it once it
 * listens; a controller reads it to adopt the proxy after a restart, trusting the pid only
 * when the process's start time still matches, so a recycled pid is never taken for the
 * proxy (the check src/target/process/process-recovery.ts makes for replicas).
 * See docs/adr/0014-supervised-proxy-process.md.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** File name of the record inside the proxy's state directory. */
export const INSTANCE_FILE = 'instance.json';

const recordSchema = z.object({
  pid: z.number().int().positive(),
  /** Start time of the process in clock ticks after boot (field 22 of /proc/PID/stat). */
  startTicks: z.string().nullable(),
  /** `http://host:port` of the admin API. */
  admin: z.string(),
  /** Listener name → `http://host:port`. */
  listeners: z.record(z.string(), z.string()),
});

/** What a running supervised proxy recorded about itself. */
export type ProxyInstanceRecord = z.output<typeof recordSchema>;

/** Start time of `pid` in clock ticks after boot; null when it is gone or unreadable. */
export async function processStartTicks(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** The record in `stateDir`, or undefined when there is none or it is unreadable. */
export async function readInstanceRecord(stateDir: string): Promise<ProxyInstanceRecord | undefined> {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(await readFile(join(stateDir, INSTANCE_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** True when `record` describes a process that is alive now (same pid, same start time). */
export async function isRecordedProcessAlive(record: ProxyInstanceRecord): Promise<boolean> {
  const ticks = await processStartTicks(record.pid);
  return ticks !== null && (record.startTicks === null || ticks === record.startTicks);
}
